"""Writes safetensors fixtures from PyTorch tensors without the safetensors package.

Debian's python3-torch (1.13) has no safetensors support, so the format is written by hand:
u64 little-endian header length, JSON header, raw little-endian bytes. Used by the gen_*.py
scripts in this folder; the fixtures they write are committed so tests never need torch.
"""
import json
import struct

import torch

_DTYPES = {torch.float32: "F32", torch.int32: "I32", torch.int64: "I64", torch.int8: "I8", torch.uint8: "U8"}


def save(path, tensors, metadata=None):
    header = {}
    if metadata:
        header["__metadata__"] = {k: str(v) for k, v in metadata.items()}
    blobs = []
    offset = 0
    for name in sorted(tensors):
        t = tensors[name].detach().contiguous().cpu()
        data = t.numpy().tobytes()
        header[name] = {"dtype": _DTYPES[t.dtype], "shape": list(t.shape),
                        "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    text = json.dumps(header, separators=(",", ":"))
    text += " " * ((8 - len(text) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text.encode())
        for b in blobs:
            f.write(b)


def seeded(seed, *shape, scale=1.0):
    g = torch.Generator().manual_seed(seed)
    return (torch.rand(*shape, generator=g) * 2 - 1) * scale


_NP_DTYPES = {"F32": "<f4", "I32": "<i4", "I64": "<i8", "I8": "i1", "U8": "u1"}


def load(path):
    """Reads a safetensors file (bmc checkpoints, masks, logits) into a dict of torch tensors."""
    import numpy as np

    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    out = {}
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        begin, end = entry["data_offsets"]
        array = np.frombuffer(data[8 + n + begin:8 + n + end], dtype=_NP_DTYPES[entry["dtype"]])
        out[name] = torch.from_numpy(array.copy().reshape(entry["shape"]))
    return out
