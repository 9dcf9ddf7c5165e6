"""PyTorch CPU references for bench/bench_train_step.cpp (same names): one training step of
cifar_resnet_20 and mnist_lenet_300_100 at batch 128 on in-memory random data, 2 threads, using
the OpenLTH module trees of tests/golden/gen_models.py; evaluation forwards of cifar_resnet_20
(batch 128) and torchvision's resnet18 (224x224, batch 32) under torch.no_grad()."""
import json
import os
import sys

import torch
import torch.nn.functional as F

from timing_helpers import timeit

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "golden"))
from gen_models import CifarResnet, MnistLenet  # noqa: E402

torch.set_num_threads(2)




def step_fn(model, x, opt):
    y = torch.randint(0, 10, (x.shape[0],))
    model.train()

    def step():
        opt.zero_grad()
        F.cross_entropy(model(x), y).backward()
        opt.step()

    return step


def eval_fn(model, x):
    model.eval()

    def forward():
        with torch.no_grad():
            model(x)

    return forward


torch.manual_seed(0)
resnet = CifarResnet(20)
lenet = MnistLenet([300, 100])
results = {
    "BM_cifar_resnet_20_train_step/cpu/128": timeit(min_time=2.0, warmup=2, fn=step_fn(
        resnet, torch.randn(128, 3, 32, 32), torch.optim.SGD(resnet.parameters(), lr=0.01, momentum=0.9,
                                                             weight_decay=1e-4))),
    "BM_mnist_lenet_300_100_train_step/cpu/128": timeit(min_time=2.0, warmup=2, fn=step_fn(
        lenet, torch.randn(128, 1, 28, 28), torch.optim.SGD(lenet.parameters(), lr=0.01))),
    "BM_cifar_resnet_20_eval/cpu/128": timeit(min_time=2.0, warmup=2, fn=eval_fn(resnet, torch.randn(128, 3, 32, 32))),
}
try:
    import torchvision

    results["BM_resnet18_eval/cpu/32"] = timeit(min_time=2.0, warmup=1, fn=eval_fn(
        torchvision.models.resnet18(), torch.randn(32, 3, 224, 224)))
except ImportError:
    print("torch_train_step: torchvision missing, no resnet18 reference", file=sys.stderr)
print(json.dumps(results))
