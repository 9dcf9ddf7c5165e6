"""Golden fixture for Distiller-exact post-training quantization of a residual network.

A PyTorch reimplementation of the rules of Distiller's PostTrainLinearQuantizer (distiller/
quantization/range_linear.py, q_utils.py, model_transforms.py, sim_bn_fold.py; summarised in
docs/ptq_distiller_semantics.md) applied to OpenLTH's cifar_resnet_8 with fixed random weights,
written out as explicit integer arithmetic, the way Distiller's wrappers compute:
  - every conv -> batch norm pair folded (W * gamma * rsqrt(var + eps), beta - gamma * mean * r);
  - conv / linear: integer codes of input and weights, exact integer accumulation plus the 32-bit
    bias codes, re-quantized with out_scale / accum_scale;
  - the residual add: each input's code re-scaled by out_scale / in_scale onto the sum's grid,
    summed, the sum's zero point applied; the add takes the statistics of the ReLU after it;
  - every other module (ReLU, the average pool): run on the dequantized input, output quantized
    with its own statistics; a layer followed by a ReLU takes the ReLU's statistics.
Statistics: the calibration batches in evaluation mode, min / max and the mean over samples of
each sample's min / max (bmc's averaging; docs/ptq_distiller_semantics.md).

Writes ptq_resnet8_model.safetensors (the state_dict) and ptq_resnet8_io.safetensors: the
calibration batches ("calib_x32") and test inputs ("x_x32") as int8 codes (value = code / 32), the float logits ("logits.float") and, per
configuration, the dequantized logits ("logits.<config>"; metadata: the configuration). Run with Debian's python3-torch:
  /usr/bin/python3 tests/golden/gen_ptq_resnet.py
"""
import os

import torch
import torch.nn.functional as F

from fixture_io import save
from gen_models import CifarResnet, openlth_init, randomize_bn_state

HERE = os.path.dirname(os.path.abspath(__file__))
EPS = 1e-5
# name -> (weight bits, activation bits, mode, per-channel weights, clip)
CONFIGS = {
    "w8a8_sym": (8, 8, "sym", False, "none"),
    "w8a8_asym_u_pc_avg": (8, 8, "asym_u", True, "avg"),
    "w4a8_asym_s": (4, 8, "asym_s", False, "none"),
    "w6a6_sym_pc": (6, 6, "sym", True, "none"),
}


# --- q_utils: parameters, quantize, dequantize (scale is a multiplier: codes per unit)

def qrange(bits, mode):
    return (0, 2 ** bits - 1) if mode == "asym_u" else (-(2 ** (bits - 1)), 2 ** (bits - 1) - 1)


def params(bits, mode, lo, hi):
    """(scale, zero_point, qmin, qmax) from a saturation range; lo / hi float32 tensors."""
    if mode == "sym":
        n = 2 ** (bits - 1) - 1
        sat = torch.max(lo.abs(), hi.abs())
        sat = torch.where(sat == 0, torch.full_like(sat, n), sat)
        scale, zp = n / sat, torch.zeros_like(sat)
    else:
        n = 2 ** bits - 1
        lo, hi = torch.clamp(lo, max=0), torch.clamp(hi, min=0)
        diff = hi - lo
        diff = torch.where(diff == 0, torch.full_like(diff, n), diff)
        scale = n / diff
        zp = torch.round(scale * lo)
        if mode == "asym_s":
            zp = zp + 2 ** (bits - 1)
    return scale, zp, *qrange(bits, mode)


def quantize(x, p):
    scale, zp, qmin, qmax = p
    return torch.clamp(torch.round(scale * x - zp), qmin, qmax)


def dequantize(q, p):
    scale, zp = p[0], p[1]
    return (q + zp) / scale


# --- calibration statistics per named tensor

class Stats:
    def __init__(self):
        self.d = {}

    def add(self, name, t):
        per_sample = t.reshape(t.shape[0], -1)
        e = self.d.setdefault(name, {"min": float("inf"), "max": float("-inf"), "smin": 0.0, "smax": 0.0, "n": 0})
        e["min"] = min(e["min"], t.min().item())
        e["max"] = max(e["max"], t.max().item())
        e["smin"] += per_sample.min(dim=1).values.double().sum().item()
        e["smax"] += per_sample.max(dim=1).values.double().sum().item()
        e["n"] += t.shape[0]

    def range(self, name, clip):
        e = self.d[name]
        lo, hi = (e["smin"] / e["n"], e["smax"] / e["n"]) if clip == "avg" else (e["min"], e["max"])
        return torch.tensor(lo, dtype=torch.float32), torch.tensor(hi, dtype=torch.float32)


def float_forward(model, x, stats=None):
    """The float network, recording the statistics of every tensor the quantizer reads."""
    def rec(name, t):
        if stats is not None:
            stats.add(name, t)
        return t

    out = rec("conv.in", x)
    out = rec("bn.out", model.bn(model.conv(out)))
    out = rec("relu.out", F.relu(out))
    for i, b in enumerate(model.blocks):
        p = f"blocks.{i}."
        h = rec(p + "bn1.out", b.bn1(b.conv1(out)))
        h = rec(p + "relu1.out", F.relu(h))
        h = rec(p + "bn2.out", b.bn2(b.conv2(h)))
        s = rec(p + "shortcut.1.out", b.shortcut(out)) if len(b.shortcut) else out
        out = rec(p + "relu_out.out", F.relu(h + s))
    out = rec("pool.out", F.avg_pool2d(out, out.size()[3]))
    out = out.view(out.size(0), -1)
    return rec("fc.out", model.fc(out))


# --- Distiller's quantized network

