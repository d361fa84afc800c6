#!/usr/bin/env python3
"""PyTorch baselines for the MSA GPU kernels: run on the GPU machine, side by side with ours.

    python3 bench/torch/bench_torch.py --quick                 # every group, small (< ~40 s)
    python3 bench/torch/bench_torch.py                         # every group, full (< ~3 min)
    python3 bench/torch/bench_torch.py route decode            # only these groups
    python3 bench/torch/bench_torch.py --dump-route /tmp/rt    # only write the routing problem
    python3 bench/torch/bench_torch.py gemm --dump-route DIR   # both

Groups: encode, route, decode, gemm (default: all of them, unless --dump-route is given alone).
stdout: one JSON object per measurement, one per line (schema in bench/torch/README.md).
stderr: progress, then a human table.
Every implementation is checked against a float64 computation before it is timed; a mismatch
aborts the run with exit status 2 and a "CHECK FAILED" message.

Routing-problem dump (--dump-route DIR)
---------------------------------------
One small routing problem and the torch results, so the C++ side can check its selection.
DIR/route.json describes everything; the arrays are raw little-endian files in C order, no
header, in DIR:

  file                 dtype    shape            content
  q.bin                bf16     [T, Hq, d]       routing-query vectors of one row (all valid),
                                                 BEFORE norm/scale (route applies them)
  keys.bin             bf16     [Hkv, C, d]      router keys, L2-normalised already iff
                                                 config.norm (spec §3.5)
  doc_offsets.bin      int64    [N + 1]          first chunk of each document, then C
  ids.bin              int64    [k_eff]          torch-bmm selection, best first (-1 = none)
  scores.bin           bf16     [k_eff]          their bf16 document scores
  ids_ref_layout.bin   int64    [k_eff]          selection by the reference-layout path
  doc_scores.bin       bf16     [N]              every document's bf16 score (torch-bmm path)
  doc_scores_f64.bin   float64  [N]              exact document scores (float64, no rounding)

"bf16" files hold the raw 16-bit patterns (the top half of the float32 bit pattern).
route.json: {"format": "msa-route-dump-v1", "config": {k, k_eff, head_reduce, token_reduce,
chunk_reduce, norm, scale}, "shape": {tokens, hq, hkv, d, chunks, docs}, "files": {name:
{"file", "dtype", "shape"}}, "tie": {...} (a planted exact tie at the k-th place: two documents
with identical keys; the lower id must win), "layouts_agree", "card", "torch", "seed"}.
Head h of q reads KV head h // (Hq / Hkv). Tie rule: equal bf16 document scores -> lower id first.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import sys
import time

GIB = 1 << 30


def log(*parts):
    print(*parts, file=sys.stderr, flush=True)


class CheckFailed(Exception):
    pass


# ---------------------------------------------------------------------------------------------
# Arguments
# ---------------------------------------------------------------------------------------------

GROUPS = ("encode", "route", "decode", "gemm")


def parse_args(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog="See bench/torch/README.md for the JSON fields.")
    ap.add_argument("groups", nargs="*", metavar="GROUP",
                    help="encode, route, decode, gemm or all (default: all, or none when "
                         "--dump-route is given)")
    ap.add_argument("--quick", action="store_true", help="small sizes, about 40 s in all")
    ap.add_argument("--dump-route", metavar="DIR", help="write one small routing problem to DIR")
    ap.add_argument("--seed", type=int, default=1234)
    ap.add_argument("--budget-ms", type=float, default=None,
                    help="timed work per measurement (default 300, --quick 100); >= 20 runs always")
    ap.add_argument("--theta", type=float, default=5_000_000.0, help="RoPE theta (self-check)")
    ap.add_argument("--route-chunks", type=str, default=None,
                    help="comma list of chunk counts (default 1048576,16777216; --quick 1048576)")
    ap.add_argument("--k", type=int, default=16, help="top-k documents")
    ap.add_argument("--head-reduce", choices=("mean", "max"), default="mean")
    ap.add_argument("--token-reduce", choices=("max", "mean", "last"), default="max")
    ap.add_argument("--chunk-reduce", choices=("max", "mean"), default="max")
    ap.add_argument("--norm", action="store_true", help="NORM (aux_loss_method == INFONCE)")
    ap.add_argument("--no-scale", action="store_true",
                    help="no d^-0.5 query scale (INFONCE with a decoupled router; needs --norm)")
    args = ap.parse_args(argv)
    bad = [g for g in args.groups if g not in GROUPS + ("all",)]
    if bad:
        ap.error(f"unknown group(s) {bad}; choose from {', '.join(GROUPS)}, all")
    if not args.groups:
        args.groups = [] if args.dump_route else list(GROUPS)
    elif "all" in args.groups:
        args.groups = list(GROUPS)
    if args.budget_ms is None:
        args.budget_ms = 100.0 if args.quick else 300.0
    if args.no_scale and not args.norm:
        ap.error("--no-scale needs --norm (spec §4.3: SCALE is off only for INFONCE + decoupled)")
    return args


# ---------------------------------------------------------------------------------------------
# Timing and reporting
# ---------------------------------------------------------------------------------------------

class Bench:
    def __init__(self, torch, M, args):
        self.torch = torch
        self.M = M
        self.args = args
        self.card = torch.cuda.get_device_name()
        self.records = []
        self.skipped = []
        self.copy_gbps = None
        # Written before every timed run so that no input stays in L2 (50-60 MB) between runs.
        self.flush = torch.empty(256 << 20, dtype=torch.uint8, device="cuda")

    def time_ms(self, fn, min_reps=20, max_reps=500):
        """Median of CUDA-event times of fn(), each run after an L2 flush. Returns (ms, reps)."""
        torch = self.torch
        fn()                                # first call: compile, autotune, handles
        torch.cuda.synchronize()
        t0 = time.perf_counter()
        for _ in range(3):                  # warm-up, and an estimate of one call
            fn()
        torch.cuda.synchronize()
        est_ms = (time.perf_counter() - t0) * 1e3 / 3
        reps = int(min(max_reps, max(min_reps, self.args.budget_ms / max(est_ms, 1e-3))))
        starts = [torch.cuda.Event(enable_timing=True) for _ in range(reps)]
        ends = [torch.cuda.Event(enable_timing=True) for _ in range(reps)]
        for i in range(reps):
            self.flush.zero_()
            starts[i].record()
            fn()
            ends[i].record()
        torch.cuda.synchronize()
        return statistics.median(s.elapsed_time(e) for s, e in zip(starts, ends)), reps

    def emit(self, rec):
        rec["card"] = self.card
        self.records.append(rec)
        print(json.dumps(rec), flush=True)

    def skip(self, what, why):
        self.skipped.append((what, why))
        log(f"  skipped {what}: {why}")

    def check(self, what, err, tol=1e-2):
        if not (err < tol):
            raise CheckFailed(f"{what}: relative error {err:.3e} is not below {tol:g}")
        log(f"  check {what}: rel err {err:.2e}")

    def free_memory(self):
        self.torch.cuda.synchronize()
        self.torch.cuda.empty_cache()


def shape_text(r):
    b = r["bench"]
    if b == "encode":
        return f"H {r['hq']}/{r['hkv']} docs {r['n_docs']}x{r['doc_len']} T {r['tokens']}"
    if b == "route":
        return f"C {r['chunks']} T {r['tokens']}" if "tokens" in r else f"C {r['chunks']} N {r['docs']}"
    if b == "decode":
        return f"B {r['batch']} L {r['ctx']} H {r['hq']}/{r['hkv']}"
    if b == "gemm":
        return f"{r['m']}x{r['n']}x{r['k']}"
    if b == "copy":
        return f"{r['bytes'] / GIB:.1f} GiB"
    return ""


def print_table(bench):
    rows = []
    for r in bench.records:
        if "tflops" in r:
            rate = f"{r['tflops']:.1f} TFLOP/s"
        elif "gbps" in r:
            rate = f"{r['gbps']:.0f} GB/s"
        else:
            rate = ""
        impl = r["impl"] + (f" ({r['form']})" if "form" in r else "")
        extra = ""
        if "hbm_frac" in r:
            extra = f"{100 * r['hbm_frac']:.0f}% of copy bw"
        rows.append((r["bench"], impl, shape_text(r), f"{r['ms']:.3f}", rate, extra))
    hdr = ("bench", "impl", "shape", "ms", "rate", "")
    widths = [max(len(x[i]) for x in rows + [hdr]) for i in range(len(hdr))]
    log("")
    log(f"card: {bench.card}")
    log("  ".join(h.ljust(w) for h, w in zip(hdr, widths)))
    for row in rows:
        log("  ".join(c.ljust(w) for c, w in zip(row, widths)))
    for what, why in bench.skipped:
        log(f"skipped: {what}: {why}")


# ---------------------------------------------------------------------------------------------
# Shared helpers
# ---------------------------------------------------------------------------------------------

def mixed_doc_lens(total, cycle):
    """Fill `total` tokens with document lengths taken in turn from `cycle`; the last document is
    cut to what is left."""
    lens, used, i = [], 0, 0
    while used < total:
        n = min(cycle[i % len(cycle)], total - used)
        lens.append(n)
        used += n
        i += 1
    return lens


def doc_starts(doc_lens):
    s = [0]
    for n in doc_lens:
        s.append(s[-1] + n)
    return s


def prepare_encode_impl(bench, impl, q, k, v, doc_lens, label="encode"):
    """A callable running `impl` on (q, k, v) plus a description, or None if the backend refuses.

    SDPA backends that reject native GQA (enable_gqa) get K/V expanded to Hq heads once, outside
    the timed region ("gqa": "expanded"). Returns (fn, info dict)."""
    M, torch = bench.M, bench.torch
    H, Hkv = q.shape[1], k.shape[1]
    info = {"gqa": "native" if Hkv != H else "none"}
    if impl == "flex-docmask":
        times = []
        for _ in range(3 if bench.args.quick else 5):
            torch.cuda.synchronize()
            t0 = time.perf_counter()
            bm = M.make_doc_block_mask(doc_lens, q.device)
            torch.cuda.synchronize()
            times.append((time.perf_counter() - t0) * 1e3)
        info["mask_build_ms"] = statistics.median(times[1:])   # first build may compile/warm up
        fn = lambda: M.flex_doc_causal(q, k, v, bm)
        return fn, info
    import warnings
    last = None
    for expand in ((False, True) if Hkv != H else (False,)):
        kk, vv = (k, v)
        if expand:
            kk = k.repeat_interleave(H // Hkv, dim=1)
            vv = v.repeat_interleave(H // Hkv, dim=1)
        fn = (lambda kk=kk, vv=vv: M.sdpa_doc_causal(q, kk, vv, doc_lens, impl))
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                fn()
            torch.cuda.synchronize()
        except RuntimeError as e:
            last = str(e).strip().splitlines()[0] if str(e).strip() else repr(e)
            continue
        if expand:
            info["gqa"] = "expanded"
        return fn, info
    bench.skip(f"{label} {impl} H {H}/{Hkv}", f"backend refused the shapes ({last})")
    return None, info


def check_encode(bench, what, out, ref, doc_lens, heads):
    torch = bench.torch
    starts = doc_starts(doc_lens)
    hs = torch.tensor(heads, device=out.device)
    o = torch.cat([out[starts[j]:starts[j + 1]].index_select(1, hs) for j in sorted(ref)])
    r = torch.cat([ref[j] for j in sorted(ref)])
    bench.check(what, bench.M.rel_err(o, r))


def check_route(bench, what, scores, ids, ref, k):
    """The selection is right if its torch scores match the exact ones, and every selected document
    is within rounding of the exact k-th best score (bf16 ties may swap equal-looking documents)."""
    torch = bench.torch
    k_eff = min(k, ref.numel())
    ids_list = ids.tolist()
    if len(ids_list) != k_eff or min(ids_list) < 0 or len(set(ids_list)) != k_eff:
        raise CheckFailed(f"{what}: expected {k_eff} distinct valid ids, got {ids_list}")
    sf = scores.float()
    if not bool((sf[:-1] >= sf[1:]).all()):
        raise CheckFailed(f"{what}: scores are not in descending order")
    ref_sel = ref[ids]
    err = bench.M.rel_err(scores, ref_sel)
    kth = float(torch.topk(ref, k_eff).values[-1])
    tol = 2.0 ** -6 * float(ref.abs().max())
    worst = float(ref_sel.min())
    if not (err < 1e-2) or worst < kth - tol:
        raise CheckFailed(f"{what}: score rel err {err:.2e}, weakest selected exact score {worst:.5g} "
                          f"vs exact k-th {kth:.5g} (tolerance {tol:.2g})")
    return err


def make_bank(bench, C, chunks_per_doc=None, doc_sizes=None, Hkv=8, d=128, norm=False):
    """Random router keys [Hkv, C, d] bf16 (normalised in place when norm) and their bank."""
    torch, M = bench.torch, bench.M
    keys = torch.randn(Hkv, C, d, dtype=torch.bfloat16, device="cuda")
    if norm:
        step = 1 << 20
        for c0 in range(0, C, step):
            keys[:, c0:c0 + step] = M.l2_normalize(keys[:, c0:c0 + step])
    if doc_sizes is None:
        offsets = torch.arange(0, C + 1, chunks_per_doc, dtype=torch.int64)
    else:
        offsets = torch.cat([torch.zeros(1, dtype=torch.int64),
                             torch.cumsum(torch.as_tensor(doc_sizes, dtype=torch.int64), 0)])
    return M.RouterBank(keys, offsets)


def route_cfg(bench):
    a = bench.args
    return bench.M.RouteConfig(k=a.k, head_reduce=a.head_reduce, token_reduce=a.token_reduce,
                               chunk_reduce=a.chunk_reduce, norm=a.norm, scale=not a.no_scale)


# ---------------------------------------------------------------------------------------------
# Self-check: pieces with no benchmark of their own (RoPE, the tie rule, every routing variant)
# ---------------------------------------------------------------------------------------------

def selftest(bench, encode_tokens):
    torch, M = bench.torch, bench.M
    log("self-check: top-k tie rule")
    bf = torch.bfloat16
    s = torch.tensor([1, 3, 3, 2, 3, M.BF16_MIN, 0.5], dtype=bf, device="cuda")
    for k, want in ((1, [1]), (2, [1, 2]), (4, [1, 2, 4, 3]), (7, [1, 2, 4, 3, 0, 6, -1])):
        got = M.topk_lower_id_wins(s, k)[1].tolist()
        if got != want:
            raise CheckFailed(f"tie rule: k={k} gave {got}, want {want}")
    g = torch.Generator(device="cpu").manual_seed(bench.args.seed)
    for n, k in ((1000, 37), (5, 16), (70000, 16), (300000, 40)):
        vals = (torch.randint(-20, 20, (n,), generator=g).float() / 4).to(bf)
        vals[torch.randint(0, n, (n // 10,), generator=g)] = -0.0
        got = M.topk_lower_id_wins(vals.cuda(), k)[1].tolist()
        want = [i for _, i in sorted((-float(x), i) for i, x in enumerate(vals.tolist()))][:min(k, n)]
        if got != want:
            raise CheckFailed(f"tie rule on {n} values with ties: torch {got[:8]}..., want {want[:8]}...")

    log("self-check: encode_attention (document-wise RoPE + per-document causal attention)")
    H, Hkv, d = 32, 8, 128
    lens = mixed_doc_lens(encode_tokens, [100, 260, 64, 600, 1, 1999, 129, 4096, 3000])
    q = torch.randn(encode_tokens, H, d, dtype=bf, device="cuda")
    k = torch.randn(encode_tokens, Hkv, d, dtype=bf, device="cuda")
    v = torch.randn(encode_tokens, Hkv, d, dtype=bf, device="cuda")
    docs = [0, 1, 2, 3, 4, 5, 7, len(lens) - 1]
    heads = [0, 5, 17, 31]
    ref = M.encode_reference_f64(q, k, v, lens, bench.args.theta, docs, heads, rope=True)
    qr, kr = M.apply_doc_rope(q, k, lens, bench.args.theta)
    for impl in ("sdpa-flash", "sdpa-cudnn", "flex-docmask"):
        fn, info = prepare_encode_impl(bench, impl, qr, kr, v, lens,
                                       label=f"self-check encode ({len(lens)} docs of 1..4096 tokens)")
        if fn is None:
            continue
        check_encode(bench, f"encode_attention {impl} ({info['gqa']} GQA), {len(lens)} unequal docs",
                     fn(), ref, lens, heads)
    out = M.encode_attention(q, k, v, lens, bench.args.theta, "sdpa-flash")   # the public entry
    check_encode(bench, "encode_attention() end to end", out, ref, lens, heads)
    del q, k, v, qr, kr, out, ref

    log("self-check: route, every reduction, NORM/SCALE combination and both layouts")
    sizes = torch.randint(1, 41, (1700,), generator=g).tolist()    # ~35k chunks: 2 slices + a merge
    flags = ((False, True), (True, True), (True, False))            # (norm, scale) the spec allows
    banks = {nm: make_bank(bench, sum(sizes), doc_sizes=sizes, norm=nm) for nm in (False, True)}
    b0 = banks[False]
    sl = b0.slices
    if sl[0][0] != 0 or sl[-1][1] != b0.n_docs or any(a[1] != b[0] for a, b in zip(sl, sl[1:])):
        raise CheckFailed(f"reference slices do not partition the documents: {sl}")
    offs = b0.offsets_cpu
    if any(int(offs[e]) - int(offs[s_]) < M.REF_SLICE_CHUNKS for s_, e in sl[:-1]):
        raise CheckFailed(f"a reference slice before the last is below {M.REF_SLICE_CHUNKS} chunks")
    n_checked, worst = 0, 0.0
    for norm, scale in flags:
        bank = banks[norm]
        q = torch.randn(5, H, d, dtype=bf, device="cuda")
        for hr in M.HEAD_REDUCE:
            for tr in M.TOKEN_REDUCE:
                for cr in M.CHUNK_REDUCE:
                    cfg = M.RouteConfig(k=16, head_reduce=hr, token_reduce=tr, chunk_reduce=cr,
                                        norm=norm, scale=scale)
                    ref = M.route_reference_f64(q, bank, cfg)
                    for layout in ("ref", "bmm"):
                        sc, ids = M.route(q, bank, cfg, layout)
                        worst = max(worst, check_route(bench, f"route {layout} {cfg}", sc, ids, ref, 16))
                        n_checked += 1
    tiny = make_bank(bench, 7, doc_sizes=[3, 1, 3])        # k = 16 > N = 3 documents
    q = torch.randn(2, H, d, dtype=bf, device="cuda")
    cfg = M.RouteConfig(k=16)
    ref = M.route_reference_f64(q, tiny, cfg)
    for layout in ("ref", "bmm"):
        sc, ids = M.route(q, tiny, cfg, layout)
        check_route(bench, f"route {layout} with k > N", sc, ids, ref, 16)
    log(f"  check route: {n_checked + 2} configurations, worst score rel err {worst:.2e}")
    del banks, b0, tiny
    bench.free_memory()


# ---------------------------------------------------------------------------------------------
# Groups
# ---------------------------------------------------------------------------------------------

def run_gemm(bench):
    torch, M = bench.torch, bench.M
    n = 8192
    log(f"gemm: {n}^3 bf16")
    a = torch.randn(n, n, dtype=torch.bfloat16, device="cuda")
    b = torch.randn(n, n, dtype=torch.bfloat16, device="cuda")
    c = torch.empty(n, n, dtype=torch.bfloat16, device="cuda")
    fn = lambda: torch.matmul(a, b, out=c)
    fn()
    bench.check("gemm rows 0..63", M.rel_err(c[:64], a[:64].double() @ b.double()))
    ms, reps = bench.time_ms(fn)
    bench.emit({"bench": "gemm", "impl": "torch-matmul", "m": n, "n": n, "k": n, "dtype": "bf16",
                "ms": ms, "tflops": 2 * n ** 3 / (ms * 1e-3) / 1e12, "reps": reps})
    del a, b, c
    bench.free_memory()


def measure_copy(bench):
    """Device-to-device copy bandwidth, bytes read + bytes written, on a 2 GiB buffer."""
    torch = bench.torch
    if bench.copy_gbps is not None:
        return
    nbytes = 2 * GIB
    log(f"copy: {nbytes / GIB:.0f} GiB device-to-device")
    src = torch.randn(nbytes // 2, dtype=torch.bfloat16, device="cuda")
    dst = torch.empty_like(src)
    fn = lambda: dst.copy_(src)
    fn()
    if not torch.equal(dst, src):
        raise CheckFailed("copy: destination differs from source")
    ms, reps = bench.time_ms(fn)
    bench.copy_gbps = 2 * nbytes / (ms * 1e-3) / 1e9
    bench.emit({"bench": "copy", "impl": "torch-copy", "bytes": nbytes, "ms": ms,
                "gbps": bench.copy_gbps, "counted": "read+write", "reps": reps})
    del src, dst
    bench.free_memory()


def run_encode(bench):
    torch, M = bench.torch, bench.M
    quick = bench.args.quick
    total = 16384 if quick else 32768
    d = 128
    head_cfgs = [(32, 8)] if quick else [(32, 8), (16, 16)]
    doc_cfgs = [[L] * (total // L) for L in ((512, 1024, 4096) if quick else (512, 1024, 2048, 4096))]
    if not quick:
        doc_cfgs.append(mixed_doc_lens(total, [512, 4096, 1024, 2048]))
    impls = ("sdpa-flash", "sdpa-cudnn", "flex-docmask")
    for H, Hkv in head_cfgs:
        for lens in doc_cfgs:
            uniform = len(set(lens)) == 1
            doc_len = lens[0] if uniform else "mixed"
            T = sum(lens)
            log(f"encode: H {H}/{Hkv}, {len(lens)} docs of {doc_len} tokens, T {T}")
            q = torch.randn(T, H, d, dtype=torch.bfloat16, device="cuda")
            k = torch.randn(T, Hkv, d, dtype=torch.bfloat16, device="cuda")
            v = torch.randn(T, Hkv, d, dtype=torch.bfloat16, device="cuda")
            heads = sorted({0, H // 2 + 1, H - 1})
            docs = sorted({0, len(lens) - 1})
            ref = M.encode_reference_f64(q, k, v, lens, 0.0, docs, heads, rope=False)
            flops = sum(2 * n * n * d * H for n in lens)    # 4 n^2 d H per doc, halved by causality
            for impl in impls:
                fn, info = prepare_encode_impl(bench, impl, q, k, v, lens)
                if fn is None:
                    continue
                check_encode(bench, f"encode {impl}", fn(), ref, lens, heads)
                ms, reps = bench.time_ms(fn)
                rec = {"bench": "encode", "impl": impl, "doc_len": doc_len, "n_docs": len(lens),
                       "doc_lens": None if uniform else lens, "tokens": T, "hq": H, "hkv": Hkv,
                       "d": d, "causal": True, "gqa": info["gqa"], "ms": ms,
                       "tflops": flops / (ms * 1e-3) / 1e12, "flops": flops, "reps": reps}
                if "mask_build_ms" in info:
                    rec["mask_build_ms"] = info["mask_build_ms"]
                if uniform:
                    del rec["doc_lens"]
                bench.emit(rec)
                if "mask_build_ms" in info:
                    bench.emit({"bench": "encode", "impl": "flex-blockmask-build", "doc_len": doc_len,
                                "n_docs": len(lens), "tokens": T, "hq": H, "hkv": Hkv, "d": d,
                                "ms": info["mask_build_ms"], "timer": "host wall clock, synchronized"})
            del q, k, v, ref
            bench.free_memory()


def run_route(bench):
    torch, M = bench.torch, bench.M
    args = bench.args
    measure_copy(bench)
    cfg = route_cfg(bench)
    Hq, Hkv, d, per_doc = 32, 8, 128, 16
    if args.route_chunks:
        chunk_counts = [int(x) for x in args.route_chunks.split(",")]
    else:
        chunk_counts = [1 << 20] if args.quick else [1 << 20, 1 << 24]
    token_counts = (1, 16, 64)
    for C in chunk_counts:
        C = (C + per_doc - 1) // per_doc * per_doc
        key_bytes = Hkv * C * d * 2
        bench.free_memory()
        free, _ = torch.cuda.mem_get_info()
        need = key_bytes + 12 * GIB          # keys + score pieces (<= 4 GiB) + float64 check + slack
        if free < need:
            bench.skip(f"route C={C}", f"needs {need / GIB:.1f} GiB, {free / GIB:.1f} GiB free")
            continue
        log(f"route: C {C} chunks ({key_bytes / GIB:.2f} GiB of keys), {per_doc} chunks/doc, {cfg}")
        bank = make_bank(bench, C, chunks_per_doc=per_doc, Hkv=Hkv, d=d, norm=cfg.norm)
        N = bank.n_docs
        log(f"  bank ready: {torch.cuda.memory_allocated() / GIB:.1f} GiB allocated, "
            f"{torch.cuda.mem_get_info()[0] / GIB:.1f} GiB free")
        shape = {"chunks": C, "docs": N, "chunks_per_doc": per_doc, "hq": Hq, "hkv": Hkv, "d": d,
                 "k": cfg.k, "head_reduce": cfg.head_reduce, "token_reduce": cfg.token_reduce,
                 "chunk_reduce": cfg.chunk_reduce, "norm": cfg.norm, "scale": cfg.scale,
                 "key_bytes": key_bytes}
        floor_ms = key_bytes / (bench.copy_gbps * 1e9) * 1e3
        for T in token_counts:
            q = torch.randn(T, Hq, d, dtype=torch.bfloat16, device="cuda")
            ref = M.route_reference_f64(q, bank, cfg)
            for layout, name in (("ref", "torch-ref-layout"), ("bmm", "torch-bmm")):
                sc, ids = M.route(q, bank, cfg, layout)
                err = check_route(bench, f"route {name} C {C} T {T}", sc, ids, ref, cfg.k)
                log(f"  check route {name} T {T}: rel err {err:.2e}")
                ms, reps = bench.time_ms(lambda: M.route(q, bank, cfg, layout))
                gbps = key_bytes / (ms * 1e-3) / 1e9
                bench.emit({"bench": "route", "impl": name, **shape, "tokens": T, "ms": ms,
                            "gbps": gbps, "hbm_frac": gbps / bench.copy_gbps,
                            "floor_ms": floor_ms, "reps": reps})
            bench.emit({"bench": "route", "impl": "hbm-floor", **shape, "tokens": T, "ms": floor_ms,
                        "gbps": bench.copy_gbps, "derived_from": "copy"})
            del q, ref
        # top-k alone over the N document scores (spec §4.4), for the "top-k adds <= 10 %" target
        doc_scores = torch.randn(N, device="cuda").to(torch.bfloat16)
        for name, fn in (("topk-lower-id-wins", lambda: M.topk_lower_id_wins(doc_scores, cfg.k)),
                         ("torch-topk", lambda: torch.topk(doc_scores, cfg.k))):
            ms, reps = bench.time_ms(fn)
            bench.emit({"bench": "route", "impl": name, "chunks": C, "docs": N, "k": cfg.k,
                        "ms": ms, "reps": reps})
        del bank, doc_scores
        bench.free_memory()


def run_decode(bench):
    torch, M = bench.torch, bench.M
    quick = bench.args.quick
    measure_copy(bench)
    Hq, Hkv, d = 32, 8, 128
    batches = (1, 16, 64)
    # 1024: a sparse decode's few hundred selected chunks plus its cache.
    contexts = (1024, 8192) if quick else (1024, 4096, 8192, 16384, 32768)
    impls = (("sdpa-flash", "gqa-fold"), ("sdpa-flash", "enable-gqa"),
             ("sdpa-efficient", "gqa-fold"), ("sdpa-efficient", "enable-gqa"),
             ("sdpa-cudnn", "gqa-fold"))
    import warnings
    for L in contexts:
        for B in batches:
            log(f"decode: B {B}, context {L}, H {Hq}/{Hkv}")
            q = torch.randn(B, Hq, d, dtype=torch.bfloat16, device="cuda")
            kc = torch.randn(B, Hkv, L, d, dtype=torch.bfloat16, device="cuda")
            vc = torch.randn(B, Hkv, L, d, dtype=torch.bfloat16, device="cuda")
            rows = sorted({0, B - 1})
            ref = M.decode_reference_f64(q, kc, vc, rows)
            kv_bytes = 2 * B * Hkv * L * d * 2
            for impl, form in impls:
                fn = lambda: M.sparse_decode(q, kc, vc, impl, form)
                try:
                    with warnings.catch_warnings():
                        warnings.simplefilter("ignore")
                        out = fn()
                    torch.cuda.synchronize()
                except RuntimeError as e:
                    msg = str(e).strip().splitlines()[0] if str(e).strip() else repr(e)
                    bench.skip(f"decode {impl} {form} B {B} L {L}", msg)
                    continue
                bench.check(f"decode {impl} {form}", M.rel_err(out[rows], ref))
                ms, reps = bench.time_ms(fn)
                gbps = kv_bytes / (ms * 1e-3) / 1e9
                bench.emit({"bench": "decode", "impl": impl, "form": form, "batch": B, "ctx": L,
                            "hq": Hq, "hkv": Hkv, "d": d, "kv_bytes": kv_bytes, "ms": ms,
                            "gbps": gbps, "hbm_frac": gbps / bench.copy_gbps, "reps": reps})
            del q, kc, vc, ref
            bench.free_memory()


# ---------------------------------------------------------------------------------------------
# --dump-route
# ---------------------------------------------------------------------------------------------

def dump_route(bench, out_dir):
    torch, M = bench.torch, bench.M
    cfg = route_cfg(bench)
    T, Hq, Hkv, d = 16, 32, 8, 128
    torch.manual_seed(bench.args.seed + 7)        # the problem depends on --seed and the config only
    g = torch.Generator(device="cpu").manual_seed(bench.args.seed + 7)
    sizes = torch.randint(1, 33, (190,), generator=g).tolist()    # ~3.2k chunks, many equal sizes
    bank = make_bank(bench, sum(sizes), doc_sizes=sizes, Hkv=Hkv, d=d, norm=cfg.norm)
    q = torch.randn(T, Hq, d, dtype=torch.bfloat16, device="cuda")
    offs = bank.offsets_cpu
    # Plant an exact tie at the k-th place: copy the keys of the document ranked k-1 into an
    # unselected document with the same number of chunks. Identical keys give identical bf16
    # scores, and the lower of the two ids must win the last place.
    tie = None
    _, ids0 = M.route(q, bank, cfg, "bmm")
    k_eff = min(cfg.k, bank.n_docs)
    if k_eff < bank.n_docs:
        a = int(ids0[k_eff - 1])
        chosen = set(ids0.tolist())
        same = [j for j in range(bank.n_docs) if j not in chosen and sizes[j] == sizes[a]]
        if same:
            c = min(same, key=lambda j: (j > a, j))     # prefer a lower id: the copy then wins
            bank.keys[:, int(offs[c]):int(offs[c + 1])] = bank.keys[:, int(offs[a]):int(offs[a + 1])]
            tie = {"docs": sorted([a, c]), "winner": min(a, c), "loser": max(a, c)}
    sc, ids, doc_scores = M.route(q, bank, cfg, "bmm", return_doc_scores=True)
    sc_ref, ids_ref = M.route(q, bank, cfg, "ref")
    exact = M.route_reference_f64(q, bank, cfg)
    check_route(bench, "dump route torch-bmm", sc, ids, exact, cfg.k)
    check_route(bench, "dump route torch-ref-layout", sc_ref, ids_ref, exact, cfg.k)
    if tie is not None:
        sa, sb = (float(doc_scores[j]) for j in tie["docs"])
        tie["score"] = sa
        tie["exact_tie"] = sa == sb
        tie["winner_selected"] = tie["winner"] in ids.tolist()
        tie["loser_selected"] = tie["loser"] in ids.tolist()
        if sa == sb and (not tie["winner_selected"] or tie["loser_selected"]):
            raise CheckFailed(f"dump: planted tie {tie} not resolved to the lower id")
    os.makedirs(out_dir, exist_ok=True)
    files = {}

    def write(name, t, dtype):
        t = t.detach().contiguous().cpu()
        raw = t.view(torch.int16) if dtype == "bf16" else t
        path = os.path.join(out_dir, name + ".bin")
        with open(path, "wb") as f:
            f.write(raw.numpy().astype(raw.numpy().dtype.newbyteorder("<")).tobytes())
        files[name] = {"file": name + ".bin", "dtype": dtype, "shape": list(t.shape)}

    write("q", q, "bf16")
    write("keys", bank.keys, "bf16")
    write("doc_offsets", offs.to(torch.int64), "int64")
    write("ids", ids.to(torch.int64), "int64")
    write("scores", sc, "bf16")
    write("ids_ref_layout", ids_ref.to(torch.int64), "int64")
    write("doc_scores", doc_scores, "bf16")
    write("doc_scores_f64", exact, "float64")
    desc = {
        "format": "msa-route-dump-v1",
        "what": "one row's routing (spec §4.3-§4.4): q [T,Hq,d] -> optional L2 norm -> optional "
                "bf16(q*d^-0.5) -> bf16 scores vs keys[h // (Hq/Hkv)] -> head reduce -> token "
                "reduce -> chunk->doc reduce -> top-k (ties: lower doc id first)",
        "config": {"k": cfg.k, "k_eff": k_eff, "head_reduce": cfg.head_reduce,
                   "token_reduce": cfg.token_reduce, "chunk_reduce": cfg.chunk_reduce,
                   "norm": cfg.norm, "scale": cfg.scale},
        "shape": {"tokens": T, "hq": Hq, "hkv": Hkv, "d": d, "chunks": bank.n_chunks,
                  "docs": bank.n_docs},
        "files": files,
        "byte_order": "little",
        "tie": tie,
        "layouts_agree": ids.tolist() == ids_ref.tolist(),
        "card": bench.card,
        "torch": torch.__version__,
        "seed": bench.args.seed,
    }
    with open(os.path.join(out_dir, "route.json"), "w") as f:
        json.dump(desc, f, indent=1)
    log(f"dump: wrote the routing problem to {out_dir} (C {bank.n_chunks}, N {bank.n_docs}, "
        f"ids {ids.tolist()}, tie {tie})")


# ---------------------------------------------------------------------------------------------

def main(argv=None):
    args = parse_args(argv)
    try:
        import torch
    except ImportError:
        sys.exit("bench_torch.py: PyTorch is not installed here; run this on the GPU machine")
    if not torch.cuda.is_available():
        sys.exit("bench_torch.py: CUDA is not available (torch.cuda.is_available() is False); "
                 "run this on the GPU machine")
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import msa_torch as M

    torch.manual_seed(args.seed)
    bench = Bench(torch, M, args)
    t_start = time.perf_counter()
    log(f"card {bench.card}, torch {torch.__version__}, CUDA {torch.version.cuda}, "
        f"groups {args.groups or '-'}{' (quick)' if args.quick else ''}")
    try:
        selftest(bench, 16384 if args.quick else 32768)
        if args.dump_route:
            dump_route(bench, args.dump_route)
        for group in GROUPS:
            if group in args.groups:
                t0 = time.perf_counter()
                {"encode": run_encode, "route": run_route, "decode": run_decode,
                 "gemm": run_gemm}[group](bench)
                log(f"{group}: {time.perf_counter() - t0:.1f} s")
    except CheckFailed as e:
        log(f"CHECK FAILED: {e}")
        log("aborting: an implementation disagrees with the float64 reference")
        return 2
    if bench.records:
        print_table(bench)
    log(f"total {time.perf_counter() - t_start:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
