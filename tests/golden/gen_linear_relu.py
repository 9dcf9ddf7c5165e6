"""Golden fixtures for linear and relu (forward and backward) from PyTorch.

Run with Debian's python3-torch:  /usr/bin/python3 tests/golden/gen_linear_relu.py
"""
import os

import torch
import torch.nn.functional as F

from fixture_io import save, seeded

HERE = os.path.dirname(os.path.abspath(__file__))


def linear_case(name, n, i, o, seed):
    x = seeded(seed, n, i).requires_grad_()
    w = seeded(seed + 1, o, i).requires_grad_()
    b = seeded(seed + 2, o).requires_grad_()
    y = F.linear(x, w, b)
    dy = seeded(seed + 3, n, o)
    y.backward(dy)
    save(os.path.join(HERE, f"linear_{name}.safetensors"),
         {"x": x, "w": w, "b": b, "y": y, "dy": dy, "dx": x.grad, "dw": w.grad, "db": b.grad})


def relu_case(name, shape, seed):
    x = seeded(seed, *shape).requires_grad_()
    y = F.relu(x)
    dy = seeded(seed + 1, *shape)
    y.backward(dy)
    save(os.path.join(HERE, f"relu_{name}.safetensors"), {"x": x, "y": y, "dy": dy, "dx": x.grad})


if __name__ == "__main__":
    torch.manual_seed(0)
    linear_case("batch3", 3, 7, 5, 100)
    linear_case("wide", 5, 33, 10, 200)
    relu_case("nchw", (3, 5, 7, 2), 300)
