"""Golden fixtures for the masked SGD step: torch.optim.SGD over three steps with fixed gradients.

Run with Debian's python3-torch:  /usr/bin/python3 tests/golden/gen_sgd.py
"""
import os

import torch

from fixture_io import save, seeded

HERE = os.path.dirname(os.path.abspath(__file__))


def case(name, momentum, weight_decay, nesterov, lr=0.1, n=37, steps=3):
    w = torch.nn.Parameter(seeded(1, n))
    opt = torch.optim.SGD([w], lr=lr, momentum=momentum, weight_decay=weight_decay, nesterov=nesterov)
    out = {"w0": w.detach().clone()}
    for s in range(steps):
        g = seeded(10 + s, n)
        w.grad = g.clone()
        opt.step()
        out[f"g{s}"] = g
        out[f"w{s + 1}"] = w.detach().clone()
    save(os.path.join(HERE, f"sgd_{name}.safetensors"), out,
         {"momentum": momentum, "weight_decay": weight_decay, "nesterov": int(nesterov), "lr": lr, "steps": steps})


if __name__ == "__main__":
    case("plain", 0.0, 0.0, False)
    case("momentum_wd", 0.9, 1e-4, False)
    case("nesterov_wd", 0.9, 5e-4, True)
