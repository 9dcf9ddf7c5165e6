"""PyTorch CPU references for bench/bench_prune_sgd.cpp: torch.kthvalue of |w| (the global
threshold) and the four-op masked SGD update (wd, momentum, update, mask), same sizes."""
import json

import torch

from timing_helpers import timeit

torch.set_num_threads(2)




results = {}
for n in (270000, 11700000):
    w = torch.rand(n) * 2 - 1
    k = n // 5
    results[f"BM_global_threshold/cpu/{n}"] = timeit(lambda: torch.kthvalue(w.abs(), k))
    g, m, mask = torch.rand(n), torch.zeros(n), torch.ones(n)

    def sgd():
        d = g.add(w, alpha=1e-4)
        m.mul_(0.9).add_(d)
        w.add_(m, alpha=-0.01)
        w.mul_(mask)

    results[f"BM_masked_sgd/cpu/{n}"] = timeit(sgd)
print(json.dumps(results))
