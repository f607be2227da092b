// tilefuse dialect: C++ declarations generated from TilefuseDialect.td and
// TilefuseOps.td.
#pragma once

#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Dialect.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/IR/OpImplementation.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#include "compiler/Dialect/TilefuseDialect.h.inc"

#define GET_ATTRDEF_CLASSES
#include "compiler/Dialect/TilefuseAttrs.h.inc"

#define GET_OP_CLASSES
#include "compiler/Dialect/TilefuseOps.h.inc"
