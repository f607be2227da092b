// tilefuse-select-tile-config: gives every matmul without a `tile` the
// target's default tile for its shape hint (see Passes.td).
#include "compiler/Target/TargetInfo.h"
#include "compiler/Target/TilePruning.h"
#include "compiler/Transforms/Passes.h"

namespace tilefuse::compiler {
#define GEN_PASS_DEF_SELECTTILECONFIG
#include "compiler/Transforms/Passes.h.inc"
}  // namespace tilefuse::compiler

using namespace mlir;

namespace tilefuse::compiler {
namespace {

ir::TileConfigAttr toAttr(MLIRContext* context, const TileConfig& t) {
  return ir::TileConfigAttr::get(context, t.block_m, t.block_n, t.block_k, t.warp_m, t.warp_n,
                                 t.stages, t.vector_width, t.group_m);
}

struct SelectTileConfigPass : public impl::SelectTileConfigBase<SelectTileConfigPass> {
  using SelectTileConfigBase::SelectTileConfigBase;

  void runOnOperation() override {
    Expected<Arch> parsed = parse_arch(arch.getValue());
    if (!parsed) {
      getOperation().emitError("tilefuse-select-tile-config: ") << parsed.error().message;
      return signalPassFailure();
    }
    std::unique_ptr<TargetInfo> target = make_target(*parsed);
    getOperation().walk([&](ir::MatmulOp matmul) {
      if (matmul.getTile()) return;  // forced by the caller (autotuner); keep it
      long long m = 0, n = 0, k = 0;
      if (auto hint = matmul.getShapeHint(); hint && hint->size() == 3) {
        m = (*hint)[0];
        n = (*hint)[1];
        k = (*hint)[2];
      }
      // A gated kernel holds two accumulator sets: shrink the default so it
      // does not spill (TilePruning.h).
      TileConfig tile = target->default_tile(m, n, k);
      if (matmul.getGated()) tile = fit_tile_to_gated(*target, tile);
      matmul.setTileAttr(toAttr(&getContext(), tile));
    });
  }
};

}  // namespace
}  // namespace tilefuse::compiler
