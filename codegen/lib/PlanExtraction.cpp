//===- PlanExtraction.cpp - execution plans from outlined msa IR ----------===//
//
// Part of msa. Licensed under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#include "msa/Codegen/PlanExtraction.h"

#include "msa/Codegen/KernelInterface.h"
#include "msa/Dialect/MsaOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Matchers.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using msa::runtime::JsonValue;

namespace msa::codegen {

namespace {

/// A symbolic dimension: an integer, or a symbol plus a constant. Symbols
/// starting with '?' are data-dependent sizes not yet named.
struct Dim {
  int64_t value = 0;
  std::string sym;

  static Dim constant(int64_t v) { return {v, ""}; }
  static Dim symbol(std::string s, int64_t add = 0) { return {add, s}; }
  bool isConstant() const { return sym.empty(); }
  bool isPlaceholder() const { return !sym.empty() && sym[0] == '?'; }
  Dim plus(int64_t c) const { return {value + c, sym}; }
  bool operator==(const Dim &o) const { return value == o.value && sym == o.sym; }

  JsonValue toJson() const {
    if (isConstant())
      return JsonValue(value);
    if (value == 0)
      return JsonValue(sym);
    JsonValue a = JsonValue::array();
    a.push(sym);
    a.push(value);
    return a;
  }
};

using Shape = SmallVector<Dim>;

std::string dtypeOf(Type elem) {
  if (elem.isBF16())
    return "bf16";
  if (elem.isF16())
    return "f16";
  if (elem.isF32())
    return "f32";
  if (elem.isInteger(32))
    return "i32";
  if (elem.isInteger(1) || elem.isInteger(8))
    return "i8";
  return "";
}

class EntryExtractor {
public:
  EntryExtractor(func::FuncOp fn, SymbolTable &symbols)
      : fn(fn), symbolTable(symbols) {}

  FailureOr<JsonValue> run();

private:
  /// The buffer of `v`, created on first use with `shape`.
  int64_t bufferFor(Value v, Shape shape, StringRef weight = {});
  /// The shape of `v`: static dims from its type, dynamic ones from `dims`.
  Shape typedShape(Value v, const Shape &dims);
  Dim freshPlaceholder() { return Dim::symbol("?" + std::to_string(next++)); }
  FailureOr<Dim> evalIndex(Value v);
  FailureOr<SmallVector<Shape>> resultShapes(Operation *kernelOp,
                                             ArrayRef<Shape> operands,
                                             Operation *at);
  LogicalResult visit(Operation *op);

