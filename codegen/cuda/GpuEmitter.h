//===- GpuEmitter.h - building blocks of the cuda kernel lowerings -*- C++ -*-===//
//
// Part of msa. Licensed under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// The Emitter of the shared lowerings plus what a kernel body on the GPU
// needs: thread and block ids, warp shuffles and reductions, barriers,
// static tiles carved out of dynamic shared memory, aligned vector accesses,
// and math without libdevice (exp through ex2, IEEE sqrt, a range-reduced
// sin/cos, RoPE frequencies as a constant table computed on the host the way
// the reference computes them). Keeping libdevice out means PTX can be made
// on a machine without the CUDA toolkit.
//
//===----------------------------------------------------------------------===//

#ifndef MSA_CODEGEN_CUDA_GPUEMITTER_H
#define MSA_CODEGEN_CUDA_GPUEMITTER_H

#include "common/EmitUtils.h"

#include "msa/Codegen/HardwareLimits.h"

#include "mlir/Dialect/GPU/IR/GPUDialect.h"

namespace msa::codegen::cuda {

/// How one kernel is launched; the lowering records it on the kernel and
/// plan extraction copies it into the manifest.
struct Launch {
  int64_t threads = 1;
  int64_t itemsPerBlock = 1;
  /// Work items: terms (arg, dim, add, div) as in the manifest's "grid".
  struct Term {
    int64_t arg, dim, add, div;
  };
  llvm::SmallVector<Term> grid;
};

class GpuEmitter;

/// Positions the RoPE tables cover (GpuEmitter::ropeTables): documents up
/// to 4096 tokens, the longest perf-anchors.md encodes, at 4096 x d x 2
/// bytes a table; later positions are computed.
constexpr int64_t kRopeTablePositions = 4096;

/// How a warp spreads a head vector of d elements over its lanes: `slots`
/// vectors of `width` per lane, lane l's slot k at l width + 32 width k;
/// lanes at or past `active` hold nothing (d < 32).
struct LaneSplit {
  int64_t width = 1, slots = 1, active = 32;

  /// The split of `d`, or an error on `op` for a d it cannot spread (not
  /// below 32 and not a multiple of 32).
  static mlir::FailureOr<LaneSplit> of(mlir::Operation *op, int64_t d);

  /// The first element of the lane's slot `slot`.
  mlir::Value offset(GpuEmitter &e, int64_t slot) const;
  /// Whether the lane holds elements (all lanes unless d < 32).
  mlir::Value holds(GpuEmitter &e) const;
  /// The lane's slots of mem[prefix..., :] as f32; idle lanes get zeros.
  llvm::SmallVector<mlir::Value> load(GpuEmitter &e, mlir::Value mem,
                                      llvm::SmallVector<mlir::Value> prefix) const;
  /// Stores the lane's slots into mem[prefix..., :], rounding to its type.
  void store(GpuEmitter &e, llvm::ArrayRef<mlir::Value> slots, mlir::Value mem,
             llvm::SmallVector<mlir::Value> prefix) const;
};

/// Named barriers 1.. are warpgroups' own (0 is the block's barrier).
constexpr int64_t kFirstWarpgroupBarrier = 1;
/// bf16 elements of one 128-byte swizzled row of a wgmma operand (a
/// "panel"), and of one 16-byte chunk (a cp.async, a swizzle unit).
constexpr int64_t kSwizzlePanelElems = kSwizzleBytes / 2;
constexpr int64_t kChunkElems = kCpAsyncMaxBytes / 2;

/// The comparison predicates, as every kernel emitter names them.
using Pred = mlir::arith::CmpIPredicate;
using FPred = mlir::arith::CmpFPredicate;

class GpuEmitter : public Emitter {
public:
  GpuEmitter(mlir::OpBuilder &b, mlir::Location loc, mlir::gpu::GPUModuleOp module,
             int64_t threads);

