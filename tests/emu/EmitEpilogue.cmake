# Build-time step of tests/emu: writes the CUDA epilogue that `tilefuse emit`
# generates for one activation to OUTPUT (so the emulator runs the real
# generated code). Arguments: CLI, EXPR, MODE, DTYPE, OUT_DTYPE, OUTPUT, GRAD
# ("--grad" for the backward epilogue, else empty), OPERANDS (the
# "--row NAME --col NAME" declarations of row/column inputs, or empty).
separate_arguments(operand_flags UNIX_COMMAND "${OPERANDS}")

# The CLI makes an MLIRContext: in a sanitized build (preset "sanitize") LLVM's
# inline BumpPtrAllocator poisons slabs that the uninstrumented MLIR library
# never unpoisons, a false use-after-poison. The caller's options are kept;
# without ASan the variable is ignored.
set(ENV{ASAN_OPTIONS} "$ENV{ASAN_OPTIONS}:allow_user_poisoning=0")
execute_process(
  COMMAND ${CLI} emit --stage cuda --expr ${EXPR} --mode ${MODE} --dtype ${DTYPE} --out-dtype ${OUT_DTYPE} ${GRAD} ${operand_flags}
  OUTPUT_FILE ${OUTPUT}.tmp
  ERROR_VARIABLE errors
  RESULT_VARIABLE status)
if(NOT status EQUAL 0)
  file(REMOVE ${OUTPUT}.tmp)
  message(FATAL_ERROR "tilefuse emit --expr '${EXPR}' failed (${status}): ${errors}")
endif()
# Replaced only when the text changed: the custom command is `restat`, so a
# relinked CLI that emits the same epilogue recompiles no variant.
execute_process(COMMAND ${CMAKE_COMMAND} -E copy_if_different ${OUTPUT}.tmp ${OUTPUT})
file(REMOVE ${OUTPUT}.tmp)
