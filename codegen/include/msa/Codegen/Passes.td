//===- Passes.td - target code generation passes of msa ----*- tablegen -*-===//
//
// Part of msa. Licensed under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// The passes between fused msa IR and machine code, alphabetical: tile
// assignment from KernelConfig, the cpu lowering to loops, the cuda lowering
// to thread blocks, and outlining of kernels. Target-independent rewrites
// live in passes/Passes.td.
//
//===----------------------------------------------------------------------===//

#ifndef MSA_CODEGEN_PASSES_TD
#define MSA_CODEGEN_PASSES_TD

include "mlir/Pass/PassBase.td"

def MsaAssignTilesPass : Pass<"msa-assign-tiles", "::mlir::ModuleOp"> {
  let summary = "Set each kernel op's msa.tiles from the KernelConfig table";
  let description = [{
    Every op that becomes a kernel gets the discardable dictionary
    `msa.tiles` chosen by `chooseTiles` for the target: `vector_width` and
    `block_k` on cpu; `vector_width`, `threads`, `rows_per_block`,
    `block_m` and `block_n` on cuda. (The routing kernel's candidate blocks are a shape, set by
    msa-fuse-routing from the same table.) An op that already carries `msa.tiles` is
    left as written, so tiles can be overridden in the IR.
  }];
  let options = [
    Option<"target", "target", "std::string", /*default=*/"\"cpu\"",
           "cpu or cuda:sm_90">,
    Option<"cpu", "cpu", "std::string", /*default=*/"\"x86-64-v3\"",
           "LLVM CPU name of the cpu target">,
    Option<"overrides", "overrides", "std::string", /*default=*/"\"\"",
           "tiles to use instead of the table's, for experiments: "
           "op:key=value[,key=value...][;op:...], op a kernel op's name "
           "without msa. (encode_docs)">
  ];
}

def MsaLowerKernelsToLoopsPass
    : Pass<"msa-lower-kernels-to-loops", "::mlir::ModuleOp"> {
  let summary = "Lower outlined kernels to scf loops and vector ops (cpu)";
  let description = [{
    In every function marked `msa.kernel`, replaces the kernel op (read
    through `bufferization.to_tensor` of the arguments, written with
    `bufferization.materialize_in_destination`) by loops over the work-item
    range `[begin, end)` on the memref arguments: `scf.for` over items and
    rows, `vector` loads, FMAs and reductions along the head dimension with
    the op's `vector_width`, f32 arithmetic with rounding to the element type
    exactly where the reference rounds. The result is ready for the upstream
    conversions to the LLVM dialect.

    Precondition: msa-outline-kernels ran. Fails with an error naming the op
    for a kernel op without a cpu lowering.
  }];
  let dependentDialects = ["::mlir::scf::SCFDialect",
                           "::mlir::vector::VectorDialect",
                           "::mlir::memref::MemRefDialect",
                           "::mlir::math::MathDialect",
                           "::mlir::arith::ArithDialect"];
}

def MsaLowerKernelsToGpuPass
    : Pass<"msa-lower-kernels-to-gpu", "::mlir::ModuleOp"> {
  let summary = "Lower outlined kernels to gpu.func thread-block bodies (cuda)";
  let description = [{
    For every function marked `msa.kernel`, adds a `gpu.func` of the same
    name to the `gpu.module @msa_kernels` (created if missing, the module
    becomes a `gpu.container_module`) whose body is one thread block of the
    kernel: its arguments are the kernel's memrefs without the work-item
    range, it finds its work from the block index, and uses warp shuffles,
    barriers and dynamic shared memory as the kernel family needs. The
    `func.func` stays, for plan extraction, and gets `msa.launch` (`threads`,
    `items_per_block`, `shared_bytes`) and the cuda `msa.grid` (terms of
    `[arg, dim, add, div]`). Math uses NVVM intrinsics and tables, not
    libdevice, so PTX needs no CUDA toolkit.

    Precondition: msa-outline-kernels ran with cuda tiles (msa-assign-tiles
    target=cuda:sm_90). Fails with an error naming the op for a kernel op
    without a cuda lowering (the unfused routing ops, dynamic head dims).
  }];
  let dependentDialects = ["::mlir::gpu::GPUDialect",
                           "::mlir::scf::SCFDialect",
                           "::mlir::vector::VectorDialect",
                           "::mlir::memref::MemRefDialect",
                           "::mlir::math::MathDialect",
                           "::mlir::arith::ArithDialect",
                           "::mlir::LLVM::LLVMDialect",
                           "::mlir::NVVM::NVVMDialect"];
}

def MsaOutlineKernelsPass : Pass<"msa-outline-kernels", "::mlir::ModuleOp"> {
  let summary = "Move every kernel op into a kernel function on memrefs";
  let description = [{
    In entry functions, each op that runs as a kernel (every msa compute op
    except `msa.linear`, which the runtime's GEMM provider runs, and
    elementwise `arith` ops on tensors) is replaced by an `msa.dispatch` of a
    new `func.func` marked `msa.kernel`. Its arguments are memrefs for the
    op's operands, then its results, then the work-item range; its body reads
    the arguments with `bufferization.to_tensor`, applies the op and writes
    the results with `bufferization.materialize_in_destination`. The
    function also records its grid (`msa.grid`, how many work items a launch
    has, from its arguments' dimensions). Identical ops (same attributes and
    types: every layer of a model) share one kernel.

    Fails on `msa.gather_chunks`, whose result size is data-dependent: it
    must have been fused into attention (msa-fuse-assembly).
  }];
  let dependentDialects = ["::mlir::bufferization::BufferizationDialect",
                           "::mlir::memref::MemRefDialect",
                           "::mlir::func::FuncDialect",
                           "::msa::MsaDialect"];
}

#endif // MSA_CODEGEN_PASSES_TD
