"""Golden fixtures for conv2d, max/avg pooling and global average pooling from PyTorch.

Run with Debian's python3-torch, from this folder:  /usr/bin/python3 gen_conv_pool.py
Awkward shapes on purpose: batch 3, 5x7 inputs, channels 3/5/6, kernels 1/3/5, stride 1/2,
padding 0/1/2.
"""
import os

import torch
import torch.nn.functional as F

from fixture_io import save, seeded

HERE = os.path.dirname(os.path.abspath(__file__))


def conv_case(name, n, c, h, w, k, r, stride, pad, seed):
    x = seeded(seed, n, c, h, w).requires_grad_()
    wt = seeded(seed + 1, k, c, r, r, scale=0.5).requires_grad_()
    b = seeded(seed + 2, k).requires_grad_()
    y = F.conv2d(x, wt, b, stride=stride, padding=pad)
    dy = seeded(seed + 3, *y.shape)
    y.backward(dy)
    save(os.path.join(HERE, f"conv_{name}.safetensors"),
         {"x": x, "w": wt, "b": b, "y": y, "dy": dy, "dx": x.grad, "dw": wt.grad, "db": b.grad},
         {"stride": stride, "pad": pad})


def pool_case(name, kind, shape, kernel, stride, pad, seed):
    x = seeded(seed, *shape).requires_grad_()
    if kind == "max":
        y = F.max_pool2d(x, kernel, stride, pad)
    else:
        y = F.avg_pool2d(x, kernel, stride, pad, count_include_pad=True)
    dy = seeded(seed + 1, *y.shape)
    y.backward(dy)
    save(os.path.join(HERE, f"pool_{name}.safetensors"), {"x": x, "y": y, "dy": dy, "dx": x.grad},
         {"kernel": kernel, "stride": stride, "pad": pad})


def global_avg_pool_case(name, shape, seed):
    x = seeded(seed, *shape).requires_grad_()
    y = x.mean(dim=(2, 3))
    dy = seeded(seed + 1, *y.shape)
    y.backward(dy)
    save(os.path.join(HERE, f"gap_{name}.safetensors"), {"x": x, "y": y, "dy": dy, "dx": x.grad})


if __name__ == "__main__":
    torch.manual_seed(0)
    conv_case("c3k5_r3_s1_p1", 3, 3, 5, 7, 5, 3, 1, 1, 400)
    conv_case("c5k6_r3_s2_p0", 3, 5, 5, 7, 6, 3, 2, 0, 410)
    conv_case("c6k3_r5_s1_p2", 3, 6, 5, 7, 3, 5, 1, 2, 420)
    conv_case("c5k6_r5_s2_p2", 3, 5, 5, 7, 6, 5, 2, 2, 430)
    conv_case("c6k5_r1_s2_p0", 3, 6, 5, 7, 5, 1, 2, 0, 440)
    conv_case("c3k6_r1_s1_p0", 3, 3, 5, 7, 6, 1, 1, 0, 450)
    conv_case("c5k3_r3_s2_p1", 3, 5, 5, 7, 3, 3, 2, 1, 460)
    pool_case("max_k2_s2", "max", (3, 5, 5, 7), 2, 2, 0, 500)
    pool_case("max_k3_s2_p1", "max", (3, 5, 5, 7), 3, 2, 1, 510)
    pool_case("avg_k2_s2", "avg", (3, 5, 5, 7), 2, 2, 0, 520)
    pool_case("avg_k3_s2_p1", "avg", (3, 5, 5, 7), 3, 2, 1, 530)
    global_avg_pool_case("n3c6", (3, 6, 5, 7), 540)
