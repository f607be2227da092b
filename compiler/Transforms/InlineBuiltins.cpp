// tilefuse-inline-builtins: inlines built-in function calls into epilogues and
// erases the functions that are then unused (see Passes.td).
#include "compiler/Transforms/Passes.h"
#include "mlir/Dialect/Func/Extensions/InlinerExtension.h"
#include "mlir/IR/SymbolTable.h"
#include "mlir/Transforms/InliningUtils.h"

namespace tilefuse::compiler {
#define GEN_PASS_DEF_INLINEBUILTINS
#include "compiler/Transforms/Passes.h.inc"
}  // namespace tilefuse::compiler

using namespace mlir;

namespace tilefuse::compiler {
namespace {

/// Built-ins form a call DAG; deeper nesting than this means recursion.
constexpr int kMaxInliningRounds = 64;

struct InlineBuiltinsPass : public impl::InlineBuiltinsBase<InlineBuiltinsPass> {
  void getDependentDialects(DialectRegistry& registry) const override {
    InlineBuiltinsBase::getDependentDialects(registry);
    // func.return is handled by the func dialect's inliner interface.
    func::registerInlinerExtension(registry);
  }

  void runOnOperation() override {
    ModuleOp module = getOperation();
    SymbolTable symbols(module);
    InlinerInterface interface(&getContext());

    // Each round inlines the calls currently in epilogues; a built-in that
    // calls another leaves new calls for the next round.
    for (int round = 0;; ++round) {
      SmallVector<func::CallOp> calls;
      module.walk([&](ir::MatmulOp matmul) {
        matmul.walk([&](func::CallOp call) { calls.push_back(call); });
      });
      if (calls.empty()) break;
      if (round == kMaxInliningRounds) {
        calls.front().emitError("built-in calls nest deeper than ")
            << kMaxInliningRounds << " levels; is a built-in recursive?";
        return signalPassFailure();
      }
      for (func::CallOp call : calls)
        if (failed(inlineOne(call, symbols, interface))) return signalPassFailure();
    }
    eraseUnusedPrivateFunctions(module);
  }

  LogicalResult inlineOne(func::CallOp call, SymbolTable& symbols, InlinerInterface& interface) {
    auto callee = symbols.lookup<func::FuncOp>(call.getCallee());
    if (!callee)
      return call.emitError("call to unknown function @")
             << call.getCallee() << "; epilogues may only call built-ins defined in the module";
    if (callee.isExternal())
      return call.emitError("cannot inline @")
             << call.getCallee() << ": it has no body (declare built-ins with their definition)";
    if (failed(inlineCall(interface, cast<CallOpInterface>(call.getOperation()),
                          cast<CallableOpInterface>(callee.getOperation()), &callee.getBody())))
      return call.emitError("failed to inline @") << call.getCallee();
    call.erase();
    return success();
  }

  /// Symbol-DCE restricted to private functions: erasing a caller may leave
  /// its callees unused, so repeat until nothing changes.
  static void eraseUnusedPrivateFunctions(ModuleOp module) {
    bool erased = true;
    while (erased) {
      erased = false;
      for (func::FuncOp fn : llvm::make_early_inc_range(module.getOps<func::FuncOp>())) {
        if (fn.isPrivate() && SymbolTable::symbolKnownUseEmpty(fn, module)) {
          fn.erase();
          erased = true;
        }
      }
    }
  }
};

}  // namespace
}  // namespace tilefuse::compiler
