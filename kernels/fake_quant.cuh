// Range-linear quantization cores with Distiller's semantics (distiller/quantization/q_utils.py),
// shared by the CPU backend and the fake-quant kernel:
//   q = clamp(round(scale * x - zero_point), qmin, qmax)      x_hat = (q + zero_point) / scale
// with round half to even (rintf, as torch.round) and the two products rounded separately as in
// PyTorch's float32 ops, so CPU, GPU and Distiller's own arithmetic agree bitwise. `scale` is
// Distiller's multiplier convention (codes per unit), not a step size.
//   sym:     n = 2^(b-1) - 1, scale = n / max|x|, zero_point = 0, codes in [-2^(b-1), 2^(b-1) - 1]
//   asym_u:  n = 2^b - 1, range widened to include 0, scale = n / (max - min),
//            zero_point = round(scale * min), codes in [0, 2^b - 1]
//   asym_s:  as asym_u with zero_point += 2^(b-1), codes in [-2^(b-1), 2^(b-1) - 1]
// A zero range (all values 0) gives scale 1 (Distiller's rule: saturation replaced by n).
// Distiller computes `n / saturation` on tensors, which PyTorch evaluates as
// reciprocal(saturation) * n; the cores do the same so scales match bit for bit.
// NaN propagates (the clamp is written with comparisons, as torch.clamp behaves; this also lets
// g++ vectorise the loop, which fminf/fmaxf with their NaN rules prevent).
#pragma once

#include <cmath>

#include "kernels/compat.cuh"

namespace bmc {

enum class QuantMode : int { Sym = 0, AsymU = 1, AsymS = 2 };

struct QuantParams {
  float scale = 1.0f;
  float zero_point = 0.0f;
  float qmin = -128.0f;
  float qmax = 127.0f;
};

BMC_HD QuantParams symmetric_params(int bits, float max_abs) {
  const float n = static_cast<float>((1 << (bits - 1)) - 1);
  QuantParams p;
  p.scale = mul_rn(1.0f / (max_abs == 0.0f ? n : max_abs), n);
  p.zero_point = 0.0f;
  p.qmin = -static_cast<float>(1 << (bits - 1));
  p.qmax = static_cast<float>((1 << (bits - 1)) - 1);
  return p;
}

BMC_HD QuantParams asymmetric_params(int bits, float min_val, float max_val, bool is_signed) {
  const float n = static_cast<float>((1 << bits) - 1);
  const float lo = fminf(min_val, 0.0f);
  const float hi = fmaxf(max_val, 0.0f);
  float diff = hi - lo;
  if (diff == 0.0f) diff = n;
  QuantParams p;
  p.scale = mul_rn(1.0f / diff, n);
  p.zero_point = rintf(mul_rn(p.scale, lo));
  if (is_signed) {
    p.zero_point = add_rn(p.zero_point, static_cast<float>(1 << (bits - 1)));
    p.qmin = -static_cast<float>(1 << (bits - 1));
    p.qmax = static_cast<float>((1 << (bits - 1)) - 1);
  } else {
    p.qmin = 0.0f;
    p.qmax = n;
  }
  return p;
}

// The unclamped code (used by the straight-through gradient to tell inside from outside).
BMC_HD float quant_code_unclamped(float x, const QuantParams& p) { return rintf(add_rn(mul_rn(p.scale, x), -p.zero_point)); }

BMC_HD float clamp_code(float q, float lo, float hi) { return q < lo ? lo : (q > hi ? hi : q); }

BMC_HD float quantize(float x, const QuantParams& p) { return clamp_code(quant_code_unclamped(x, p), p.qmin, p.qmax); }

BMC_HD float dequantize(float q, const QuantParams& p) { return add_rn(q, p.zero_point) / p.scale; }

BMC_HD float fake_quant(float x, const QuantParams& p) { return dequantize(quantize(x, p), p); }

// Straight-through estimator: the gradient passes where the code lies inside [qmin, qmax], and is
// zero where the value was clamped.
BMC_HD float fake_quant_grad(float dy, float x, const QuantParams& p) {
  const float q = quant_code_unclamped(x, p);
  return (q >= p.qmin && q <= p.qmax) ? dy : 0.0f;
}

// Distiller's residual add (RangeLinearQuantEltwiseAddWrapper) re-scales each input onto the
// sum's grid before adding: the input's code plus its zero point, times `ratio` = out_scale /
// in.scale (a float32 quotient, as Distiller divides the two scale tensors), rounded and clamped
// to the accumulator range [acc_lo, acc_hi]. The code is recovered from the dequantized input x
// by re-quantizing it with its own parameters (the identity on the input's grid, as Distiller's
// wrapper re-quantizes its inputs). Returned in the sum's units (divided by out_scale), so the
// float sum of two such terms times out_scale is the exact integer sum Distiller accumulates.
BMC_HD float requantize_to_grid(float x, const QuantParams& in, float ratio, float acc_lo, float acc_hi,
                                float out_scale) {
  const float code = add_rn(quantize(x, in), in.zero_point);
  return clamp_code(rintf(mul_rn(ratio, code)), acc_lo, acc_hi) / out_scale;
}

}  // namespace bmc
