"""An independent, readable PyTorch implementation of the MSA pieces we benchmark.

The math follows ../shared/docs/msa-semantics.md (the spec). Section numbers below refer to it.
Nothing here imports the project's own code: this module is the side-by-side baseline for our
CUDA kernels, so it must stay an independent reading of the spec.

Pieces:
  * document-wise RoPE (§1.1, §3.1, §6) and causal attention inside each packed document (§3.2):
    `apply_doc_rope`, `doc_causal_attention`, `encode_attention`.
  * router scoring and top-k document selection (§4.3, §4.4, §9.3): `RouterBank`, `RouteConfig`,
    `route`, plus a float64 reference `route_reference_f64`.
  * single-token decode attention over a per-row KV cache (§5): `sparse_decode`.

Conventions: query head h uses KV head h // G with G = Hq / Hkv (spec notation). bf16 in, bf16
out; float32 only where the spec says the reference computes in float32.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Sequence

import torch
import torch.nn.functional as F

BF16 = torch.bfloat16
BF16_MIN = torch.finfo(torch.bfloat16).min  # -3.38953e38, the reference's mask value (§4.3 step 4)

# Spec §9.3: reference scoring tiles ("slices") close after the document that brings them to at
# least this many chunks; a final remainder below REF_SLICE_MIN_REMAINDER is merged into the
# previous slice.
REF_SLICE_CHUNKS = 16384
REF_SLICE_MIN_REMAINDER = 1024


# ---------------------------------------------------------------------------------------------
# Document-wise RoPE (spec §1.1 "RoPE", §3.1 positions restart at 0 in every document, §6)
# ---------------------------------------------------------------------------------------------

def doc_positions(doc_lens: Sequence[int], device) -> tuple[torch.Tensor, torch.Tensor]:
    """For packed documents of the given lengths: (position within its doc, doc index) per token."""
    lens = torch.tensor([int(n) for n in doc_lens], dtype=torch.int64, device=device)
    if bool((lens <= 0).any()):
        raise ValueError("every document needs at least one token")
    total = int(lens.sum())
    starts = torch.cumsum(lens, 0) - lens
    doc_id = torch.repeat_interleave(torch.arange(len(doc_lens), device=device), lens)
    pos = torch.arange(total, device=device, dtype=torch.int64) - starts[doc_id]
    return pos, doc_id


def rope_cos_sin(pos: torch.Tensor, head_dim: int, theta: float) -> tuple[torch.Tensor, torch.Tensor]:
    """cos/sin tables [T, head_dim] in bf16, as HF Qwen3 builds them.

    inv_freq_i = 1 / theta^(2i/d) in float32 (i = 0..d/2-1); angle = pos * inv_freq in float32;
    cos = [cos(angle), cos(angle)] (rotate-half layout), then cast to bf16. Same for sin.
    """
    if head_dim % 2:
        raise ValueError("RoPE needs an even head dim")
    exponents = torch.arange(0, head_dim, 2, dtype=torch.int64, device=pos.device).float() / head_dim
    inv_freq = 1.0 / (float(theta) ** exponents)                       # float32 [d/2]
    angle = pos.to(torch.float32)[:, None] * inv_freq[None, :]         # float32 [T, d/2]
    emb = torch.cat((angle, angle), dim=-1)                            # float32 [T, d]
    return emb.cos().to(BF16), emb.sin().to(BF16)


def rotate_half(x: torch.Tensor) -> torch.Tensor:
    """rotate_half([a, b]) = [-b, a] over the last dim."""
    half = x.shape[-1] // 2
    return torch.cat((-x[..., half:], x[..., :half]), dim=-1)


def apply_rope(x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
    """x [T, H, d] bf16; cos/sin [T, d] bf16. x*cos + rotate_half(x)*sin, every op in bf16."""
    return x * cos[:, None, :] + rotate_half(x) * sin[:, None, :]


def apply_doc_rope(q: torch.Tensor, k: torch.Tensor, doc_lens: Sequence[int], theta: float):
    """Rotate packed q [T, Hq, d] and k [T, Hkv, d] with positions restarting at 0 per document."""
    pos, _ = doc_positions(doc_lens, q.device)
    if pos.numel() != q.shape[0] or k.shape[0] != q.shape[0]:
        raise ValueError(f"doc_lens sum to {pos.numel()} tokens, q has {q.shape[0]}, k has {k.shape[0]}")
    cos, sin = rope_cos_sin(pos, q.shape[-1], theta)
    return apply_rope(q, cos, sin), apply_rope(k, cos, sin)


# ---------------------------------------------------------------------------------------------
# Causal attention inside each packed document (spec §3.2)
# ---------------------------------------------------------------------------------------------

SDPA_BACKENDS = {
    "sdpa-flash": "FLASH_ATTENTION",
    "sdpa-cudnn": "CUDNN_ATTENTION",
    "sdpa-efficient": "EFFICIENT_ATTENTION",
    "sdpa-math": "MATH",
}


def sdpa_backend(impl: str):
    from torch.nn.attention import SDPBackend
    return getattr(SDPBackend, SDPA_BACKENDS[impl])


def equal_length_runs(doc_lens: Sequence[int]) -> list[tuple[int, int, int]]:
    """Maximal runs of consecutive documents of equal length: (first token, doc count, length)."""
    runs: list[tuple[int, int, int]] = []
    start = 0
    for n in doc_lens:
        n = int(n)
        if runs and runs[-1][2] == n:
            s, m, _ = runs[-1]
            runs[-1] = (s, m + 1, n)
        else:
            runs.append((start, 1, n))
        start += n
    return runs


def sdpa_doc_causal(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, doc_lens: Sequence[int],
                    impl: str = "sdpa-flash") -> torch.Tensor:
    """Causal attention inside each document with torch SDPA, forced to one backend.

    SDPA has no varlen entry point, so each run of consecutive equal-length documents becomes one
    batched call: [m*L, H, d] is viewed as [m, L, H, d] and transposed to [m, H, L, d] (a view, no
    copy). Equal lengths everywhere => exactly one call. GQA through enable_gqa when Hkv < Hq.
    Returns [T, Hq, d] bf16.
    """
    from torch.nn.attention import sdpa_kernel
    T, H, d = q.shape
    Hkv = k.shape[1]
    gqa = Hkv != H
    outs = []
    with sdpa_kernel(sdpa_backend(impl)):
        for start, m, L in equal_length_runs(doc_lens):
            sl = slice(start, start + m * L)
            qb = q[sl].reshape(m, L, H, d).transpose(1, 2)
            kb = k[sl].reshape(m, L, Hkv, d).transpose(1, 2)
            vb = v[sl].reshape(m, L, Hkv, d).transpose(1, 2)
            ob = F.scaled_dot_product_attention(qb, kb, vb, is_causal=True, scale=d ** -0.5,
                                                enable_gqa=gqa)
            outs.append(ob.transpose(1, 2).reshape(m * L, H, d))
    return outs[0] if len(outs) == 1 else torch.cat(outs, dim=0)


_FLEX_COMPILED = None


def _flex():
    """torch.compile(flex_attention), built once."""
    global _FLEX_COMPILED
    if _FLEX_COMPILED is None:
        from torch.nn.attention.flex_attention import flex_attention
        dyn = torch._dynamo.config
        # Every benchmark shape and every block mask may recompile; keep them all compiled instead
        # of silently falling back to the (very slow) unfused path after the default limit.
        for name in ("cache_size_limit", "recompile_limit"):
            if hasattr(dyn, name):
                setattr(dyn, name, max(getattr(dyn, name), 256))
        _FLEX_COMPILED = torch.compile(flex_attention, dynamic=False)
    return _FLEX_COMPILED


def make_doc_block_mask(doc_lens: Sequence[int], device):
    """FlexAttention BlockMask for 'same document and causal' over the packed token axis."""
    from torch.nn.attention.flex_attention import create_block_mask
    _, doc_id = doc_positions(doc_lens, device)
    doc_id = doc_id.to(torch.int32)
    T = doc_id.numel()

    def doc_causal(b, h, q_idx, kv_idx):
        return (doc_id[q_idx] == doc_id[kv_idx]) & (q_idx >= kv_idx)

    return create_block_mask(doc_causal, None, None, T, T, device=device)


def flex_doc_causal(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, block_mask) -> torch.Tensor:
    """Causal attention inside each document with compiled FlexAttention and a document mask.

    The whole packed sequence is one batch row [1, H, T, d] (views of [T, H, d]).
    Returns [T, Hq, d] bf16 (a view).
    """
    T, H, d = q.shape
    Hkv = k.shape[1]
    qb = q.transpose(0, 1).unsqueeze(0)
    kb = k.transpose(0, 1).unsqueeze(0)
    vb = v.transpose(0, 1).unsqueeze(0)
    out = _flex()(qb, kb, vb, block_mask=block_mask, scale=d ** -0.5, enable_gqa=(Hkv != H))
    return out[0].transpose(0, 1)


def doc_causal_attention(q, k, v, doc_lens, impl="sdpa-flash", block_mask=None):
    """Attention only (no RoPE): impl in SDPA_BACKENDS or 'flex-docmask'."""
    if impl == "flex-docmask":
        if block_mask is None:
            block_mask = make_doc_block_mask(doc_lens, q.device)
        return flex_doc_causal(q, k, v, block_mask)
    return sdpa_doc_causal(q, k, v, doc_lens, impl)


def encode_attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, doc_lens: Sequence[int],
                     theta: float, impl: str = "sdpa-flash", block_mask=None) -> torch.Tensor:
    """Stage-1 attention of packed documents (spec §3.2): doc-wise RoPE on q and k, then causal
    attention restricted to each document, softmax scale 1/sqrt(d), GQA head h -> KV head h//G.

    q [T, Hq, d], k/v [T, Hkv, d] bf16 (q/k already through q_norm/k_norm); returns [T, Hq, d] bf16.
    """
    qr, kr = apply_doc_rope(q, k, doc_lens, theta)
    return doc_causal_attention(qr, kr, v, doc_lens, impl, block_mask)


def encode_reference_f64(q, k, v, doc_lens, theta, docs, heads, rope=True) -> dict:
    """float64 reference of encode_attention for a slice: the given doc indices and query heads.

    RoPE here is exact (float64 angles and products), so it also checks the bf16 RoPE path.
    Returns {doc index: [L, len(heads), d] float64}.
    """
    T, H, d = q.shape
    G = H // k.shape[1]
    heads_t = torch.tensor(list(heads), device=q.device)
    kv_heads = heads_t // G
    starts = [0]
    for n in doc_lens:
        starts.append(starts[-1] + int(n))
    out = {}
    for j in docs:
        s, e = starts[j], starts[j + 1]
        L = e - s
        qd = q[s:e].index_select(1, heads_t).double()    # [L, h, d]
        kd = k[s:e].index_select(1, kv_heads).double()
        vd = v[s:e].index_select(1, kv_heads).double()
        if rope:
            pos = torch.arange(L, device=q.device, dtype=torch.float64)
            inv = float(theta) ** (-torch.arange(0, d, 2, device=q.device, dtype=torch.float64) / d)
            ang = pos[:, None] * inv[None, :]
            cos = torch.cat((ang, ang), -1).cos()[:, None, :]
            sin = torch.cat((ang, ang), -1).sin()[:, None, :]
            qd = qd * cos + rotate_half(qd) * sin
            kd = kd * cos + rotate_half(kd) * sin
        sc = torch.einsum("qhd,khd->hqk", qd, kd) * d ** -0.5
        causal = torch.ones(L, L, dtype=torch.bool, device=q.device).tril()
        sc = sc.masked_fill(~causal, float("-inf"))
        out[j] = torch.einsum("hqk,khd->qhd", torch.softmax(sc, dim=-1), vd)
    return out


# ---------------------------------------------------------------------------------------------
# Routing (spec §4.3 scores, §4.4 top-k, §9.2 key layout, §9.3 reference tiles)
# ---------------------------------------------------------------------------------------------

HEAD_REDUCE = ("mean", "max")
TOKEN_REDUCE = ("max", "mean", "last")
CHUNK_REDUCE = ("max", "mean")


@dataclass(frozen=True)
class RouteConfig:
    """One router layer's routing knobs (spec §1.3, §4.3).

    norm  = (aux_loss_method == "INFONCE")                       -> L2-normalise the routing query
    scale = not (aux_loss_method == "INFONCE" and decouple_router) -> multiply it by d^-0.5
    MSA-4B's recipe: mean / max / max, norm False, scale True, k 16.
    """
    k: int = 16
    head_reduce: str = "mean"
    token_reduce: str = "max"
    chunk_reduce: str = "max"
    norm: bool = False
    scale: bool = True

    def __post_init__(self):
        if self.head_reduce not in HEAD_REDUCE:
            raise ValueError(f"head_reduce must be one of {HEAD_REDUCE}")
        if self.token_reduce not in TOKEN_REDUCE:
            raise ValueError(f"token_reduce must be one of {TOKEN_REDUCE}")
        if self.chunk_reduce not in CHUNK_REDUCE:
            raise ValueError(f"chunk_reduce must be one of {CHUNK_REDUCE}")
        if self.k < 1:
            raise ValueError("k must be >= 1")
        if not (self.norm or self.scale):
            # Spec §4.3: NORM implies aux_loss_method == "INFONCE", and SCALE is off only for
            # INFONCE with a decoupled router; so norm=False, scale=False cannot happen.
            raise ValueError("norm=False with scale=False is not a configuration the spec allows")


class RouterBank:
    """The routing keys of one router layer on one GPU, laid out as spec §9.2: keys [Hkv, C, d]
    bf16, chunks of a document contiguous, documents in order. doc_offsets [N+1] (int64, first
    chunk of every document, then C) define the chunk -> document map.

    If the config uses NORM, the keys must already be L2-normalised (done at encoding time,
    spec §3.5); see `l2_normalize`.
    """

    def __init__(self, keys: torch.Tensor, doc_offsets: Sequence[int] | torch.Tensor):
        if keys.dim() != 3 or keys.dtype != BF16:
            raise ValueError("keys must be [Hkv, C, d] bf16")
        offs = torch.as_tensor(doc_offsets, dtype=torch.int64).cpu()
        C = keys.shape[1]
        if offs.dim() != 1 or offs.numel() < 2 or int(offs[0]) != 0 or int(offs[-1]) != C:
            raise ValueError("doc_offsets must be [N+1] with offsets[0] = 0 and offsets[N] = C")
        sizes = offs[1:] - offs[:-1]
        if bool((sizes <= 0).any()):
            raise ValueError("every document needs at least one chunk")
        dev = keys.device
        self.keys = keys
        self.offsets_cpu = offs
        self.n_docs = offs.numel() - 1
        self.n_chunks = C
        self.doc_sizes = sizes.to(dev, torch.float32)                                   # [N]
        self.chunk_doc = torch.repeat_interleave(torch.arange(self.n_docs), sizes).to(dev)  # [C]
        self.slices = reference_slices(offs)

    @property
    def key_bytes(self) -> int:
        return self.keys.numel() * self.keys.element_size()


def reference_slices(offsets: torch.Tensor) -> list[tuple[int, int]]:
    """Spec §9.3 tiles as (first doc, end doc): a slice closes after the document that brings it to
    >= 16384 chunks; the remainder is its own slice if >= 1024 chunks, else merged into the previous
    one (so a bank below 16384 chunks is a single slice)."""
    off = offsets.to(torch.int64).cpu()
    n_docs = off.numel() - 1
    slices: list[tuple[int, int]] = []
    d0 = 0
    while d0 < n_docs:
        # the slice from doc d0 ends after doc j1 - 1, where j1 is the smallest offset index with
        # off[j1] - off[d0] >= REF_SLICE_CHUNKS (j1 = N + 1 means the rest is too short)
        target = torch.tensor([int(off[d0]) + REF_SLICE_CHUNKS], dtype=torch.int64)
        j1 = int(torch.searchsorted(off, target, side="left")[0])
        if j1 > n_docs:
            break
        slices.append((d0, j1))
        d0 = j1
    if d0 < n_docs:
        if int(off[n_docs]) - int(off[d0]) >= REF_SLICE_MIN_REMAINDER or not slices:
            slices.append((d0, n_docs))
        else:
            slices[-1] = (slices[-1][0], n_docs)
    return slices


def l2_normalize(x: torch.Tensor) -> torch.Tensor:
    """x / max(||x||_2, 1e-12) over the last dim, as F.normalize does on a bf16 tensor (the norm is
    rounded to bf16 first, the quotient rounded to bf16)."""
    return F.normalize(x, p=2.0, dim=-1, eps=1e-12)


def prepare_query(q: torch.Tensor, cfg: RouteConfig) -> torch.Tensor:
    """Spec §4.3 steps 1-2: optional L2 normalisation, then optional bf16(q * d^-0.5)."""
    if cfg.norm:
        q = l2_normalize(q)
    if cfg.scale:
        q = q * (q.shape[-1] ** -0.5)
    return q


def _reduce(x: torch.Tensor, dims, how: str) -> torch.Tensor:
    """mean (float32 accumulation inside torch, one bf16 rounding) or max over `dims`."""
    if how == "mean":
        return x.mean(dim=dims)
    return x.amax(dim=dims)


def _reduce_tokens(x: torch.Tensor, dim: int, how: str) -> torch.Tensor:
    if how == "last":
        return x.select(dim, x.shape[dim] - 1)
    return _reduce(x, dim, how)


def chunks_to_docs(s: torch.Tensor, chunk_doc: torch.Tensor, n_docs: int, how: str,
                   doc_sizes: torch.Tensor) -> torch.Tensor:
    """Chunk scores s [R, n] bf16 -> document scores [R, n_docs] bf16 (spec §4.3 step 7).

    max: scatter-max (exact; done on float32 copies of the bf16 values).
    mean: float32 sum of the bf16 chunk scores / chunk count, rounded once to bf16.
    """
    R = s.shape[0]
    idx = chunk_doc.unsqueeze(0).expand(R, -1)
    if how == "max":
        out = torch.full((R, n_docs), float("-inf"), dtype=torch.float32, device=s.device)
        out.scatter_reduce_(1, idx, s.float(), reduce="amax", include_self=False)
    else:
        out = torch.zeros((R, n_docs), dtype=torch.float32, device=s.device)
        out.scatter_add_(1, idx, s.float())
        out = out / doc_sizes
    return out.to(BF16)


def route_scores_ref_layout(qp: torch.Tensor, bank: RouterBank, cfg: RouteConfig) -> torch.Tensor:
    """Document scores [N] bf16 computed in the reference's tensor layout (spec §9.3).

    Routing queries in the all-gathered layout [B=1, Hkv, G, T, d]; keys [Hkv, C, d]. For every
    reference slice (≈16384 chunks cut at document boundaries): scores [1, Hkv, G, T, n] bf16 =
    einsum("bkgtd,kcd->bkgtc") (one bmm over the KV heads; the keys are not copied); mask the
    invalid query slots with bf16_min (here every token is a valid routing-query token, but the
    reference does this pass); head reduce over (Hkv, G); token reduce over T; chunk -> doc
    reduce inside the slice; scatter-max into the per-GPU document table [1, N+1] whose slot 0 is
    the dummy.

    The released reference code was not available to us; this is rebuilt from the layouts and
    steps of spec §9.3. We picked the cheapest faithful GEMM form on purpose: the broadcast form
    torch.matmul(q5, keys.unsqueeze(1).transpose(-1, -2)) materialises G transposed copies of
    every key tile and ran 2.2x slower (35.7 ms instead of 16.3 ms for 1M chunks and 1 token,
    on an H200).
    """
    T, Hq, d = qp.shape
    Hkv = bank.keys.shape[0]
    G = Hq // Hkv
    dev = qp.device
    q5 = qp.reshape(T, Hkv, G, d).permute(1, 2, 0, 3).unsqueeze(0)          # [1, Hkv, G, T, d]
    valid = torch.ones(1, 1, 1, T, 1, dtype=torch.bool, device=dev)       # routing-query slots
    table = torch.full((1, bank.n_docs + 1), BF16_MIN, dtype=BF16, device=dev)
    offs = bank.offsets_cpu
    for d0, d1 in bank.slices:
        c0, c1 = int(offs[d0]), int(offs[d1])
        s = torch.einsum("bkgtd,kcd->bkgtc", q5, bank.keys[:, c0:c1, :])  # [1, Hkv, G, T, n]
        s = s.masked_fill(~valid, BF16_MIN)
        s = _reduce(s, (1, 2), cfg.head_reduce)                           # [1, T, n]
        s = _reduce_tokens(s, 1, cfg.token_reduce)                        # [1, n]
        doc_s = chunks_to_docs(s, bank.chunk_doc[c0:c1] - d0, d1 - d0, cfg.chunk_reduce,
                               bank.doc_sizes[d0:d1])                     # [1, d1 - d0]
        slot = torch.arange(d0 + 1, d1 + 1, device=dev).unsqueeze(0)
        table.scatter_reduce_(1, slot, doc_s, reduce="amax")
    return table[0, 1:]


def route_scores_bmm(qp: torch.Tensor, bank: RouterBank, cfg: RouteConfig,
                     max_temp_bytes: int = 4 << 30) -> torch.Tensor:
    """Document scores [N] bf16 with keys [Hkv, C, d] and one bmm per piece of the chunk axis.

    Queries [Hkv, G*T, d]; scores = bmm(queries, keys^T) -> [Hkv, G*T, n] bf16, viewed
    [Hkv, G, T, n]; head reduce over (Hkv, G); token reduce over T -> chunk scores [n]. The chunk
    axis is cut into pieces only so the score temporary stays under max_temp_bytes (one piece for
    1M chunks at 64 tokens). Then one chunk -> doc reduce over the whole bank.
    """
    T, Hq, d = qp.shape
    Hkv = bank.keys.shape[0]
    G = Hq // Hkv
    C = bank.n_chunks
    qb = qp.reshape(T, Hkv, G, d).permute(1, 2, 0, 3).reshape(Hkv, G * T, d)
    piece = max(1, min(C, max_temp_bytes // (Hq * T * 2)))
    chunk_scores = torch.empty(C, dtype=BF16, device=qp.device)
    for c0 in range(0, C, piece):
        c1 = min(C, c0 + piece)
        s = torch.bmm(qb, bank.keys[:, c0:c1, :].transpose(1, 2))        # [Hkv, G*T, n]
        s = s.view(Hkv, G, T, c1 - c0)
        s = _reduce(s, (0, 1), cfg.head_reduce)                           # [T, n]
        chunk_scores[c0:c1] = _reduce_tokens(s, 0, cfg.token_reduce)      # [n]
    return chunks_to_docs(chunk_scores.unsqueeze(0), bank.chunk_doc, bank.n_docs,
                          cfg.chunk_reduce, bank.doc_sizes)[0]


def topk_lower_id_wins(doc_scores: torch.Tensor, k: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Top-k of bf16 document scores [N], ties broken by the smaller document id (spec §4.4, our
    deliberate rule). k_eff = min(k, N). Documents scoring <= -1e9 are never selected: their slots
    come back with id -1 and score -inf. Returns (scores [k_eff] bf16, ids [k_eff] int64), best
    first.

    A stable descending sort keeps equal scores in id order, so its first k_eff entries are the
    answer (-0.0 is made +0.0 first: the radix sort would order it below +0.0). On an H200 this
    is 0.06 ms for 64K or 1M documents; torch.topk is 0.10 ms but leaves tie order unspecified,
    and torch.topk over a unique int64 key (order(score) * 2^32 + 2^32 - 1 - id) took 0.5 ms.
    """
    N = doc_scores.numel()
    k_eff = min(k, N)
    x = torch.where(doc_scores == 0, torch.zeros_like(doc_scores), doc_scores)
    scores, sel = torch.sort(x, descending=True, stable=True)
    scores, sel = scores[:k_eff], sel[:k_eff]
    dead = scores.float() <= -1e9
    sel = torch.where(dead, torch.full_like(sel, -1), sel)
    scores = torch.where(dead, torch.full_like(scores, float("-inf")), scores)
    return scores, sel


