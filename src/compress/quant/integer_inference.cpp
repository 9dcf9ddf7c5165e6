#include "compress/quant/integer_inference.h"

#include <algorithm>
#include <climits>

#include "core/error.h"
#include "nn/conv.h"
#include "nn/layers.h"
#include "nn/pool.h"

namespace bmc::compress {
namespace {

// Activations as codes with their quantization parameters; shape (N, C, H, W) or (N, F).
struct Codes {
  std::vector<int32_t> q;
  std::vector<int64_t> shape;
  QuantParams p;
};

// The simulation quantizes the dequantized value again with the next parameters; so does this.
void requantize(Codes& a, const QuantParams& to) {
  if (a.p.scale == to.scale && a.p.zero_point == to.zero_point) return;
  for (int32_t& v : a.q) v = static_cast<int32_t>(quantize(dequantize(static_cast<float>(v), a.p), to));
  a.p = to;
}

int64_t numel(const std::vector<int64_t>& s) {
  int64_t n = 1;
  for (const int64_t d : s) n *= d;
  return n;
}

// Accumulators -> output codes, per output channel k (accum index / inner % K).
void requantize_accumulators(Codes& out, const std::vector<int32_t>& acc, const LayerQuant& l, int64_t channels,
                             int64_t inner) {
  out.q.resize(acc.size());
  for (size_t i = 0; i < acc.size(); ++i) {
    const int64_t k = (static_cast<int64_t>(i) / inner) % channels;
    const float accum_scale = l.accum_scale[l.accum_scale.size() == 1 ? 0 : k];
    const float requant = l.out.scale / accum_scale;
    const float q = rintf(requant * static_cast<float>(acc[i]) - l.out.zero_point);
    out.q[i] = static_cast<int32_t>(clamp_code(q, l.out.qmin, l.out.qmax));
  }
  out.p = l.out;
}

int32_t bias_at(const LayerQuant& l, int64_t k) { return l.b_codes.empty() ? 0 : static_cast<int32_t>(l.b_codes[k]); }

Codes linear(const Codes& x, const LayerQuant& l) {
  const int64_t n = x.shape[0], in = numel(x.shape) / n, out = l.w_shape[0];
  BMC_CHECK(in == l.w_shape[1], l.name, ": integer path got ", in, " features, weight expects ", l.w_shape[1]);
  std::vector<int32_t> acc(static_cast<size_t>(n * out));
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < n; ++i)
    for (int64_t k = 0; k < out; ++k) {
      int32_t s = bias_at(l, k);
      for (int64_t c = 0; c < in; ++c) s += x.q[i * in + c] * l.w_codes[k * in + c];
      acc[i * out + k] = s;
    }
  Codes y;
  y.shape = {n, out};
  requantize_accumulators(y, acc, l, out, 1);
  return y;
}

Codes conv(const Codes& x, const LayerQuant& l, const ops::Conv2dParams& cp) {
  BMC_CHECK(x.shape.size() == 4, l.name, ": integer conv needs (N, C, H, W) input");
  const int64_t n = x.shape[0], c = x.shape[1], h = x.shape[2], w = x.shape[3];
  const int64_t k = l.w_shape[0], r = l.w_shape[2], s = l.w_shape[3];
  BMC_CHECK(c == l.w_shape[1], l.name, ": integer conv got ", c, " channels, weight expects ", l.w_shape[1]);
  const int64_t p = (h + 2 * cp.pad_h - r) / cp.stride_h + 1, q = (w + 2 * cp.pad_w - s) / cp.stride_w + 1;
  std::vector<int32_t> acc(static_cast<size_t>(n * k * p * q));
#pragma omp parallel for collapse(2) schedule(static)
  for (int64_t i = 0; i < n; ++i)
    for (int64_t o = 0; o < k; ++o)
      for (int64_t y = 0; y < p; ++y)
        for (int64_t z = 0; z < q; ++z) {
          int32_t sum = bias_at(l, o);
          for (int64_t ci = 0; ci < c; ++ci)
            for (int64_t ry = 0; ry < r; ++ry) {
              const int64_t iy = y * cp.stride_h - cp.pad_h + ry;
              if (iy < 0 || iy >= h) continue;
              for (int64_t sx = 0; sx < s; ++sx) {
                const int64_t ix = z * cp.stride_w - cp.pad_w + sx;
                if (ix < 0 || ix >= w) continue;  // zero padding: code 0 is the value 0 (symmetric)
                sum += x.q[((i * c + ci) * h + iy) * w + ix] * l.w_codes[((o * c + ci) * r + ry) * s + sx];
              }
            }
          acc[((i * k + o) * p + y) * q + z] = sum;
        }
  Codes out;
  out.shape = {n, k, p, q};
  requantize_accumulators(out, acc, l, k, p * q);
  return out;
}

Codes max_pool(const Codes& x, const ops::Pool2dParams& pp) {
  const int64_t n = x.shape[0], c = x.shape[1], h = x.shape[2], w = x.shape[3];
  const int64_t p = (h + 2 * pp.pad_h - pp.kernel_h) / pp.stride_h + 1;
  const int64_t q = (w + 2 * pp.pad_w - pp.kernel_w) / pp.stride_w + 1;
  Codes y;
  y.shape = {n, c, p, q};
  y.p = x.p;
  y.q.assign(static_cast<size_t>(n * c * p * q), INT_MIN);
  for (int64_t i = 0; i < n * c; ++i)
    for (int64_t a = 0; a < p; ++a)
      for (int64_t b = 0; b < q; ++b) {
        int32_t m = INT_MIN;
        for (int64_t u = 0; u < pp.kernel_h; ++u)
          for (int64_t v = 0; v < pp.kernel_w; ++v) {
            const int64_t iy = a * pp.stride_h - pp.pad_h + u, ix = b * pp.stride_w - pp.pad_w + v;
            if (iy >= 0 && iy < h && ix >= 0 && ix < w) m = std::max(m, x.q[(i * h + iy) * w + ix]);
          }
        y.q[(i * p + a) * q + b] = m;
      }
  return y;
}

void relu_codes(Codes& a) {
  for (int32_t& v : a.q) v = std::max(v, 0);  // symmetric: code 0 is the value 0
}

}  // namespace

