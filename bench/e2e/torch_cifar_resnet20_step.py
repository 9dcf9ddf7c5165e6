"""PyTorch CPU reference for cifar_resnet_20 training throughput (batch 128, SGD momentum 0.9,
wd 1e-4; OpenLTH's module tree from tests/golden/gen_models.py), on in-memory random images, so
data loading does not count on either side. Prints images/second as JSON.

Usage: /usr/bin/python3 bench/e2e/torch_cifar_resnet20_step.py [--threads N] [--steps S]
"""
import json
import os
import sys
import time

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests", "golden"))
from gen_models import CifarResnet  # noqa: E402


def arg(name, default):
    return int(sys.argv[sys.argv.index(name) + 1]) if name in sys.argv else default


def main():
    threads, steps = arg("--threads", 2), arg("--steps", 10)
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    model = CifarResnet(20)
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=1e-4)
    x, y = torch.randn(128, 3, 32, 32), torch.randint(0, 10, (128,))

    def step():
        opt.zero_grad()
        F.cross_entropy(model(x), y).backward()
        opt.step()

    model.train()
    for _ in range(3):
        step()
    start = time.perf_counter()
    for _ in range(steps):
        step()
    seconds = (time.perf_counter() - start) / steps
    print(json.dumps({"torch_cifar_resnet_20_images_per_second": 128 / seconds, "seconds_per_step": seconds,
                      "threads": threads, "mkldnn": torch.backends.mkldnn.is_available()}))


if __name__ == "__main__":
    main()