def route(q: torch.Tensor, bank, cfg: RouteConfig = RouteConfig(), layout: str = "bmm",
          return_doc_scores: bool = False, doc_offsets=None):
    """Route one row (spec §4.3-§4.4).

    q: [T, Hq, d] bf16, the routing-query vectors of the row's T valid routing-query tokens
       (router_q_proj outputs if decoupled, else post-RoPE q); every token takes part.
    bank: RouterBank (keys [Hkv, C, d], doc offsets), or the keys tensor itself together with
       doc_offsets [N+1] (the bank is then built on every call; build it once when timing).
    layout: "ref" (the reference's tensor layout and tiles) or "bmm" ([Hkv, C, d] + bmm).
    Returns (scores [k_eff] bf16, ids [k_eff] int64) best first, optionally the [N] doc scores.
    """
    if not isinstance(bank, RouterBank):
        if doc_offsets is None:
            raise ValueError("route(q, keys, ...) needs doc_offsets")
        bank = RouterBank(bank, doc_offsets)
    if q.dim() != 3 or q.shape[-1] != bank.keys.shape[-1] or q.shape[1] % bank.keys.shape[0]:
        raise ValueError("q must be [T, Hq, d] with Hq a multiple of the bank's Hkv")
    qp = prepare_query(q, cfg)
    if layout == "ref":
        doc_scores = route_scores_ref_layout(qp, bank, cfg)
    elif layout == "bmm":
        doc_scores = route_scores_bmm(qp, bank, cfg)
    else:
        raise ValueError("layout must be 'ref' or 'bmm'")
    scores, ids = topk_lower_id_wins(doc_scores, cfg.k)
    if return_doc_scores:
        return scores, ids, doc_scores
    return scores, ids