def fold(conv, bn):
    r = torch.rsqrt(bn.running_var + EPS)
    w = conv.weight * (bn.weight * r).view(-1, 1, 1, 1)
    b = bn.bias - bn.weight * bn.running_mean * r
    return w, b


def weight_params(w, bits, mode, per_channel):
    if per_channel:
        rows = w.reshape(w.shape[0], -1)
        lo, hi = rows.min(dim=1).values, rows.max(dim=1).values
    else:
        lo, hi = w.min(), w.max()
    return params(bits, mode, lo, hi)


class Quantized:
    def __init__(self, model, stats, cfg):
        self.m = model
        self.wbits, self.abits, self.mode, self.per_channel, self.clip = cfg
        self.stats = stats

    def act(self, name):
        return params(self.abits, self.mode, *self.stats.range(name, self.clip))

    def param_layer(self, x_hat, in_p, w, b, out_p, op):
        """Distiller's RangeLinearQuantParamLayerWrapper on a dequantized input; returns the dequantized output."""
        wp = weight_params(w, self.wbits, self.mode, self.per_channel)
        shape = (-1, 1, 1, 1) if w.dim() == 4 else (-1, 1)
        w_scale, w_zp = (wp[0].view(shape), wp[1].view(shape)) if self.per_channel else (wp[0], wp[1])
        w_q = torch.clamp(torch.round(w_scale * w - w_zp), wp[2], wp[3])
        x_q = quantize(x_hat, in_p)
        accum_scale = in_p[0] * wp[0]
        b_q = torch.clamp(torch.round(accum_scale * b), -2 ** 31, 2 ** 31 - 1)
        acc = op(x_q.double() + in_p[1].double(), w_q.double() + w_zp.double(), b_q.double())
        view = (1, -1, 1, 1) if acc.dim() == 4 else (1, -1)
        requant = out_p[0] / accum_scale
        requant = requant.view(view) if self.per_channel else requant
        out_q = torch.clamp(torch.round(requant * acc.float() - out_p[1]), out_p[2], out_p[3])
        return dequantize(out_q, out_p)

    def conv(self, x_hat, in_p, conv, bn, out_name):
        w, b = fold(conv, bn)
        def op(x, w_, b_):
            return F.conv2d(x, w_, b_, conv.stride, conv.padding)
        return self.param_layer(x_hat, in_p, w, b, self.act(out_name), op)

    def fake(self, y, name):
        p = self.act(name)
        return dequantize(quantize(y, p), p), p

    def add(self, h, h_p, s, s_p, out_p):
        terms = []
        for x_hat, p in ((h, h_p), (s, s_p)):
            code = quantize(x_hat, p) + p[1]
            terms.append(torch.clamp(torch.round((out_p[0] / p[0]) * code), -2 ** 31, 2 ** 31 - 1))
        acc = terms[0] + terms[1]
        out_q = torch.clamp(torch.round(acc - out_p[1]), out_p[2], out_p[3])
        return dequantize(out_q, out_p)

    def forward(self, x):
        m = self.m
        # stem: conv folded with bn, followed by a ReLU: the ReLU's statistics
        out = self.conv(x, self.act("conv.in"), m.conv, m.bn, "relu.out")
        out, out_p = self.fake(F.relu(out), "relu.out")
        for i, b in enumerate(m.blocks):
            p = f"blocks.{i}."
            h = self.conv(out, out_p, b.conv1, b.bn1, p + "relu1.out")
            h, h_p = self.fake(F.relu(h), p + "relu1.out")
            h = self.conv(h, h_p, b.conv2, b.bn2, p + "bn2.out")
            h_p = self.act(p + "bn2.out")
            if len(b.shortcut):
                s = self.conv(out, out_p, b.shortcut[0], b.shortcut[1], p + "shortcut.1.out")
                s_p = self.act(p + "shortcut.1.out")
            else:
                s, s_p = out, out_p
            add_p = self.act(p + "relu_out.out")  # the add takes its ReLU's statistics
            y = self.add(h, h_p, s, s_p, add_p)
            out, out_p = self.fake(F.relu(y), p + "relu_out.out")
        pooled, pool_p = self.fake(F.avg_pool2d(out, out.size()[3]), "pool.out")
        flat = pooled.view(pooled.size(0), -1)
        def op(x, w_, b_):
            return F.linear(x, w_, b_)
        return self.param_layer(flat, pool_p, m.fc.weight, m.fc.bias, self.act("fc.out"), op)


if __name__ == "__main__":
    torch.manual_seed(1)
    model = CifarResnet(8)
    openlth_init(model)
    randomize_bn_state(model)
    with torch.no_grad():
        model.fc.bias.copy_(torch.rand(10) * 0.2 - 0.1)
    model.eval()
    # Inputs are small integers / 32 (stored as int8 to keep the fixture small).
    calib_codes = torch.randint(-64, 64, (2, 16, 3, 32, 32), dtype=torch.int8)
    x_codes = torch.randint(-64, 64, (64, 3, 32, 32), dtype=torch.int8)
    calib, x = calib_codes.float() / 32, x_codes.float() / 32
    tensors = {"calib_x32": calib_codes, "x_x32": x_codes}
    with torch.no_grad():
        tensors["logits.float"] = float_forward(model, x)
        for name, cfg in CONFIGS.items():
            stats = Stats()
            for batch in calib:
                float_forward(model, batch, stats)
            tensors["logits." + name] = Quantized(model, stats, cfg).forward(x)
    meta = {name: ",".join(map(str, cfg)) for name, cfg in CONFIGS.items()}
    save(os.path.join(HERE, "ptq_resnet8_model.safetensors"), model.state_dict())
    save(os.path.join(HERE, "ptq_resnet8_io.safetensors"), tensors, meta)
