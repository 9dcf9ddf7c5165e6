"""Golden fixtures for Adam: torch.optim.Adam over five steps with fixed gradients, AMSGrad on and off.

Run with Debian's python3-torch:  /usr/bin/python3 tests/golden/gen_adam.py
"""
import os

import torch

from fixture_io import save, seeded

HERE = os.path.dirname(os.path.abspath(__file__))


def case(name, amsgrad, lr, betas=(0.9, 0.999), eps=1e-8, n=41, steps=5):
    w = torch.nn.Parameter(seeded(2, n))
    opt = torch.optim.Adam([w], lr=lr, betas=betas, eps=eps, amsgrad=amsgrad)
    out = {"w0": w.detach().clone()}
    for s in range(steps):
        # Shrinking gradients after large ones: AMSGrad's running max of v then differs from v.
        g = seeded(20 + s, n) * (4.0 if s < 2 else 0.25)
        w.grad = g.clone()
        opt.step()
        out[f"g{s}"] = g
        out[f"w{s + 1}"] = w.detach().clone()
    save(os.path.join(HERE, f"adam_{name}.safetensors"), out,
         {"amsgrad": int(amsgrad), "lr": lr, "beta1": betas[0], "beta2": betas[1], "eps": eps, "steps": steps})


if __name__ == "__main__":
    case("plain", False, 0.01)
    case("amsgrad", True, 0.01)
    case("amsgrad_small_lr", True, 2e-6, betas=(0.8, 0.99))
