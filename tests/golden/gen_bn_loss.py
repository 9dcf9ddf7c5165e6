"""Golden fixtures for batch norm, softmax cross-entropy and top-k accuracy from PyTorch.

Run with Debian's python3-torch:  cd tests/golden && /usr/bin/python3 gen_bn_loss.py
"""
import os

import torch
import torch.nn as nn
import torch.nn.functional as F

from fixture_io import save, seeded

HERE = os.path.dirname(os.path.abspath(__file__))
MOMENTUM = 0.1
EPS = 1e-5


def bn_case(name, module_cls, x_shape, seed):
    """One training step (forward, backward, running stats) and an eval forward afterwards."""
    channels = x_shape[1]
    bn = module_cls(channels, momentum=MOMENTUM, eps=EPS)
    with torch.no_grad():
        bn.weight.copy_(seeded(seed, channels) + 1.5)
        bn.bias.copy_(seeded(seed + 1, channels))
        bn.running_mean.copy_(seeded(seed + 2, channels))
        bn.running_var.copy_(seeded(seed + 3, channels) * 0.5 + 1.0)
    running_mean0, running_var0 = bn.running_mean.clone(), bn.running_var.clone()
    # Per-channel offsets and scales so the statistics differ between channels.
    view = (1, channels) + (1,) * (len(x_shape) - 2)
    x = (seeded(seed + 4, *x_shape) * (1 + torch.arange(channels).view(view))
         + torch.arange(channels).view(view) * 0.5).requires_grad_()
    bn.train()
    y = bn(x)
    dy = seeded(seed + 5, *x_shape)
    y.backward(dy)
    dims = [0] + list(range(2, len(x_shape)))
    saved_mean = x.detach().mean(dims)
    saved_invstd = 1 / torch.sqrt(x.detach().var(dims, unbiased=False) + EPS)
    bn.eval()
    x_eval = seeded(seed + 6, *x_shape) * 2
    with torch.no_grad():
        y_eval = bn(x_eval)
    save(os.path.join(HERE, f"bn_{name}.safetensors"),
         {"x": x, "gamma": bn.weight, "beta": bn.bias, "running_mean_before": running_mean0,
          "running_var_before": running_var0, "y": y, "saved_mean": saved_mean, "saved_invstd": saved_invstd,
          "running_mean_after": bn.running_mean, "running_var_after": bn.running_var, "dy": dy,
          "dx": x.grad, "dgamma": bn.weight.grad, "dbeta": bn.bias.grad, "x_eval": x_eval, "y_eval": y_eval},
         metadata={"momentum": MOMENTUM, "eps": EPS})


def xent_case(name, n, k, seed):
    logits = (seeded(seed, n, k) * 4).requires_grad_()
    g = torch.Generator().manual_seed(seed + 1)
    labels = torch.randint(0, k, (n,), generator=g)
    loss = F.cross_entropy(logits, labels)
    loss.backward()
    save(os.path.join(HERE, f"xent_{name}.safetensors"),
         {"logits": logits, "labels": labels.to(torch.int32), "loss": loss, "probs": F.softmax(logits, 1),
          "dlogits": logits.grad})


def topk_case(name, n, k, seed):
    """Tie-free random logits, so torch.topk's membership is unambiguous."""
    logits = seeded(seed, n, k)
    g = torch.Generator().manual_seed(seed + 1)
    labels = torch.randint(0, k, (n,), generator=g)
    out = {"logits": logits, "labels": labels.to(torch.int32)}
    for top in (1, 3, 5):
        hit = (logits.topk(top, dim=1).indices == labels[:, None]).any(dim=1)
        out[f"correct_top{top}"] = hit.sum().to(torch.int32)
    save(os.path.join(HERE, f"topk_{name}.safetensors"), out)


if __name__ == "__main__":
    torch.manual_seed(0)
    bn_case("nchw", nn.BatchNorm2d, (3, 6, 5, 7), 400)
    bn_case("nc", nn.BatchNorm1d, (5, 6), 500)
    xent_case("batch3", 3, 10, 600)
    xent_case("batch5", 5, 7, 700)
    topk_case("batch40", 40, 10, 800)
