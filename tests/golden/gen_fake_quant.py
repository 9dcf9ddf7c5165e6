"""Golden fixtures for fake quantization: Distiller's range-linear formulas (q_utils.py) written
with PyTorch float32 ops: scale/zero-point from the tensor range, q = clamp(round(scale*x - zp)),
x_hat = (q + zp) / scale. Per tensor and per output channel, modes sym / asym_u / asym_s.

Run with Debian's python3-torch:  /usr/bin/python3 tests/golden/gen_fake_quant.py
"""
import os

import torch

from fixture_io import save, seeded

HERE = os.path.dirname(os.path.abspath(__file__))


def params(mode, bits, tmin, tmax):
    if mode == "sym":
        n = 2 ** (bits - 1) - 1
        sat = torch.max(tmin.abs(), tmax.abs())
        sat = torch.where(sat == 0, torch.full_like(sat, n), sat)
        scale = n / sat
        zp = torch.zeros_like(scale)
        lo, hi = -(2 ** (bits - 1)), 2 ** (bits - 1) - 1
    else:
        n = 2 ** bits - 1
        smin = torch.min(tmin, torch.zeros_like(tmin))
        smax = torch.max(tmax, torch.zeros_like(tmax))
        diff = smax - smin
        diff = torch.where(diff == 0, torch.full_like(diff, n), diff)
        scale = n / diff
        zp = (scale * smin).round()
        if mode == "asym_s":
            zp = zp + 2 ** (bits - 1)
            lo, hi = -(2 ** (bits - 1)), 2 ** (bits - 1) - 1
        else:
            lo, hi = 0, n
    return scale, zp, lo, hi


def fake_quant(x, mode, bits, per_channel):
    if per_channel:
        flat = x.view(x.shape[0], -1)
        tmin, tmax = flat.min(dim=1)[0], flat.max(dim=1)[0]
        scale, zp, lo, hi = params(mode, bits, tmin, tmax)
        shape = [-1] + [1] * (x.dim() - 1)
        scale, zp = scale.view(shape), zp.view(shape)
    else:
        scale, zp, lo, hi = params(mode, bits, x.min().view(1), x.max().view(1))
    q = torch.clamp(torch.round(scale * x - zp), lo, hi)
    return (q + zp) / scale, q


if __name__ == "__main__":
    x = seeded(5, 6, 3, 5, 7, scale=2.0) + 0.3
    x[1, 0, 0, 0] = 0.0  # a pruned weight must stay exactly zero
    out = {"x": x}
    for mode in ("sym", "asym_u", "asym_s"):
        for bits in (8, 4, 2):
            for per_channel in (False, True):
                y, q = fake_quant(x, mode, bits, per_channel)
                tag = f"{mode}_{bits}_{'pc' if per_channel else 'pt'}"
                out[f"y_{tag}"] = y
                out[f"q_{tag}"] = q
    save(os.path.join(HERE, "fake_quant.safetensors"), out)
