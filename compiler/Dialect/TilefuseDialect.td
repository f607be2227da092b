//===- TilefuseDialect.td - the tilefuse dialect -----------*- tablegen -*-===//
//
// A fused GEMM kernel is one `tilefuse.matmul` op: attributes say what the
// kernel reads and writes, a region says what the epilogue computes from the
// accumulator(s). Everything the CUDA emitter and the CPU evaluator need is in
// the IR; nothing about tiling is decided at run time outside it.
//
//===----------------------------------------------------------------------===//

#ifndef TILEFUSE_DIALECT_TD
#define TILEFUSE_DIALECT_TD

include "mlir/IR/OpBase.td"
include "mlir/IR/AttrTypeBase.td"

def Tilefuse_Dialect : Dialect {
  let name = "tilefuse";
  let cppNamespace = "::tilefuse::ir";
  let summary = "Fused GEMM + activation-epilogue kernels";
  let description = [{
    The tilefuse dialect describes tensor-core GEMM kernels whose epilogue is
    an arbitrary element-wise function of the fp32 accumulator, written with
    `arith` and `math` ops inside the `tilefuse.matmul` region.
  }];
  let useDefaultAttributePrinterParser = 1;
  let dependentDialects = ["::mlir::arith::ArithDialect", "::mlir::math::MathDialect"];
}

class Tilefuse_Attr<string name, string attrMnemonic, list<Trait> traits = []>
    : AttrDef<Tilefuse_Dialect, name, traits> {
  let mnemonic = attrMnemonic;
}

def Tilefuse_TileConfigAttr : Tilefuse_Attr<"TileConfig", "tile"> {
  let summary = "Tiling of a GEMM kernel";
  let description = [{
    Block tile (block_m × block_n × block_k), warp tile (warp_m × warp_n),
    pipeline depth (stages), accumulator-fragment vector width the epilogue is
    vectorized to, and the threadblock rasterization group (group_m rows of
    blocks walk the N dimension together for L2 reuse).

    Example: `#tilefuse.tile<block_m = 128, block_n = 128, block_k = 32,
    warp_m = 64, warp_n = 64, stages = 3, vector_width = 2, group_m = 8>`
  }];
  let parameters = (ins "int64_t":$block_m, "int64_t":$block_n, "int64_t":$block_k,
                        "int64_t":$warp_m, "int64_t":$warp_n, "int64_t":$stages,
                        "int64_t":$vector_width, "int64_t":$group_m);
  let assemblyFormat = "`<` struct(params) `>`";
  let genVerifyDecl = 1;
}

#endif // TILEFUSE_DIALECT_TD
