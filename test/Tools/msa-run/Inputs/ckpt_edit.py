#!/usr/bin/env python3
"""Damages a checkpoint in one precise way, for the bad-input tests.

usage: ckpt_edit.py DIR drop-tensor NAME
       ckpt_edit.py DIR reshape-tensor NAME     (halves the first dimension)
       ckpt_edit.py DIR retype-tensor NAME      (BF16 -> I16-sized U8 pair)
       ckpt_edit.py DIR truncate BYTES          (cuts model.safetensors)
       ckpt_edit.py DIR config-set KEY JSON     (KEY may be msa_config.KEY)
       ckpt_edit.py DIR config-delete KEY
       ckpt_edit.py DIR config-garbage
"""
import json
import os
import struct
import sys


def read_st(path):
    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + n])
    return header, raw[8 + n:]


def write_st(path, tensors, meta):
    """tensors: list of (name, dtype, shape, bytes)."""
    header = {}
    if meta:
        header["__metadata__"] = meta
    off = 0
    for name, dtype, shape, data in tensors:
        header[name] = {"dtype": dtype, "shape": shape,
                        "data_offsets": [off, off + len(data)]}
        off += len(data)
    h = json.dumps(header).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h)
        for _, _, _, data in tensors:
            f.write(data)


def load(path):
    header, data = read_st(path)
    meta = header.pop("__metadata__", None)
    tensors = []
    for name, e in sorted(header.items(), key=lambda kv: kv[1]["data_offsets"][0]):
        b, en = e["data_offsets"]
        tensors.append([name, e["dtype"], e["shape"], data[b:en]])
    return tensors, meta


def main():
    d, op = sys.argv[1], sys.argv[2]
    st = os.path.join(d, "model.safetensors")
    cfg = os.path.join(d, "config.json")
    if op in ("drop-tensor", "reshape-tensor", "retype-tensor"):
        name = sys.argv[3]
        tensors, meta = load(st)
        out = []
        for t in tensors:
            if t[0] == name:
                if op == "drop-tensor":
                    continue
                if op == "reshape-tensor":
                    t[2] = [t[2][0] // 2] + t[2][1:]
                    per = len(t[3]) // (t[2][0] * 2)
                    t[3] = t[3][: t[2][0] * per]
                if op == "retype-tensor":
                    t[1] = "I16"
            out.append(t)
        write_st(st, out, meta)
    elif op == "truncate":
        size = os.path.getsize(st)
        with open(st, "r+b") as f:
            f.truncate(size - int(sys.argv[3]))
    elif op in ("config-set", "config-delete"):
        with open(cfg) as f:
            c = json.load(f)
        key = sys.argv[3]
        target = c
        if key.startswith("msa_config."):
            target, key = c["msa_config"], key[len("msa_config."):]
        if op == "config-set":
            target[key] = json.loads(sys.argv[4])
        else:
            del target[key]
        with open(cfg, "w") as f:
            json.dump(c, f)
    elif op == "config-garbage":
        with open(cfg, "w") as f:
            f.write('{"hidden_size": 64,\n  "oops" }\n')
    else:
        sys.exit("unknown op " + op)


if __name__ == "__main__":
    main()