  func::FuncOp fn;
  SymbolTable &symbolTable;
  DenseMap<Value, int64_t> buffers;
  DenseMap<int64_t, Shape> shapes;
  DenseMap<int64_t, Operation *> producers;
  SmallVector<std::pair<int64_t, std::string>> weights;
  DenseMap<int64_t, std::string> dtypes;
  std::vector<std::string> symbols;
  JsonValue inputs = JsonValue::array(), outputs = JsonValue::array();
  JsonValue steps = JsonValue::array();
  int64_t next = 0;
};

int64_t EntryExtractor::bufferFor(Value v, Shape shape, StringRef weight) {
  auto it = buffers.find(v);
  if (it != buffers.end())
    return it->second;
  int64_t id = static_cast<int64_t>(buffers.size());
  buffers[v] = id;
  shapes[id] = std::move(shape);
  dtypes[id] = dtypeOf(cast<RankedTensorType>(v.getType()).getElementType());
  if (!weight.empty())
    weights.push_back({id, weight.str()});
  if (Operation *def = v.getDefiningOp())
    producers[id] = def;
  return id;
}

Shape EntryExtractor::typedShape(Value v, const Shape &dims) {
  auto t = cast<RankedTensorType>(v.getType());
  Shape s;
  for (int64_t d = 0; d < t.getRank(); ++d) {
    if (!t.isDynamicDim(d))
      s.push_back(Dim::constant(t.getDimSize(d)));
    else if (d < static_cast<int64_t>(dims.size()))
      s.push_back(dims[d]);
    else
      s.push_back(freshPlaceholder());
  }
  return s;
}

FailureOr<Dim> EntryExtractor::evalIndex(Value v) {
  if (std::optional<int64_t> c = getConstantIntValue(v))
    return Dim::constant(*c);
  if (auto dim = v.getDefiningOp<tensor::DimOp>()) {
    std::optional<int64_t> d = dim.getConstantIndex();
    auto it = buffers.find(dim.getSource());
    if (!d || it == buffers.end())
      return failure();
    return shapes[it->second][*d];
  }
  auto binary = [&](Value lhs, Value rhs, int64_t sign) -> FailureOr<Dim> {
    FailureOr<Dim> l = evalIndex(lhs);
    std::optional<int64_t> r = getConstantIntValue(rhs);
    if (failed(l) || !r)
      return failure();
    return l->plus(sign * *r);
  };
  if (auto sub = v.getDefiningOp<arith::SubIOp>())
    return binary(sub.getLhs(), sub.getRhs(), -1);
  if (auto add = v.getDefiningOp<arith::AddIOp>())
    return binary(add.getLhs(), add.getRhs(), 1);
  return failure();
}

FailureOr<SmallVector<Shape>>
EntryExtractor::resultShapes(Operation *kernelOp, ArrayRef<Shape> in,
                             Operation *at) {
  auto same = [&](unsigned i) { return SmallVector<Shape>{in[i]}; };
  auto pooled = [&](Dim heads, Dim dim, Dim chunks) {
    return Shape{heads, chunks, dim};
  };
  return llvm::TypeSwitch<Operation *, FailureOr<SmallVector<Shape>>>(kernelOp)
      .Case<RmsNormOp, RopeOp, SwiGluOp, arith::AddFOp, arith::SubFOp,
            arith::MulFOp, MemoryAttentionOp, SparseAttentionOp,
            DocAttentionOp>([&](Operation *) { return same(0); })
      .Case<EncodeDocsOp>([&](EncodeDocsOp o) -> FailureOr<SmallVector<Shape>> {
        SmallVector<Shape> r{in[0]};
        if (o.getEmitRotatedKey())
          r.push_back(in[1]);
        if (o.getChunkSizeAttr()) {
          // K̄, V̄ and K̄ᴿ of one kernel share the chunk count.
          Dim chunks = freshPlaceholder();
          unsigned n = o.getRouterKey() ? 3 : 2;
          for (unsigned i = 0; i < n; ++i)
            r.push_back(pooled(in[1][1], in[1][2], chunks));
        }
        return r;
      })
      .Case<ChunkPoolOp>([&](ChunkPoolOp) -> FailureOr<SmallVector<Shape>> {
        return SmallVector<Shape>{
            pooled(in[0][1], in[0][2], freshPlaceholder())};
      })
      .Case<ChunkOffsetsOp>([&](Operation *) { return same(0); })
      .Case<EmbeddingOp>([&](EmbeddingOp) -> FailureOr<SmallVector<Shape>> {
        return SmallVector<Shape>{Shape{in[1][0], in[0][1]}};
      })
      .Case<RouteScoresOp>([&](RouteScoresOp) -> FailureOr<SmallVector<Shape>> {
        return SmallVector<Shape>{Shape{in[1][1]}};
      })
      .Case<DocReduceOp>([&](DocReduceOp) -> FailureOr<SmallVector<Shape>> {
        return SmallVector<Shape>{Shape{in[1][0].plus(-1)}};
      })
      .Case<TopKOp, RouteTopKOp, TopKMergeOp>(
          [&](Operation *o) -> FailureOr<SmallVector<Shape>> {
            SmallVector<Shape> r;
            for (Value res : o->getResults())
              r.push_back(typedShape(res, {}));
            return r;
          })
      .Default([&](Operation *o) -> FailureOr<SmallVector<Shape>> {
        return at->emitOpError()
               << "dispatches '" << o->getName()
               << "', whose result shapes plan extraction does not know";
      });
}

LogicalResult EntryExtractor::visit(Operation *op) {
  auto shapeOf = [&](Value v) -> FailureOr<Shape> {
    auto it = buffers.find(v);
    if (it == buffers.end())
      return op->emitOpError() << "uses a value that has no buffer";
    return shapes[it->second];
  };

  if (auto dispatch = dyn_cast<DispatchOp>(op)) {
    auto kernel = symbolTable.lookup<func::FuncOp>(dispatch.getCallee());
    Operation *kernelOp = nullptr;
    kernel.walk([&](Operation *inner) {
      if (inner->getParentOp() == kernel.getOperation() &&
          !isa<bufferization::ToTensorOp,
               bufferization::MaterializeInDestinationOp, func::ReturnOp>(
              inner))
        kernelOp = inner;
    });
    if (!kernelOp)
      return op->emitOpError() << "dispatches '" << dispatch.getCallee()
                               << "', which is already lowered; extract plans "
                                  "before msa-lower-kernels-to-loops";
    SmallVector<Shape> in;
    JsonValue args = JsonValue::array();
    for (Value v : dispatch.getOperands()) {
      FailureOr<Shape> s = shapeOf(v);
      if (failed(s))
        return failure();
      in.push_back(*s);
      args.push(buffers[v]);
    }
    FailureOr<SmallVector<Shape>> out = resultShapes(kernelOp, in, op);
    if (failed(out))
      return failure();
    for (auto [r, s] : llvm::zip(dispatch.getResults(), *out))
      args.push(bufferFor(r, typedShape(r, s)));
    JsonValue step = JsonValue::object();
    step.set("op", "launch");
    step.set("kernel", dispatch.getCallee().str());
    step.set("args", std::move(args));
    steps.push(std::move(step));
    return success();
  }

  if (auto linear = dyn_cast<LinearOp>(op)) {
    FailureOr<Shape> a = shapeOf(linear.getInput());
    FailureOr<Shape> b = shapeOf(linear.getWeight());
    if (failed(a) || failed(b))
      return failure();
    int64_t c = bufferFor(linear.getResult(),
                          typedShape(linear.getResult(), {(*a)[0], (*b)[0]}));
    JsonValue step = JsonValue::object();
    step.set("op", "gemm");
    step.set("a", buffers[linear.getInput()]);
    step.set("b", buffers[linear.getWeight()]);
    step.set("c", c);
    steps.push(std::move(step));
    return success();
  }

  if (isa<tensor::ExpandShapeOp, tensor::CollapseShapeOp>(op)) {
    Value src = op->getOperand(0), dst = op->getResult(0);
    FailureOr<Shape> in = shapeOf(src);
    if (failed(in))
      return failure();
    SmallVector<ReassociationIndices> groups =
        isa<tensor::ExpandShapeOp>(op)
            ? cast<tensor::ExpandShapeOp>(op).getReassociationIndices()
            : cast<tensor::CollapseShapeOp>(op).getReassociationIndices();
    auto dstType = cast<RankedTensorType>(dst.getType());
    auto srcType = cast<RankedTensorType>(src.getType());
    Shape out(dstType.getRank(), Dim::constant(0));
    bool expand = isa<tensor::ExpandShapeOp>(op);
    // A dynamic dimension may only map to one dynamic dimension whose group
    // is otherwise all ones: then they are the same size.
    for (auto [g, group] : llvm::enumerate(groups)) {
      auto staticProduct = [&](RankedTensorType t) {
        int64_t p = 1, dynamic = -1;
        for (int64_t d : group) {
          if (t.isDynamicDim(d))
            dynamic = d;
          else
            p *= t.getDimSize(d);
        }
        return std::make_pair(p, dynamic);
      };
      RankedTensorType many = expand ? dstType : srcType;
      auto [product, dynamic] = staticProduct(many);
      for (int64_t d : group)
        if (expand && !dstType.isDynamicDim(d))
          out[d] = Dim::constant(dstType.getDimSize(d));
      if (expand) {
        if (dynamic >= 0) {
          if (product != 1)
            return op->emitOpError()
                   << "splits a dynamic dimension with other non-unit "
                      "dimensions; plans cannot express that size";
          out[dynamic] = (*in)[g];
        }
      } else {
        Dim d = Dim::constant(product);
        if (dynamic >= 0) {
          if (product != 1)
            return op->emitOpError()
                   << "merges a dynamic dimension with non-unit ones; plans "
                      "cannot express that size";
          d = (*in)[dynamic];
        }
        out[g] = d;
      }
    }
    int64_t s = buffers[src];
    int64_t id = bufferFor(dst, typedShape(dst, out));
    JsonValue step = JsonValue::object();
    step.set("op", "view");
    step.set("src", s);
    step.set("dst", id);
    steps.push(std::move(step));
    return success();
  }

  if (auto slice = dyn_cast<tensor::ExtractSliceOp>(op)) {
    FailureOr<Shape> in = shapeOf(slice.getSource());
    if (failed(in))
      return failure();
    if (!slice.hasUnitStride())
      return op->emitOpError() << "is not a unit-stride row slice";
    SmallVector<OpFoldResult> offsets = slice.getMixedOffsets();
    SmallVector<OpFoldResult> sizes = slice.getMixedSizes();
    auto srcType = slice.getSourceType();
    for (int64_t d = 1; d < srcType.getRank(); ++d)
      if (getConstantIntValue(offsets[d]) != 0 ||
          (srcType.isDynamicDim(d) ? false
                                   : getConstantIntValue(sizes[d]) !=
                                         srcType.getDimSize(d)))
        return op->emitOpError()
               << "slices a dimension other than the first; plans slice whole "
                  "rows only";
    if (slice.getResultType().getRank() != srcType.getRank())
      return op->emitOpError() << "drops dimensions; plans slice whole rows";
    FailureOr<Dim> offset =
        isa<Value>(offsets[0])
            ? evalIndex(cast<Value>(offsets[0]))
            : FailureOr<Dim>(Dim::constant(*getConstantIntValue(offsets[0])));
    FailureOr<Dim> size =
        isa<Value>(sizes[0])
            ? evalIndex(cast<Value>(sizes[0]))
            : FailureOr<Dim>(Dim::constant(*getConstantIntValue(sizes[0])));
    if (failed(offset) || failed(size))
      return op->emitOpError() << "has an offset or size plans cannot "
                                  "express (tensor.dim plus or minus a constant)";
    Shape out = *in;
    out[0] = *size;
    int64_t s = buffers[slice.getSource()];
    int64_t id = bufferFor(slice.getResult(), typedShape(slice.getResult(), out));
    JsonValue step = JsonValue::object();
    step.set("op", "slice");
    step.set("src", s);
    step.set("dst", id);
    step.set("offset", offset->toJson());
    steps.push(std::move(step));
    return success();
  }

  // Host-side index arithmetic only feeds slice sizes (evaluated above).
  if (isa<tensor::DimOp>(op) ||
      (isa<arith::ConstantOp, arith::SubIOp, arith::AddIOp>(op) &&
       op->getResult(0).getType().isIndex()))
    return success();

  if (auto ret = dyn_cast<func::ReturnOp>(op)) {
    for (auto [i, v] : llvm::enumerate(ret.getOperands())) {
      auto it = buffers.find(v);
      if (it == buffers.end())
        return op->emitOpError() << "returns a value without a buffer";
      int64_t id = it->second;
      // Name data-dependent sizes from the result's msa.dims.
      if (auto names = fn.getResultAttrOfType<ArrayAttr>(i, "msa.dims")) {
        Shape &s = shapes[id];
        for (auto [d, name] : llvm::enumerate(names)) {
          auto str = dyn_cast<StringAttr>(name);
          if (!str || str.getValue().empty() || d >= s.size())
            continue;
          if (s[d].isPlaceholder()) {
            std::string ph = s[d].sym;
            for (auto &entry : shapes)
              for (Dim &x : entry.second)
                if (x.sym == ph)
                  x.sym = str.getValue().str();
            if (std::find(symbols.begin(), symbols.end(), str.getValue().str()) ==
                symbols.end())
              symbols.push_back(str.getValue().str());
          }
        }
      }
      auto name = fn.getResultAttrOfType<StringAttr>(i, "msa.name");
      JsonValue o = JsonValue::object();
      o.set("name", name ? name.getValue().str() : "result" + std::to_string(i));
      o.set("buffer", id);
      outputs.push(std::move(o));
    }
    return success();
  }

  return op->emitOpError() << "cannot appear in an execution plan (only "
                              "dispatches, msa.linear, reshapes and row "
                              "slices can)";
}

FailureOr<JsonValue> EntryExtractor::run() {
  for (BlockArgument arg : fn.getArguments()) {
    unsigned i = arg.getArgNumber();
    if (!isa<RankedTensorType>(arg.getType()))
      return fn.emitOpError() << "argument " << i << " is not a ranked tensor";
    auto weight = fn.getArgAttrOfType<StringAttr>(i, "msa.weight");
    auto name = fn.getArgAttrOfType<StringAttr>(i, "msa.name");
    std::string argName = name ? name.getValue().str() : "arg" + std::to_string(i);
    auto names = fn.getArgAttrOfType<ArrayAttr>(i, "msa.dims");
    auto t = cast<RankedTensorType>(arg.getType());
    Shape dims;
    for (int64_t d = 0; d < t.getRank(); ++d) {
      if (!t.isDynamicDim(d)) {
        dims.push_back(Dim::constant(t.getDimSize(d)));
        continue;
      }
      std::string sym = argName + "." + std::to_string(d);
      if (names && d < static_cast<int64_t>(names.size()))
        if (auto s = dyn_cast<StringAttr>(names[d]); s && !s.getValue().empty())
          sym = s.getValue().str();
      if (std::find(symbols.begin(), symbols.end(), sym) == symbols.end())
        symbols.push_back(sym);
      dims.push_back(Dim::symbol(sym));
    }
    int64_t id = bufferFor(arg, dims, weight ? weight.getValue() : StringRef());
    if (!weight) {
      JsonValue in = JsonValue::object();
      in.set("name", argName);
      in.set("buffer", id);
      inputs.push(std::move(in));
    }
  }
  for (Operation &op : fn.getBody().front())
    if (failed(visit(&op)))
      return failure();

  JsonValue bufferList = JsonValue::array();
  for (int64_t id = 0; id < static_cast<int64_t>(buffers.size()); ++id) {
    JsonValue b = JsonValue::object();
    b.set("id", id);
    b.set("dtype", dtypes[id]);
    JsonValue shape = JsonValue::array();
    for (const Dim &d : shapes[id]) {
      if (d.isPlaceholder()) {
        Operation *producer = producers.lookup(id);
        InFlightDiagnostic diag =
            (producer ? producer : fn.getOperation())->emitOpError();
        diag << "produces a data-dependent size that no function result "
                "names; give the result carrying it an msa.dims attribute";
        return diag;
      }
      shape.push(d.toJson());
    }
    b.set("shape", std::move(shape));
    for (auto &[wid, wname] : weights)
      if (wid == id)
        b.set("weight", wname);
    bufferList.push(std::move(b));
  }
  JsonValue entry = JsonValue::object();
  JsonValue syms = JsonValue::array();
  for (const std::string &s : symbols)
    syms.push(s);
  entry.set("symbols", std::move(syms));
  entry.set("inputs", std::move(inputs));
  entry.set("outputs", std::move(outputs));
  entry.set("buffers", std::move(bufferList));
  entry.set("steps", std::move(steps));
  return entry;
}

JsonValue kernelSpec(func::FuncOp kernel) {
  JsonValue k = JsonValue::object();
  k.set("name", kernel.getSymName().str());
  // A cuda kernel is the gpu.func of the same name; a cpu kernel is called
  // through its C interface wrapper.
  auto launch = kernel->getAttrOfType<DictionaryAttr>("msa.launch");
  k.set("symbol", (launch ? "" : "_mlir_ciface_") + kernel.getSymName().str());
  auto op = kernel->getAttrOfType<StringAttr>("msa.op");
  k.set("op", op ? op.getValue().str() : std::string("?"));
  JsonValue args = JsonValue::array();
  unsigned numArgs = kernel.getNumArguments() - 2;
  for (unsigned i = 0; i < numArgs; ++i) {
    auto m = cast<MemRefType>(kernel.getArgumentTypes()[i]);
    JsonValue a = JsonValue::object();
    a.set("dtype", dtypeOf(m.getElementType()));
    JsonValue shape = JsonValue::array();
    for (int64_t d : m.getShape())
      shape.push(ShapedType::isDynamic(d) ? JsonValue() : JsonValue(d));
    a.set("shape", std::move(shape));
    args.push(std::move(a));
  }
  k.set("args", std::move(args));
  int64_t results = 0;
  kernel.walk([&](bufferization::MaterializeInDestinationOp) { ++results; });
  k.set("results", results);
  JsonValue grid = JsonValue::array();
  if (auto g = kernel->getAttrOfType<ArrayAttr>("msa.grid"))
    for (Attribute term : g) {
      JsonValue t = JsonValue::array();
      for (int64_t v : cast<DenseI64ArrayAttr>(term).asArrayRef())
        t.push(v);
      grid.push(std::move(t));
    }
  k.set("grid", std::move(grid));
  JsonValue config = JsonValue::object();
  kernel.walk([&](Operation *inner) {
    if (auto tiles = inner->getAttrOfType<DictionaryAttr>(kTilesAttr))
      for (NamedAttribute t : tiles)
        if (auto i = dyn_cast<IntegerAttr>(t.getValue()))
          config.set(t.getName().str(), i.getInt());
  });
  k.set("config", std::move(config));
  if (launch) {
    JsonValue l = JsonValue::object();
    for (const char *key : {"threads", "items_per_block", "shared_bytes"})
      if (auto v = launch.getAs<IntegerAttr>(key))
        l.set(key, v.getInt());
    k.set("launch", std::move(l));
  }
  return k;
}

} // namespace

FailureOr<ExtractedPlans> extractPlans(ModuleOp module) {
  SymbolTable symbols(module);
  ExtractedPlans plans{JsonValue::array(), JsonValue::object()};
  for (auto fn : module.getOps<func::FuncOp>()) {
    if (fn.isDeclaration())
      continue;
    if (fn->hasAttr("msa.kernel")) {
      plans.kernels.push(kernelSpec(fn));
      continue;
    }
    EntryExtractor extractor(fn, symbols);
    FailureOr<JsonValue> entry = extractor.run();
    if (failed(entry))
      return failure();
    plans.entries.set(fn.getSymName().str(), std::move(*entry));
  }
  return plans;
}

} // namespace msa::codegen