void check_integer_path(const PostTrainQuantizer& q) {
  const QuantConfig& c = q.config();
  BMC_CHECK(c.mode == QuantMode::Sym && c.bits_weights <= 8 && c.bits_acts <= 8,
            "the integer path needs symmetric mode and at most 8 bits, got ", quant_mode_name(c.mode), " W",
            c.bits_weights, "A", c.bits_acts);
  BMC_CHECK(q.quantized() && !q.order().empty(), "integer path: quantize() first");
  for (size_t k = 0; k < q.order().size(); ++k) {
    const LayerQuant& l = q.layers()[q.order()[k]];
    BMC_CHECK(!l.full_precision, "integer path: layer ", l.name, " is kept in full precision");
    const bool supported = dynamic_cast<const nn::Linear*>(l.module) || dynamic_cast<const nn::Conv2d*>(l.module) ||
                           dynamic_cast<const nn::ReLU*>(l.module) || dynamic_cast<const nn::MaxPool2d*>(l.module);
    BMC_CHECK(supported, "integer path supports Linear, Conv2d, ReLU and MaxPool2d chains; ", l.name, " is ",
              l.module->type_name());
    BMC_CHECK(k == 0 || l.input_from_prev, "integer path: ", l.name,
              " does not consume the previous layer's output (not a chain)");
  }
}

Tensor integer_forward(const PostTrainQuantizer& q, const Tensor& x) {
  check_integer_path(q);
  const std::vector<float> host = x.to_vector<float>();
  Codes a;
  a.shape = x.shape().to_vector();
  const LayerQuant& first = q.layers()[q.order()[0]];
  a.p = first.role == QuantRole::Param ? first.in : first.out;
  a.q.resize(host.size());
  for (size_t i = 0; i < host.size(); ++i) a.q[i] = static_cast<int32_t>(quantize(host[i], a.p));
  for (size_t k = 0; k < q.order().size(); ++k) {
    const LayerQuant& l = q.layers()[q.order()[k]];
    if (dynamic_cast<const nn::Linear*>(l.module)) {
      requantize(a, l.in);
      a = linear(a, l);
    } else if (const auto* c = dynamic_cast<const nn::Conv2d*>(l.module)) {
      requantize(a, l.in);
      a = conv(a, l, c->params());
    } else if (dynamic_cast<const nn::ReLU*>(l.module)) {
      relu_codes(a);
      requantize(a, l.out);
    } else {
      a = max_pool(a, dynamic_cast<const nn::MaxPool2d&>(*l.module).params());
      requantize(a, l.out);
    }
  }
  std::vector<float> logits(a.q.size());
  for (size_t i = 0; i < a.q.size(); ++i) logits[i] = dequantize(static_cast<float>(a.q[i]), a.p);
  const int64_t n = a.shape[0];
  return Tensor::from_vector(logits, {n, static_cast<int64_t>(a.q.size()) / n});
}

}  // namespace bmc::compress