  /// Threads of the block (compile-time).
  int64_t threads() const { return threads_; }
  int64_t warps() const;

  mlir::Value threadIdx();
  mlir::Value blockIdx();
  /// body(u) for the items u in [0, count) spread over the block's threads
  /// (thread t takes t, t + threads, ...); `unrolled` emits the rounds one
  /// after another, so their loads overlap.
  void forEachItem(int64_t count, const std::function<void(mlir::Value)> &body,
                   bool unrolled = false);
  mlir::Value laneId();
  mlir::Value warpId();
  void barrier();

  /// Butterfly shuffle of an f32 or i32 scalar across the whole warp.
  mlir::Value shuffleXor(mlir::Value v, int64_t offset);
  /// Lane `lane`'s value of `v` (f32 or i32), for every lane.
  mlir::Value shuffleIdx(mlir::Value v, mlir::Value lane);
  /// Sum and max over the 32 lanes, in every lane.
  mlir::Value warpSum(mlir::Value v);
  mlir::Value warpMax(mlir::Value v);
  /// Whether an i1 holds in all (`all`) or any lane of the warp, in every
  /// lane (vote.sync; every lane must take part).
  mlir::Value warpVote(mlir::Value pred, bool all);

  /// A static-shape buffer in this block's dynamic shared memory, 16-byte
  /// aligned (or `alignBytes`, relative to the start of dynamic shared
  /// memory); sharedBytes() is what the launch must provide.
  mlir::Value shared(llvm::ArrayRef<int64_t> shape, mlir::Type elem,
                     int64_t alignBytes = 0);
  /// What the launch must provide: the most any path of the kernel uses.
  int64_t sharedBytes() const { return sharedHigh_; }
  /// Exclusive branches of one kernel reuse the same bytes: take a mark
  /// before the first branch's tiles and rewind to it before the next's.
  int64_t sharedMark() const { return sharedBytes_; }
  void sharedRewind(int64_t mark) { sharedBytes_ = mark; }

  /// As Emitter::load/store for `width` > 1, but stating the access's
  /// alignment (its full size unless `alignBytes`), so it becomes one wide
  /// load instead of `width` scalar ones. The caller guarantees it.
  mlir::Value loadAligned(mlir::Value memref, mlir::ValueRange idx,
                          int64_t width, int64_t alignBytes = 0);
  void storeAligned(mlir::Value value, mlir::Value memref, mlir::ValueRange idx,
                    int64_t alignBytes = 0);

  /// `width` elements of memref[idx...] as stored (no conversion to f32),
  /// one access aligned to the largest power of two dividing the width.
  mlir::Value loadRaw(mlir::Value memref, mlir::ValueRange idx, int64_t width);
  /// `words` 32-bit words of 16-bit elements from memref[idx...] in one
  /// aligned access (4 words bytes), as i32: tensor-core operands.
  llvm::SmallVector<mlir::Value> loadWords(mlir::Value memref,
                                           mlir::ValueRange idx, int64_t words);
  /// D = A B + C on the tensor cores, mma.sync m16n8k16 with bf16 A (four
  /// words, row-major fragment) and B (two words, column-major) and f32 C
  /// and D (four each); nvgpu's bf16 lowering is broken in LLVM 22, so
  /// this goes to nvvm.mma.sync directly.
  llvm::SmallVector<mlir::Value> mmaBf16(llvm::ArrayRef<mlir::Value> a,
                                         llvm::ArrayRef<mlir::Value> bw,
                                         llvm::ArrayRef<mlir::Value> c);
  /// Two f32 rounded to bf16 and packed into one word (lo in the low half):
  /// an mma operand made from accumulators.
  mlir::Value packBf16(mlir::Value lo, mlir::Value hi);
  /// ldmatrix.x4 of a shared 2-D tile of 16-bit elements: the lane passes
  /// the element its 8-element row starts at; `transpose` gives the
  /// column-major B fragments of a row-major tile. Four words.
  llvm::SmallVector<mlir::Value> ldmatrixX4(mlir::Value tile,
                                            mlir::ValueRange idx,
                                            bool transpose);
  /// An LLVM pointer in address space `space` (1 global, 3 shared) to
  /// memref[idx...]: a shared tile's in the shared window, a kernel
  /// argument's (a generic pointer) cast to `space`.
  mlir::Value pointerTo(mlir::Value memref, mlir::ValueRange idx,
                        unsigned space);
  /// cp.async of 16 bytes from global src[srcIdx...] to the shared tile
  /// dst[dstIdx...], zero-filled without reading where `valid` is false;
  /// part of the group the next copyAsyncCommit closes.
  void copyAsync16(mlir::Value dst, mlir::ValueRange dstIdx, mlir::Value src,
                   mlir::ValueRange srcIdx, mlir::Value valid);
  void copyAsyncCommit();
  /// Waits until at most `pending` of this thread's committed groups are
  /// still in flight (their data visible to this thread; others see it
  /// after a barrier).
  void copyAsyncWait(int64_t pending);
  /// 2^x (ex2.approx), for softmax in the log2 domain.
  mlir::Value exp2(mlir::Value a);

