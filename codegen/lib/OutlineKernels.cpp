//===- OutlineKernels.cpp - kernel ops into kernel functions on memrefs ---===//
//
// Part of msa. Licensed under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#include "msa/Codegen/Passes.h"

#include "msa/Codegen/KernelInterface.h"
#include "msa/Dialect/MsaOps.h"

#include "mlir/IR/IRMapping.h"
#include "mlir/IR/SymbolTable.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/Support/raw_ostream.h"

namespace msa {
#define GEN_PASS_DEF_MSAOUTLINEKERNELSPASS
#include "msa/Codegen/Passes.h.inc"
} // namespace msa

using namespace mlir;
using namespace msa;
using namespace msa::codegen;

namespace {

MemRefType memrefFor(Type t) {
  auto tensor = cast<RankedTensorType>(t);
  return MemRefType::get(tensor.getShape(), tensor.getElementType());
}

/// Identical ops (name, attributes, types) share a kernel: a model's layers
/// differ only in their operands.
std::string signatureKey(Operation *op) {
  std::string key;
  llvm::raw_string_ostream os(key);
  os << op->getName() << "|" << op->getPropertiesAsAttribute() << "|"
     << op->getDiscardableAttrDictionary() << "|";
  for (Type t : op->getOperandTypes())
    os << t << ",";
  os << "->";
  for (Type t : op->getResultTypes())
    os << t << ",";
  return key;
}

/// "msa.rms_norm" -> "rms_norm", "arith.addf" -> "arith_addf".
std::string baseName(Operation *op) {
  std::string name = op->getName().getStringRef().str();
  if (name.rfind("msa.", 0) == 0)
    name = name.substr(4);
  for (char &c : name)
    if (c == '.')
      c = '_';
  return name;
}

func::FuncOp createKernel(ModuleOp module, Operation *op, unsigned &index) {
  OpBuilder b = OpBuilder::atBlockEnd(module.getBody());
  Location loc = op->getLoc();
  SmallVector<Type> args;
  for (Type t : op->getOperandTypes())
    args.push_back(memrefFor(t));
  for (Type t : op->getResultTypes())
    args.push_back(memrefFor(t));
  args.push_back(b.getIndexType()); // begin
  args.push_back(b.getIndexType()); // end

  // Kernels of an earlier run may already use a name: take the next free.
  std::string name;
  do
    name = "k" + std::to_string(index++) + "_" + baseName(op);
  while (module.lookupSymbol(name));
  auto fn = func::FuncOp::create(b, loc, name, b.getFunctionType(args, {}));
  fn->setAttr("msa.kernel", b.getUnitAttr());
  fn->setAttr("msa.op", b.getStringAttr(op->getName().getStringRef()));
  SmallVector<Attribute> grid;
  for (GridTerm t : gridFor(op))
    grid.push_back(b.getDenseI64ArrayAttr({t.arg, t.dim, t.add}));
  fn->setAttr("msa.grid", b.getArrayAttr(grid));
  fn->setAttr("llvm.emit_c_interface", b.getUnitAttr());

  Block *body = fn.addEntryBlock();
  b.setInsertionPointToStart(body);
  IRMapping map;
  for (auto [i, operand] : llvm::enumerate(op->getOperands())) {
    auto t = bufferization::ToTensorOp::create(
        b, loc, operand.getType(), body->getArgument(i), /*restrict=*/true);
    map.map(operand, t.getResult());
  }
  Operation *clone = b.clone(*op, map);
  for (auto [i, result] : llvm::enumerate(clone->getResults())) {
    Value dest = body->getArgument(op->getNumOperands() + i);
    bufferization::MaterializeInDestinationOp::create(
        b, loc, TypeRange{}, result, dest, /*restrict=*/true,
        /*writable=*/true);
  }
  func::ReturnOp::create(b, loc);
  return fn;
}

struct MsaOutlineKernelsPass
    : msa::impl::MsaOutlineKernelsPassBase<MsaOutlineKernelsPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    SmallVector<func::FuncOp> entries;
    for (auto fn : module.getOps<func::FuncOp>())
      if (!fn->hasAttr("msa.kernel") && !fn.isDeclaration())
        entries.push_back(fn);

    llvm::StringMap<func::FuncOp> kernels;
    unsigned counter = 0;
    for (func::FuncOp fn : entries) {
      SmallVector<Operation *> ops;
      fn.walk([&](Operation *op) {
        if (isKernelOp(op))
          ops.push_back(op);
      });
      for (Operation *op : ops) {
        if (isa<GatherChunksOp>(op)) {
          op->emitOpError()
              << "has a data-dependent result size and must be fused into "
                 "attention (msa-fuse-assembly) before outlining";
          return signalPassFailure();
        }
        std::string key = signatureKey(op);
        func::FuncOp &kernel = kernels[key];
        if (!kernel)
          kernel = createKernel(module, op, counter);
        OpBuilder b(op);
        auto dispatch = DispatchOp::create(b, op->getLoc(),
                                           op->getResultTypes(),
                                           kernel.getSymName(),
                                           op->getOperands());
        op->replaceAllUsesWith(dispatch.getResults());
        op->erase();
      }
    }
  }
};

} // namespace
