#!/usr/bin/env python3
"""Writes a small .msab bundle, valid or damaged in one precise way, for the
msa-run inspect tests (msa-compile does not write bundles yet). The layout
follows runtime/include/msa/runtime/ArtifactFormat.h independently of the
C++ writer, so the test also checks the reader against the spec.

usage: make_bundle.py OUT VARIANT

variants:
  good            cpu bundle with a model, two kernels, one entry
  hand-cuda       cuda:sm_90 bundle from hand-written IR (model null)
  bad-magic       the magic's first byte changed
  bad-version     ABI version 2 (checksum still valid)
  truncated       the last 100 bytes cut off
  flipped         one manifest byte flipped (checksum left as it was)
  unknown-kernel  step 1 launches a kernel the manifest lacks (resealed)
  no-cpu-so       a cpu bundle without its cpu.so section
"""
import json
import struct
import sys

MAGIC = b"MSAB\0\r\n\x1a"
HEADER_SIZE = 64
ENTRY_SIZE = 64
NAME_SIZE = 48
ALIGN = 4096


def crc32c(data):
    table = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ (0x82F63B78 if c & 1 else 0)
        table.append(c)
    crc = 0xFFFFFFFF
    for b in data:
        crc = (crc >> 8) ^ table[(crc ^ b) & 0xFF]
    return crc ^ 0xFFFFFFFF


def align(n, a):
    return (n + a - 1) // a * a


def serialize(manifest, sections, version=1):
    text = json.dumps(manifest, indent=2).encode()
    table_off = align(HEADER_SIZE + len(text), 8)
    end = table_off + ENTRY_SIZE * len(sections)
    offsets = []
    for _, payload in sections:
        end = align(end, ALIGN)
        offsets.append(end)
        end += len(payload)
    out = bytearray(end)
    out[HEADER_SIZE:HEADER_SIZE + len(text)] = text
    for i, (name, payload) in enumerate(sections):
        e = table_off + i * ENTRY_SIZE
        out[e:e + NAME_SIZE] = name.encode().ljust(NAME_SIZE, b"\0")
        out[e + NAME_SIZE:e + ENTRY_SIZE] = struct.pack(
            "<QQ", offsets[i], len(payload))
        out[offsets[i]:offsets[i] + len(payload)] = payload
    reseal(out, version, HEADER_SIZE, len(text), table_off, len(sections))
    return out


def reseal(out, version, man_off, man_size, table_off, count):
    out[0:HEADER_SIZE] = MAGIC + struct.pack(
        "<IIQQQQQQ", version, 0, len(out), man_off, man_size, table_off,
        count, crc32c(out[HEADER_SIZE:]))


MODEL = {
    "architectures": ["MSAForCausalLM"], "model_type": "qwen3",
    "vocab_size": 512, "hidden_size": 64, "intermediate_size": 128,
    "num_hidden_layers": 4, "num_attention_heads": 4,
    "num_key_value_heads": 2, "head_dim": 16, "rope_theta": 10000,
    "rms_norm_eps": 1e-06, "hidden_act": "silu", "attention_bias": False,
    "tie_word_embeddings": True, "torch_dtype": "bfloat16",
    "eos_token_id": [258, 256],
    "msa_config": {"router_layer_idx": "2,3", "doc_top_k": 2,
                   "pooling_kernel_size": 4, "decouple_router": True,
                   "aux_loss_method": "INFONCE_DECOUPLE"},
}


def bf16(*shape):
    return {"dtype": "bf16", "shape": list(shape)}


def manifest():
    return {
        "format": "msab",
        "abi_version": 1,
        "producer": "make_bundle.py",
        "target": {"name": "cpu", "triple": "x86_64-unknown-linux-gnu",
                   "cpu": "x86-64-v3"},
        "model": MODEL,
        "kernels": [
            {"name": "k0_embedding", "symbol": "_mlir_ciface_k0_embedding",
             "op": "msa.embedding",
             "args": [bf16(512, 64), {"dtype": "i32", "shape": [None]},
                      bf16(None, 64)],
             "grid": [[1, 0, 0]]},
            {"name": "k1_rms_norm", "symbol": "_mlir_ciface_k1_rms_norm",
             "op": "msa.rms_norm",
             "args": [bf16(None, 64), bf16(64), bf16(None, 64)],
             "grid": [[0, 0, 0]], "config": {"rows": 4}},
        ],
        "entries": {
            "encode_block": {
                "symbols": ["T"],
                "inputs": [{"name": "tokens", "buffer": 0}],
                "outputs": [{"name": "hidden", "buffer": 7}],
                "buffers": [
                    {"id": 0, "dtype": "i32", "shape": ["T"]},
                    dict(id=1, weight="model.embed_tokens.weight",
                         **bf16(512, 64)),
                    dict(id=2, **bf16("T", 64)),
                    dict(id=3, weight="model.norm.weight", **bf16(64)),
                    dict(id=4, **bf16("T", 64)),
                    dict(id=5, weight="model.layers.0.mlp.up_proj.weight",
                         **bf16(128, 64)),
                    dict(id=6, **bf16("T", 128)),
                    dict(id=7, **bf16("T", 2, 64)),
                ],
                "steps": [
                    {"op": "launch", "kernel": "k0_embedding",
                     "args": [1, 0, 2]},
                    {"op": "launch", "kernel": "k1_rms_norm",
                     "args": [2, 3, 4]},
                    {"op": "gemm", "a": 4, "b": 5, "c": 6},
                    {"op": "view", "src": 6, "dst": 7},
                ],
            },
        },
    }


# Never loaded by inspect; only its size is printed.
FAKE_SO = b"\x7fELF" + bytes(96)


def main():
    out_path, variant = sys.argv[1], sys.argv[2]
    m = manifest()
    sections = [("cpu.so", FAKE_SO)]
    version = 1
    if variant == "hand-cuda":
        m["target"] = {"name": "cuda", "chip": "sm_90"}
        m["model"] = None
        for k in m["kernels"]:
            k["launch"] = {"threads": 128, "items_per_block": 1,
                           "shared_bytes": 0}
        sections = [("cuda.ptx", b".version 8.7\n"),
                    ("cuda.cubin", b"\x7fELF" + bytes(60))]
    elif variant == "bad-version":
        version = 2
    elif variant == "unknown-kernel":
        m["entries"]["encode_block"]["steps"][1]["kernel"] = "k9"
    elif variant == "no-cpu-so":
        sections = []
    data = serialize(m, sections, version)
    if variant == "bad-magic":
        data[0] = ord("X")
    elif variant == "truncated":
        data = data[:-100]
    elif variant == "flipped":
        data[HEADER_SIZE + 10] ^= 0x20
    elif variant not in ("good", "hand-cuda", "bad-version",
                         "unknown-kernel", "no-cpu-so"):
        sys.exit("make_bundle.py: unknown variant " + variant)
    with open(out_path, "wb") as f:
        f.write(data)


if __name__ == "__main__":
    main()
