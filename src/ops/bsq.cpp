#include "ops/bsq.h"

#if BMC_HAS_CUDA
#include "ops/bsq_cuda.h"
#endif

#include <algorithm>
#include <cmath>

#include "core/vector_loops.h"
#include "kernels/bit_planes.cuh"
#include "kernels/fixed_sum.cuh"
#include "ops/check.h"

namespace bmc::ops {
namespace {

int bits_of(const Tensor& planes) { return static_cast<int>(planes.dim(0)); }

void check_planes(const char* op, const Tensor& pos, const Tensor& neg, int64_t n) {
  check_dtype(op, "pos", pos, DType::F32);
  check_shape(op, "neg", neg, pos.shape());
  BMC_CHECK(pos.rank() == 2 && pos.dim(1) == n && pos.dim(0) >= 1 && pos.dim(0) <= 16, op,
            ": planes must be [bits (1..16), ", n, "], got ", pos.describe());
}

void check_scalar(const char* op, const char* name, const Tensor& t) {
  check_dtype(op, name, t, DType::F32);
  BMC_CHECK(t.numel() == 1, op, ": ", name, " must hold one value, got ", t.describe());
}

// The chunk sums of value(j) over [0, n), in the layout of kernels/fixed_sum.cuh. Each chunk runs
// as rows of kFixedSumLanes elements, lane t adding elements t, t + lanes, ... in order: the
// additions of fixed_sum_chunk_host, in a loop that vectorizes.
template <class Value>
BMC_VECTOR_LOOPS std::vector<float> chunk_sums(int64_t n, Value value) {
  const int64_t chunks = fixed_sum_chunks(n);
  std::vector<float> partials(static_cast<size_t>(chunks));
#pragma omp parallel for schedule(static) if (chunks > 1)
  for (int64_t c = 0; c < chunks; ++c) {
    const int64_t begin = c * kFixedSumChunk, count = std::min<int64_t>(kFixedSumChunk, n - begin);
    float lanes[kFixedSumLanes] = {};
    for (int64_t r = 0; r < count; r += kFixedSumLanes) {
      const int64_t width = std::min<int64_t>(kFixedSumLanes, count - r);
#pragma omp simd
      for (int64_t t = 0; t < width; ++t) lanes[t] = add_rn(lanes[t], value(begin + r + t));
    }
    partials[c] = fixed_sum_tree(lanes);
  }
  return partials;
}

// One pass over the planes of chunk c (kFixedSumChunk elements, the layout of kernels/fixed_sum.cuh),
// planes outer and each plane's rows of kFixedSumLanes elements inner, so both loops vectorize:
// - with kWeights, out[j] = s * Q(w_j), w_j summed in plane order as bit_plane_sum;
// - with kNorms, norms[i] = the chunk's sum of P_i^2 + Nn_i^2, lane t adding elements t, t + lanes,
//   ... in order and then the tree: fixed_sum_chunk_host's additions.
template <bool kWeights, bool kNorms>
BMC_VECTOR_LOOPS void plane_chunk(float* out, float* norms, const float* p, const float* q, int64_t n, int bits, float s, int64_t c) {
  const int64_t begin = c * kFixedSumChunk, count = std::min<int64_t>(kFixedSumChunk, n - begin);
  float acc[kFixedSumChunk];
  float lanes[kFixedSumLanes];
  if constexpr (kWeights) std::fill(acc, acc + count, 0.0f);
  for (int i = 0; i < bits; ++i) {
    const float e = bit_plane_weight(i, bits);
    const float* pi = p + i * n + begin;
    const float* qi = q + i * n + begin;
    if constexpr (kNorms) std::fill(lanes, lanes + kFixedSumLanes, 0.0f);
    for (int64_t r = 0; r < count; r += kFixedSumLanes) {
      const int64_t width = std::min<int64_t>(kFixedSumLanes, count - r);
#pragma omp simd
      for (int64_t t = 0; t < width; ++t) {
        const float a = pi[r + t], b = qi[r + t];
        if constexpr (kWeights) acc[r + t] = add_rn(acc[r + t], mul_rn(add_rn(a, -b), e));
        if constexpr (kNorms) lanes[t] = add_rn(lanes[t], add_rn(mul_rn(a, a), mul_rn(b, b)));
      }
    }
    if constexpr (kNorms) norms[i] = fixed_sum_tree(lanes);
  }
  if constexpr (kWeights)
    for (int64_t j = 0; j < count; ++j) out[begin + j] = mul_rn(s, bit_plane_quantize(acc[j], bits));
}

// Every chunk of the planes; returns the norm partials (when asked) at [i * chunks + c].
template <bool kWeights, bool kNorms>
std::vector<float> plane_pass(float* out, const Tensor& pos, const Tensor& neg, float s) {
  const int bits = bits_of(pos);
  const int64_t n = pos.dim(1), chunks = fixed_sum_chunks(n);
  std::vector<float> partials(kNorms ? static_cast<size_t>(bits * chunks) : 0);
  const float *p = pos.data<float>(), *q = neg.data<float>();
#pragma omp parallel for schedule(static) if (chunks > 1)
  for (int64_t c = 0; c < chunks; ++c) {
    float norms[16];
    plane_chunk<kWeights, kNorms>(out, norms, p, q, n, bits, s, c);
    if constexpr (kNorms)
      for (int i = 0; i < bits; ++i) partials[static_cast<size_t>(i * chunks + c)] = norms[i];
  }
  return partials;
}

float total_of(const std::vector<float>& partials) {
  return fixed_sum_partials_host(partials.data(), static_cast<int64_t>(partials.size()));
}

// coef[i] = weight / ||plane i|| and value = weight * sum_i ||plane i|| from plane_pass's partials.
void regularizer_from(Tensor& coef, Tensor& value, const std::vector<float>& partials, int bits, int64_t n,
                      float weight) {
  const int64_t chunks = fixed_sum_chunks(n);
  float sum = 0.0f;
  for (int i = 0; i < bits; ++i) {
    const float squares = n > 0 ? fixed_sum_partials_host(partials.data() + i * chunks, chunks) : 0.0f;
    const float norm = std::sqrt(add_rn(1e-8f, squares));
    coef.data<float>()[i] = weight / norm;
    sum = add_rn(sum, norm);
  }
  value.data<float>()[0] = mul_rn(weight, sum);
}

}  // namespace

void bsq_forward(Tensor& w, const Tensor& pos, const Tensor& neg, const Tensor& scale) {
  const int64_t n = w.numel();
  check_planes("bsq_forward", pos, neg, n);
  check_dtype("bsq_forward", "w", w, DType::F32);
  check_scalar("bsq_forward", "scale", scale);
  check_same_device("bsq_forward", {&w, &pos, &neg, &scale});
  if (w.device().is_cuda()) return BMC_DISPATCH_CUDA(bsq_forward_cuda(w, pos, neg, scale));
  plane_pass<true, false>(w.data<float>(), pos, neg, scale.data<float>()[0]);
}

BMC_VECTOR_LOOPS void bsq_backward(Tensor& dpos, Tensor& dneg, Tensor& dscale, const Tensor& g, const Tensor* mask, const Tensor& pos,
                  const Tensor& neg, const Tensor& scale, const Tensor& coef, bool ste) {
  const int64_t n = g.numel();
  check_planes("bsq_backward", pos, neg, n);
  check_shape("bsq_backward", "dpos", dpos, pos.shape());
  check_shape("bsq_backward", "dneg", dneg, pos.shape());
  check_dtype("bsq_backward", "g", g, DType::F32);
  if (mask) check_shape("bsq_backward", "mask", *mask, g.shape());
  check_scalar("bsq_backward", "scale", scale);
  check_scalar("bsq_backward", "dscale", dscale);
  BMC_CHECK(coef.numel() == pos.dim(0), "bsq_backward: ", coef.numel(), " coefficients for ", pos.dim(0), " planes");
  check_same_device("bsq_backward", {&dpos, &dneg, &dscale, &g, &pos, &neg, &scale, &coef});
  if (mask) check_same_device("bsq_backward", {&g, mask});
  if (g.device().is_cuda()) return BMC_DISPATCH_CUDA(bsq_backward_cuda(dpos, dneg, dscale, g, mask, pos, neg, scale, coef, ste));
  const int bits = bits_of(pos);
  const float s = scale.data<float>()[0];
  const float *pg = g.data<float>(), *pm = mask ? mask->data<float>() : nullptr;
  const float *p = pos.data<float>(), *q = neg.data<float>(), *c = coef.data<float>();
  float *dp = dpos.data<float>(), *dq = dneg.data<float>();
  // Per chunk, planes outer: the plane gradients and the plane sums row by row, then the scale's
  // lane sums in the kernel's order.
  const int64_t chunks = fixed_sum_chunks(n);
  std::vector<float> partials(static_cast<size_t>(chunks));
#pragma omp parallel for schedule(static) if (chunks > 1)
  for (int64_t chunk = 0; chunk < chunks; ++chunk) {
    const int64_t begin = chunk * kFixedSumChunk, count = std::min<int64_t>(kFixedSumChunk, n - begin);
    std::vector<float> gj(static_cast<size_t>(count)), qj(static_cast<size_t>(count));
    for (int64_t j = 0; j < count; ++j)
      gj[j] = ste ? (pm ? mul_rn(pg[begin + j], pm[begin + j]) : pg[begin + j]) : 0.0f;
    for (int i = 0; i < bits; ++i) {
      const float e = bit_plane_weight(i, bits), se = mul_rn(s, e), ci = c[i];
      const float *pi = p + i * n + begin, *qi = q + i * n + begin;
      float *dpi = dp + i * n + begin, *dqi = dq + i * n + begin;
#pragma omp simd
      for (int64_t j = 0; j < count; ++j) {
        const float a = pi[j], b = qi[j];
        const float ste_term = mul_rn(se, gj[j]);
        dpi[j] = add_rn(dpi[j], add_rn(ste_term, mul_rn(ci, a)));
        dqi[j] = add_rn(dqi[j], add_rn(-ste_term, mul_rn(ci, b)));
        qj[j] = add_rn(qj[j], mul_rn(add_rn(a, -b), e));
      }
    }
    for (int64_t j = 0; j < count; ++j) qj[j] = mul_rn(gj[j], bit_plane_quantize(qj[j], bits));
    partials[chunk] = fixed_sum_chunk_host(0, count, kFixedSumChunk, [&](int64_t j) { return qj[j]; });
  }
  if (n > 0) dscale.data<float>()[0] = add_rn(dscale.data<float>()[0], total_of(partials));
}

void bsq_regularizer(Tensor& coef, Tensor& value, const Tensor& pos, const Tensor& neg, float weight) {
  check_dtype("bsq_regularizer", "pos", pos, DType::F32);
  check_shape("bsq_regularizer", "neg", neg, pos.shape());
  BMC_CHECK(pos.rank() == 2 && pos.dim(0) >= 1 && pos.dim(0) <= 16 && coef.numel() == pos.dim(0),
            "bsq_regularizer: ", coef.numel(), " coefficients for planes ", pos.describe(), " (1..16 bits)");
  check_scalar("bsq_regularizer", "value", value);
  check_same_device("bsq_regularizer", {&coef, &value, &pos, &neg});
  if (pos.device().is_cuda()) return BMC_DISPATCH_CUDA(bsq_regularizer_cuda(coef, value, pos, neg, weight));
  regularizer_from(coef, value, plane_pass<false, true>(nullptr, pos, neg, 0.0f), bits_of(pos), pos.dim(1), weight);
}

void bsq_forward_regularized(Tensor& w, Tensor& coef, Tensor& value, const Tensor& pos, const Tensor& neg,
                             const Tensor& scale, float weight) {
  check_same_device("bsq_forward_regularized", {&w, &coef, &value, &pos, &neg, &scale});
  if (w.device().is_cuda()) {  // the two ops' kernels, each checking its own arguments
    bsq_regularizer(coef, value, pos, neg, weight);
    return bsq_forward(w, pos, neg, scale);
  }
  check_planes("bsq_forward_regularized", pos, neg, w.numel());
  check_dtype("bsq_forward_regularized", "w", w, DType::F32);
  check_scalar("bsq_forward_regularized", "scale", scale);
  check_scalar("bsq_forward_regularized", "value", value);
  BMC_CHECK(coef.numel() == pos.dim(0), "bsq_forward_regularized: ", coef.numel(), " coefficients for ",
            pos.describe());
  const std::vector<float> partials = plane_pass<true, true>(w.data<float>(), pos, neg, scale.data<float>()[0]);
  regularizer_from(coef, value, partials, bits_of(pos), pos.dim(1), weight);
}

BMC_VECTOR_LOOPS void bsq_codes(Tensor& codes, const Tensor& pos, const Tensor& neg) {
  const int64_t n = codes.numel();
  check_planes("bsq_codes", pos, neg, n);
  check_dtype("bsq_codes", "codes", codes, DType::I32);
  check_same_device("bsq_codes", {&codes, &pos, &neg});
  if (pos.device().is_cuda()) return BMC_DISPATCH_CUDA(bsq_codes_cuda(codes, pos, neg));
  const int bits = bits_of(pos);
  const float *p = pos.data<float>(), *q = neg.data<float>();
  int32_t* out = codes.data<int32_t>();
#pragma omp parallel for schedule(static) if (n > 65536)
  for (int64_t j = 0; j < n; ++j) out[j] = bit_plane_code(p, q, j, n, bits);
}

BMC_VECTOR_LOOPS void bsq_write_codes(Tensor& pos, Tensor& neg, const Tensor& codes) {
  const int64_t n = codes.numel();
  check_planes("bsq_write_codes", pos, neg, n);
  check_dtype("bsq_write_codes", "codes", codes, DType::I32);
  check_same_device("bsq_write_codes", {&codes, &pos, &neg});
  const int bits = bits_of(pos);
  if (!codes.device().is_cuda()) {
    const int32_t limit = (1 << bits) - 1;
    for (const int32_t c : codes.to_vector<int32_t>())
      BMC_CHECK(c >= -limit && c <= limit, "bsq_write_codes: code ", c, " does not fit ", bits, " bits");
  }
  if (pos.device().is_cuda()) return BMC_DISPATCH_CUDA(bsq_write_codes_cuda(pos, neg, codes));
  float *p = pos.data<float>(), *q = neg.data<float>();
  const int32_t* in = codes.data<int32_t>();
#pragma omp parallel for schedule(static) if (n > 65536)
  for (int64_t j = 0; j < n; ++j) bit_plane_write_code(p, q, in[j], j, n, bits);
}

BMC_VECTOR_LOOPS void bsq_latent_forward(Tensor& w, const Tensor& u, const Tensor& scale, int bits) {
  check_dtype("bsq_latent_forward", "u", u, DType::F32);
  check_shape("bsq_latent_forward", "w", w, u.shape());
  check_scalar("bsq_latent_forward", "scale", scale);
  check_same_device("bsq_latent_forward", {&w, &u, &scale});
  BMC_CHECK(bits >= 1 && bits <= 16, "bsq_latent_forward: precision must be 1..16 bits, got ", bits);
  if (u.device().is_cuda()) return BMC_DISPATCH_CUDA(bsq_latent_forward_cuda(w, u, scale, bits));
  const int64_t n = u.numel();
  const float s = scale.data<float>()[0];
  const float* pu = u.data<float>();
  float* pw = w.data<float>();
#pragma omp parallel for simd schedule(static) if (n > 65536)
  for (int64_t j = 0; j < n; ++j) pw[j] = mul_rn(s, bit_plane_quantize(pu[j], bits));
}

void bsq_latent_backward(Tensor& du, Tensor& dscale, const Tensor& g, const Tensor& u, const Tensor& scale, int bits) {
  check_dtype("bsq_latent_backward", "u", u, DType::F32);
  check_shape("bsq_latent_backward", "g", g, u.shape());
  check_shape("bsq_latent_backward", "du", du, u.shape());
  check_scalar("bsq_latent_backward", "scale", scale);
  check_scalar("bsq_latent_backward", "dscale", dscale);
  check_same_device("bsq_latent_backward", {&du, &dscale, &g, &u, &scale});
  if (u.device().is_cuda()) return BMC_DISPATCH_CUDA(bsq_latent_backward_cuda(du, dscale, g, u, scale, bits));
  const int64_t n = u.numel();
  const float s = scale.data<float>()[0];
  const float *pu = u.data<float>(), *pg = g.data<float>();
  float* pdu = du.data<float>();
  const std::vector<float> partials = chunk_sums(n, [&](int64_t j) {
    pdu[j] = add_rn(pdu[j], mul_rn(s, pg[j]));
    return mul_rn(pg[j], bit_plane_quantize(pu[j], bits));
  });
  if (n > 0) dscale.data<float>()[0] = add_rn(dscale.data<float>()[0], total_of(partials));
}

BMC_VECTOR_LOOPS void bsq_act_forward(Tensor& y, const Tensor& x, const Tensor& clip, int bits) {
  check_dtype("bsq_act_forward", "x", x, DType::F32);
  check_shape("bsq_act_forward", "y", y, x.shape());
  check_scalar("bsq_act_forward", "clip", clip);
  check_same_device("bsq_act_forward", {&y, &x, &clip});
  BMC_CHECK(bits >= 0 && bits <= 16, "bsq_act_forward: activation bits must be 0..16, got ", bits);
  if (x.device().is_cuda()) return BMC_DISPATCH_CUDA(bsq_act_forward_cuda(y, x, clip, bits));
  const int64_t n = x.numel();
  const float c = clip.data<float>()[0];
  const float* px = x.data<float>();
  float* py = y.data<float>();
  float m = 0.0f;
  if (bits > 0) {
#pragma omp parallel for reduction(max : m) schedule(static) if (n > 65536)
    for (int64_t j = 0; j < n; ++j) m = std::max(m, std::fabs(bsq_act_clip(px[j], c)));
  }
#pragma omp parallel for schedule(static) if (n > 65536)
  for (int64_t j = 0; j < n; ++j) {
    const float v = bsq_act_clip(px[j], c);
    py[j] = bits > 0 ? bsq_act_quantize(v, m, bits) : v;
  }
}

BMC_VECTOR_LOOPS void bsq_act_backward(Tensor& dx, Tensor* dclip, const Tensor& dy, const Tensor& x, const Tensor& clip, bool pact) {
  check_dtype("bsq_act_backward", "dy", dy, DType::F32);
  check_shape("bsq_act_backward", "x", x, dy.shape());
  check_shape("bsq_act_backward", "dx", dx, dy.shape());
  check_scalar("bsq_act_backward", "clip", clip);
  if (dclip) check_scalar("bsq_act_backward", "dclip", *dclip);
  check_same_device("bsq_act_backward", {&dx, &dy, &x, &clip});
  if (x.device().is_cuda()) return BMC_DISPATCH_CUDA(bsq_act_backward_cuda(dx, dclip, dy, x, clip, pact));
  const int64_t n = x.numel();
  const float c = clip.data<float>()[0];
  const float *px = x.data<float>(), *pdy = dy.data<float>();
  float* pdx = dx.data<float>();
  const std::vector<float> partials = chunk_sums(n, [&](int64_t j) {
    const float d = pdy[j], v = px[j];
    pdx[j] = bsq_act_clip_grad(d, v, c, pact);
    return v >= c ? d : 0.0f;
  });
  if (dclip && n > 0) dclip->data<float>()[0] = add_rn(dclip->data<float>()[0], total_of(partials));
}

}  // namespace bmc::ops
