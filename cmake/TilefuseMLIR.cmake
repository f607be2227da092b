# Static MLIR/LLVM linking.
#
# Debian's MLIR static archives list the shared libLLVM.so as their
# dependency (LLVM_LINK_LLVM_DYLIB=ON). To get a self-contained binary we use
# the imported targets only for include paths and link the archives by path,
# inside one --start-group, together with LLVM's static component libraries.

set(TILEFUSE_LLVM_LIBDIR "${LLVM_LIBRARY_DIR}")
include_directories(SYSTEM ${LLVM_INCLUDE_DIRS} ${MLIR_INCLUDE_DIRS})
add_definitions(${LLVM_DEFINITIONS})

list(APPEND CMAKE_MODULE_PATH "${MLIR_CMAKE_DIR}" "${LLVM_CMAKE_DIR}")
include(TableGen)
include(AddLLVM)
include(AddMLIR)

# MLIR archives tilefuse uses (order does not matter: they are grouped).
set(TILEFUSE_MLIR_ARCHIVES
  MLIRIR MLIRSupport MLIRParser MLIRAsmParser MLIRBytecodeReader MLIRBytecodeWriter
  MLIRPass MLIRTransforms MLIRTransformUtils MLIRRewrite MLIRPDLToPDLInterp MLIRRewritePDL MLIRBytecodeOpInterface
  MLIRPDLDialect MLIRPDLInterpDialect MLIRAnalysis MLIRLoopLikeInterface
  MLIRCallInterfaces MLIRControlFlowInterfaces MLIRSideEffectInterfaces
  MLIRInferTypeOpInterface MLIRInferIntRangeInterface MLIRInferIntRangeCommon
  MLIRFunctionInterfaces MLIRCastInterfaces MLIRViewLikeInterface MLIRDataLayoutInterfaces
  MLIRMemorySlotInterfaces MLIRDestinationStyleOpInterface MLIRVectorInterfaces
  MLIRShapedOpInterfaces MLIRValueBoundsOpInterface MLIRParallelCombiningOpInterface
  MLIRSubsetOpInterface MLIRMaskableOpInterface MLIRMaskingOpInterface
  MLIRRuntimeVerifiableOpInterface MLIRCopyOpInterface MLIRTilingInterface
  MLIRDialect MLIRDialectUtils MLIRUBDialect MLIRPresburger
  MLIRArithDialect MLIRArithUtils MLIRArithTransforms MLIRMathDialect MLIRFuncDialect
  MLIRSCFDialect MLIRControlFlowDialect MLIRVectorDialect MLIRAffineDialect MLIRMemRefDialect
  MLIRTensorDialect MLIRComplexDialect MLIRBufferizationDialect MLIRSparseTensorDialect
  MLIRLLVMDialect MLIRLLVMIRTransforms MLIRMathToLLVM MLIRMathToLibm MLIRArithToLLVM
  MLIRFuncToLLVM MLIRSCFToControlFlow MLIRControlFlowToLLVM MLIRMemRefToLLVM
  MLIRVectorToLLVM MLIRVectorToSCF MLIRIndexToLLVM MLIRIndexDialect MLIRLLVMCommonConversion
  MLIRReconcileUnrealizedCasts MLIRTargetLLVMIRExport MLIRTranslateLib
  MLIRBuiltinToLLVMIRTranslation MLIRLLVMToLLVMIRTranslation MLIRToLLVMIRTranslationRegistration
  MLIRExecutionEngine MLIRExecutionEngineUtils MLIRDLTIDialect MLIRAMXDialect MLIRArmNeonDialect
  MLIRArmSVEDialect MLIRX86VectorDialect MLIRArmSMEDialect MLIRArmSVETransforms
  MLIRAMXTransforms MLIRX86VectorTransforms MLIRVectorTransforms MLIRVectorUtils
  MLIRAffineUtils MLIRAffineAnalysis MLIRSCFUtils MLIRLinalgDialect MLIRAffineTransforms
  MLIRMemRefUtils MLIRTensorUtils MLIRArithValueBoundsOpInterfaceImpl MLIRMathTransforms
  MLIROptLib MLIRDebug MLIRObservers MLIRIRDL MLIRPluginsLib MLIRLspServerSupportLib
  MLIRFuncTransforms MLIRBufferizationTransforms MLIRSubsetOpInterface MLIRMathToROCDL
  MLIRFuncInlinerExtension MLIRArithAttrToLLVMConversion MLIRSCFTransforms
)

set(TILEFUSE_MLIR_ARCHIVE_PATHS "")
foreach(lib IN LISTS TILEFUSE_MLIR_ARCHIVES)
  set(path "${TILEFUSE_LLVM_LIBDIR}/lib${lib}.a")
  if(EXISTS "${path}")
    list(APPEND TILEFUSE_MLIR_ARCHIVE_PATHS "${path}")
  endif()
endforeach()

llvm_map_components_to_libnames(TILEFUSE_LLVM_STATIC_LIBS
  core support orcjit native nativecodegen passes ipo instcombine scalaropts
  transformutils analysis target mc bitreader bitwriter irreader asmparser
  frontendopenmp frontendhlsl linker objcarcopts vectorize aggressiveinstcombine
  coroutines instrumentation cfguard globalisel perfjitevents)

# Links MLIR + LLVM statically into `target`.
function(tilefuse_link_mlir target)
  target_link_libraries(${target} PRIVATE
    -Wl,--start-group ${TILEFUSE_MLIR_ARCHIVE_PATHS} ${TILEFUSE_LLVM_STATIC_LIBS} -Wl,--end-group
    z zstd Threads::Threads ${CMAKE_DL_LIBS} m)
endfunction()
