"""PyTorch CPU reference for bench/bench_conv.cpp: the same ResNet-20 conv shapes (batch 128),
2 threads, printed as one JSON object {benchmark_name: seconds_per_iteration}.

Run with Debian's python3-torch:  /usr/bin/python3 bench/torch_conv.py
Backward passes call aten's convolution_backward with one output selected, which is what
autograd runs for a Conv2d (oneDNN on this build).
"""
import json
import time

import torch

# (name, C, H, K, R, stride, pad): must match kShapes in bench/bench_conv.cpp.
SHAPES = [
    ("n128_c3_h32_k16_r3_s1", 3, 32, 16, 3, 1, 1),
    ("n128_c16_h32_k16_r3_s1", 16, 32, 16, 3, 1, 1),
    ("n128_c16_h32_k32_r3_s2", 16, 32, 32, 3, 2, 1),
    ("n128_c16_h32_k32_r1_s2", 16, 32, 32, 1, 2, 0),
    ("n128_c32_h16_k32_r3_s1", 32, 16, 32, 3, 1, 1),
    ("n128_c32_h16_k64_r3_s2", 32, 16, 64, 3, 2, 1),
    ("n128_c32_h16_k64_r1_s2", 32, 16, 64, 1, 2, 0),
    ("n128_c64_h8_k64_r3_s1", 64, 8, 64, 3, 1, 1),
]
BATCH = 128


def seconds_per_iter(fn, min_time=0.5):
    fn()
    iters, elapsed = 1, 0.0
    while True:
        start = time.perf_counter()
        for _ in range(iters):
            fn()
        elapsed = time.perf_counter() - start
        if elapsed >= min_time:
            return elapsed / iters
        iters *= 2


def main():
    torch.set_num_threads(2)
    results = {}
    with torch.no_grad():
        for name, c, h, k, r, stride, pad in SHAPES:
            x = torch.rand(BATCH, c, h, h) * 2 - 1
            w = torch.rand(k, c, r, r) * 2 - 1
            y = torch.nn.functional.conv2d(x, w, None, stride, pad)
            dy = torch.rand_like(y)

            def backward(mask):
                return torch.ops.aten.convolution_backward(
                    dy, x, w, None, [stride, stride], [pad, pad], [1, 1], False, [0, 0], 1, mask)

            results[f"BM_conv2d_fwd/cpu/{name}"] = seconds_per_iter(
                lambda: torch.nn.functional.conv2d(x, w, None, stride, pad))
            results[f"BM_conv2d_bwd_data/cpu/{name}"] = seconds_per_iter(
                lambda: backward([True, False, False]))
            results[f"BM_conv2d_bwd_filter/cpu/{name}"] = seconds_per_iter(
                lambda: backward([False, True, False]))
    print(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