  /// exp(x) as ex2.approx(x log2 e): softmax and SiLU tolerate its 2 ulp.
  mlir::Value exp(mlir::Value a) override;
  /// IEEE sqrt (sqrt.rn.f32).
  mlir::Value sqrt(mlir::Value a) override;
  /// maxnum (max.f32), not libdevice's fmaxf.
  mlir::Value max(mlir::Value a, mlir::Value c) override;
  /// sin and cos of an f32 angle: Cody-Waite reduction by pi/2 in three
  /// parts and minimax polynomials; within 2 ulp of the C library for the
  /// angles RoPE makes (|x| < 1e5).
  std::pair<mlir::Value, mlir::Value> sinCos(mlir::Value x);
  /// inv_freq[i] = 1 / theta^(2i / d) (f32, as the reference), from a
  /// constant table of the module.
  mlir::Value invFreq(int64_t headDim, double theta, mlir::Value i);
  /// Module constants cos[pos, i] and sin[pos, i] of RoPE for positions
  /// below kRopeTablePositions, [positions, headDim / 2] in bf16: the
  /// reference's cosf and sinf of f32(pos) inv_freq[i], rounded to bf16,
  /// evaluated here, so kernels read them instead of computing them.
  std::pair<mlir::Value, mlir::Value> ropeTables(int64_t headDim, double theta);
  /// RoPE cos and sin of position `pos` (index) and frequency `i`, rounded
  /// to `storage` as the reference's tables are.
  std::pair<mlir::Value, mlir::Value> ropeCosSin(mlir::Value pos, int64_t headDim,
                                                 double theta, mlir::Value i,
                                                 mlir::Type storage);

  // Hopper warpgroup MMA (GpuWarpgroupMma.cpp). Operand tiles in shared
  // memory are 128-byte swizzled: rows of 64 bf16 ("panels"), 16-byte
  // chunk c of row r stored at chunk c ^ (r % 8), each panel 1024-byte
  // aligned (swizzledColumn).

