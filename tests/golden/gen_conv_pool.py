"""Golden fixtures for conv2d, max/avg pooling and global average pooling from PyTorch.

Run with Debian's python3-torch, from this folder:  /usr/bin/python3 gen_conv_pool.py
Awkward shapes on purpose: batch 3, 5x7 inputs, channels 3/5/6, kernels 1/3/5, stride 1/2,
padding 0/1/2; then one shape for each fast path of bmc's CPU convolution (Winograd's tiles, the
stride-2 and in-place paths, the stems), with odd sizes and channel counts. Rerunning rewrites the
existing files too, with last-bit differences from oneDNN's choices; commit only new ones.
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
    # Shapes that take bmc's fast CPU paths (src/ops/conv2d.cpp), each named in the comment:
    # Winograd F(4x4, 3x3) forward and input gradient, the filter gradient in F(2x2)'s domain.
    conv_case("c16k16_h6w34_r3_s1_p1", 2, 16, 6, 34, 16, 3, 1, 1, 470)
    # Winograd F(2x2, 3x3) forward and input gradient, an output-channel tail panel.
    conv_case("c32k33_h7w9_r3_s1_p1", 3, 32, 7, 9, 33, 3, 1, 1, 480)
    # Stride-2 im2col from column-split rows, the input gradient by input parity.
    conv_case("c16k32_h12w15_r3_s2_p1", 2, 16, 12, 15, 32, 3, 2, 1, 490)
    # Taps read in place from the padded image, the input gradient as a convolution by the flipped
    # filter, the filter gradient in place from a channels-last copy.
    conv_case("c8k12_h17w20_r3_s1_p1", 2, 8, 17, 20, 12, 3, 1, 1, 600)
    # The CIFAR stem: the narrow filter gradient (3 channels).
    conv_case("c3k16_h13w12_r3_s1_p1", 2, 3, 13, 12, 16, 3, 1, 1, 610)
    # The ImageNet stem's class: 7x7 stride 2, padding 3.
    conv_case("c6k8_h11w14_r7_s2_p3", 2, 6, 11, 14, 8, 7, 2, 3, 620)
    # 1x1 stride 2 (a projection shortcut) and 1x1 stride 1 (the image is its own column matrix).
    conv_case("c20k12_h9w10_r1_s2_p0", 2, 20, 9, 10, 12, 1, 2, 0, 630)
    conv_case("c24k16_h5w7_r1_s1_p0", 2, 24, 5, 7, 16, 1, 1, 0, 640)
    pool_case("max_k2_s2", "max", (3, 5, 5, 7), 2, 2, 0, 500)
    pool_case("max_k3_s2_p1", "max", (3, 5, 5, 7), 3, 2, 1, 510)
    pool_case("avg_k2_s2", "avg", (3, 5, 5, 7), 2, 2, 0, 520)
    pool_case("avg_k3_s2_p1", "avg", (3, 5, 5, 7), 3, 2, 1, 530)
    global_avg_pool_case("n3c6", (3, 6, 5, 7), 540)
