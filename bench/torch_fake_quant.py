"""PyTorch CPU reference for bench/bench_fake_quant.cpp (same names, 11.7 M values, 2 threads)."""
import json

import torch

from timing_helpers import timeit

torch.set_num_threads(2)




n, channels = 11700000, 1000
x = torch.rand(n) * 4 - 2
scale = 2.0 / 127
per_channel_scale = torch.full((channels,), 4.0 / 255)
per_channel_zp = torch.full((channels,), 128, dtype=torch.int32)
print(json.dumps({
    f"BM_fake_quant_per_tensor/cpu/{n}": timeit(lambda: torch.fake_quantize_per_tensor_affine(x, scale, 0, -128, 127)),
    f"BM_fake_quant_per_channel/cpu/{n}": timeit(lambda: torch.fake_quantize_per_channel_affine(
        x.view(channels, -1), per_channel_scale, per_channel_zp, 0, 0, 255)),
}))
