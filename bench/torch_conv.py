"""PyTorch CPU reference for bench/bench_conv.cpp: the same ResNet-20 (batch 128) and ImageNet
ResNet (batch 8) conv shapes,
2 threads, printed as one JSON object {benchmark_name: seconds_per_iteration}.

Run with Debian's python3-torch:  /usr/bin/python3 bench/torch_conv.py
Backward passes call aten's convolution_backward with one output selected, which is what
autograd runs for a Conv2d (oneDNN on this build).
"""
import json
import time

import torch

# (N, C, H, K, R, stride, pad): must match kShapes in bench/bench_conv.cpp.
SHAPES = [
    (128, 3, 32, 16, 3, 1, 1),
    (128, 16, 32, 16, 3, 1, 1),
    (128, 16, 32, 32, 3, 2, 1),
    (128, 16, 32, 32, 1, 2, 0),
    (128, 32, 16, 32, 3, 1, 1),
    (128, 32, 16, 64, 3, 2, 1),
    (128, 32, 16, 64, 1, 2, 0),
    (128, 64, 8, 64, 3, 1, 1),
    (8, 3, 224, 64, 7, 2, 3),
    (8, 64, 56, 64, 3, 1, 1),
    (8, 64, 56, 128, 3, 2, 1),
    (8, 64, 56, 128, 1, 2, 0),
    (8, 256, 14, 256, 3, 1, 1),
    (8, 256, 14, 512, 3, 2, 1),
    (8, 256, 56, 64, 1, 1, 0),
]


def seconds_per_iter(fn, min_time=0.2, rounds=3):
    """Best of `rounds` timings, each of enough iterations to last min_time (robust to load)."""
    fn()
    iters = 1
    while True:
        start = time.perf_counter()
        for _ in range(iters):
            fn()
        if time.perf_counter() - start >= min_time:
            break
        iters *= 2
    best = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        for _ in range(iters):
            fn()
        best = min(best, (time.perf_counter() - start) / iters)
    return best


def main():
    torch.set_num_threads(2)
    results = {}
    with torch.no_grad():
        for n, c, h, k, r, stride, pad in SHAPES:
            name = f"n{n}_c{c}_h{h}_k{k}_r{r}_s{stride}"
            x = torch.rand(n, c, h, h) * 2 - 1
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
    print(json.dumps(results))  # one line: bench/compare.py reads the last line


if __name__ == "__main__":
    main()