def route_reference_f64(q: torch.Tensor, bank: RouterBank, cfg: RouteConfig,
                        piece: Optional[int] = None) -> torch.Tensor:
    """Exact document scores [N] float64 (no bf16 roundings anywhere), straight from the formula
    s_j = chunk_reduce_{c in j} token_reduce_t head_reduce_h <q'_{t,h}, K_{c, h // G}>, with
    q' = q / ||q|| if norm and q' *= d^-0.5 if scale."""
    T, Hq, d = q.shape
    Hkv = bank.keys.shape[0]
    G = Hq // Hkv
    qd = q.double()
    if cfg.norm:
        qd = qd / qd.norm(dim=-1, keepdim=True).clamp_min(1e-12)
    if cfg.scale:
        qd = qd * d ** -0.5
    qg = qd.reshape(T, Hkv, G, d)                 # head h = kv * G + g reads KV head kv = h // G
    if piece is None:              # float64 key piece and score temporary of <= ~1 GiB each
        piece = max(1024, min((1 << 30) // (T * Hq * 8), (1 << 30) // (Hkv * d * 8)))
    chunk = torch.empty(bank.n_chunks, dtype=torch.float64, device=q.device)
    for c0 in range(0, bank.n_chunks, piece):
        c1 = min(bank.n_chunks, c0 + piece)
        kd = bank.keys[:, c0:c1, :].double()                            # [Hkv, n, d]
        s = torch.einsum("tkgd,kcd->tkgc", qg, kd).reshape(T, Hq, c1 - c0)
        s = s.mean(dim=1) if cfg.head_reduce == "mean" else s.amax(dim=1)
        if cfg.token_reduce == "max":
            s = s.amax(dim=0)
        elif cfg.token_reduce == "mean":
            s = s.mean(dim=0)
        else:
            s = s[-1]
        chunk[c0:c1] = s
    if cfg.chunk_reduce == "max":
        out = torch.full((bank.n_docs,), float("-inf"), dtype=torch.float64, device=q.device)
        out.scatter_reduce_(0, bank.chunk_doc, chunk, reduce="amax", include_self=False)
    else:
        out = torch.zeros(bank.n_docs, dtype=torch.float64, device=q.device)
        out.scatter_add_(0, bank.chunk_doc, chunk)
        out = out / bank.doc_sizes.double()
    return out


# ---------------------------------------------------------------------------------------------
# Decode attention (spec §5, single new token per row, every cache entry valid)
# ---------------------------------------------------------------------------------------------

DECODE_FORMS = ("gqa-fold", "enable-gqa")


def sparse_decode(q: torch.Tensor, k_cache: torch.Tensor, v_cache: torch.Tensor,
                  impl: str = "sdpa-flash", form: str = "gqa-fold") -> torch.Tensor:
    """One decode step: q [B, Hq, d] (one token per row) over k/v_cache [B, Hkv, L, d], all L
    entries valid; softmax scale 1/sqrt(d); head h reads KV head h // G. Returns [B, Hq, d] bf16.

    form "gqa-fold": the G query heads sharing a KV head become G query rows of that KV head
      ([B, Hkv, G, d], non-causal: each attends to all L keys), so K/V are read once by any
      backend. form "enable-gqa": q [B, Hq, 1, d] with SDPA's enable_gqa=True.
    """
    from torch.nn.attention import sdpa_kernel
    B, Hq, d = q.shape
    Hkv = k_cache.shape[1]
    G = Hq // Hkv
    with sdpa_kernel(sdpa_backend(impl)):
        if form == "gqa-fold":
            o = F.scaled_dot_product_attention(q.reshape(B, Hkv, G, d), k_cache, v_cache,
                                               scale=d ** -0.5)
            return o.reshape(B, Hq, d)
        if form == "enable-gqa":
            o = F.scaled_dot_product_attention(q.unsqueeze(2), k_cache, v_cache,
                                               scale=d ** -0.5, enable_gqa=(G != 1))
            return o.squeeze(2)
    raise ValueError(f"form must be one of {DECODE_FORMS}")


def decode_reference_f64(q, k_cache, v_cache, rows) -> torch.Tensor:
    """float64 decode attention for the given batch rows: [len(rows), Hq, d]."""
    B, Hq, d = q.shape
    G = Hq // k_cache.shape[1]
    Hkv = k_cache.shape[1]
    r = torch.tensor(list(rows), device=q.device)
    qd = q.index_select(0, r).double().reshape(len(rows), Hkv, G, d)      # head h -> (h // G, h % G)
    kd = k_cache.index_select(0, r).double()                               # [R, Hkv, L, d]
    vd = v_cache.index_select(0, r).double()
    p = torch.softmax(torch.einsum("rkgd,rkld->rkgl", qd, kd) * d ** -0.5, dim=-1)
    return torch.einsum("rkgl,rkld->rkgd", p, vd).reshape(len(rows), Hq, d)


def rel_err(out: torch.Tensor, ref: torch.Tensor) -> float:
    """||out - ref|| / ||ref|| in float64; NaN anywhere gives inf."""
    o = out.double()
    r = ref.double()
    if not bool(torch.isfinite(o).all()):
        return float("inf")
    den = float(r.norm())
    return float((o - r).norm()) / (den if den > 0 else 1.0)