  /// The shape of a swizzled tile of `rows` vectors of `cols` bf16 under
  /// `prefix` dims: [prefix..., cols / 64 panels, rows, 64].
  static llvm::SmallVector<int64_t>
  swizzledShape(llvm::SmallVector<int64_t> prefix, int64_t rows, int64_t cols);
  /// Where element `col` (a multiple of 8: a 16-byte chunk, which the
  /// swizzle keeps whole) of row `r` of such a tile is.
  llvm::SmallVector<mlir::Value> swizzledIndex(llvm::SmallVector<mlir::Value> prefix,
                                               mlir::Value r, mlir::Value col);
  /// bar.sync on named barrier `id` for `count` threads: a warpgroup's own
  /// barrier, which the block's other warps do not wait for.
  void namedBarrier(mlir::Value id, int64_t count);
  /// The wgmma descriptor of a K-major 128-byte swizzled panel whose first
  /// row is tile[idx...] (a k16 step never leaves its panel, so the
  /// leading offset is unused; the stride is one 8-row swizzle atom).
  mlir::Value kMajorDescriptor(mlir::Value tile, mlir::ValueRange idx);
  /// The byte address of memref[idx...] in the shared window, as i64.
  mlir::Value sharedAddress(mlir::Value tile, mlir::ValueRange idx);
  /// The wgmma matrix descriptor of a 128-byte swizzled operand starting at
  /// `address` (sharedAddress): `leadingBytes` and `strideBytes` as the
  /// PTX ISA defines them for the operand's major-ness.
  mlir::Value wgmmaDescriptor(mlir::Value address, int64_t leadingBytes,
                              int64_t strideBytes);
  /// D[64 x n] = sum over k16 steps of A_k B_k (+ `acc`, the thread's n / 2
  /// accumulators, unless empty: then D starts at zero), bf16 operands and
  /// f32 accumulators: wgmma.mma_async for the warpgroup, one committed
  /// group. A comes from shared memory (`aDescs`, one a step) or from
  /// registers (`aRegs`, four words a step in mma.sync's A fragment
  /// layout); B from shared memory, K-major or (`transposeB`) MN-major.
  /// The results are in flight until wgmmaWait. Keep the wait next to the
  /// issue: with a branch or loop between them LLVM copies the in-flight
  /// results into the wait's tied operands before they land, and ptxas
  /// does not flag it (route_topk's walk, overlapped that way, picked
  /// wrong documents on an H200).
  /// A step's descriptor is a base one advanced `units` 16-byte units,
  /// added inside the asm statement: only the few bases stay live.
  struct WgmmaDesc {
    mlir::Value base;
    int64_t units = 0;
  };
  llvm::SmallVector<mlir::Value>
  wgmma(llvm::ArrayRef<mlir::Value> acc, int64_t n,
        llvm::ArrayRef<WgmmaDesc> aDescs,
        llvm::ArrayRef<llvm::SmallVector<mlir::Value>> aRegs,
        llvm::ArrayRef<WgmmaDesc> bDescs, bool transposeB);
  /// Waits for every wgmma group of the warpgroup; returns `values` (f32)
  /// as the code after the wait must read them, so nothing reads an
  /// accumulator still in flight.
  llvm::SmallVector<mlir::Value> wgmmaWait(llvm::ArrayRef<mlir::Value> values);
  /// Orders this thread's generic-proxy shared-memory writes (stores,
  /// cp.async) before later async-proxy reads (wgmma); a barrier after it
  /// extends that to the block.
  void fenceProxyAsyncShared();
  /// Whether `pred` holds in any thread of the 128 that meet at named
  /// barrier `barrier` (bar.red.or.pred): a warpgroup-uniform branch.
  mlir::Value warpgroupVoteAny(mlir::Value pred, mlir::Value barrier);

  mlir::Value i1(bool v);
  mlir::Value andI(mlir::Value a, mlir::Value b);
  mlir::Value orI(mlir::Value a, mlir::Value b);
  mlir::Value notI(mlir::Value a);
  /// The largest s in [0, n) with memref[s] <= t for a sorted i32 vector
  /// (segment offsets), or -1 if none; binary search.
  mlir::Value upperSegment(mlir::Value offsets, mlir::Value n, mlir::Value t);

private:
  mlir::gpu::GPUModuleOp module_;
  int64_t threads_;
  int64_t sharedBytes_ = 0, sharedHigh_ = 0;
  mlir::Value sharedBase_;
};

} // namespace msa::codegen::cuda

#endif // MSA_CODEGEN_CUDA_GPUEMITTER_H
