#include "ops/lattice.h"

#if BMC_HAS_CUDA
#include "ops/lattice_cuda.h"
#endif

#include <cmath>
#include <vector>

#include "kernels/fixed_sum.cuh"
#include "ops/check.h"

namespace bmc::ops {
namespace {

constexpr int kMaxBasis = kMaxLatticeDim * kMaxLatticeDim;

void check_layer(const char* op, const Tensor& w, const LatticeSearchShape& shape) {
  check_dtype(op, "w", w, DType::F32);
  BMC_CHECK(shape.n >= 1 && shape.n <= kMaxLatticeDim, op, ": lattice dimension must be 1..", kMaxLatticeDim, ", got ",
            shape.n);
  BMC_CHECK(shape.bits >= 2 && shape.bits <= 16, op, ": coordinate bits must be 2..16, got ", shape.bits);
  BMC_CHECK(shape.channels > 0 && shape.per > 0 && shape.per % shape.n == 0, op, ": ", shape.per,
            " weights per channel do not split into vectors of ", shape.n);
  BMC_CHECK(w.numel() == shape.channels * shape.per, op, ": w ", w.describe(), " is not ", shape.channels, " x ",
            shape.per);
}

void check_bases(const char* op, const Tensor& bases, const LatticeSearchShape& shape) {
  check_shape(op, "bases", bases, Shape{shape.bases(), shape.n, shape.n});
}

void check_search(const char* op, const Tensor& bases, const Tensor& best, const Tensor& losses, const Tensor& wn,
                  const Tensor& w_norms, const LatticeSearchShape& shape) {
  check_layer(op, wn, shape);
  check_bases(op, bases, shape);
  check_shape(op, "losses", losses, Shape{shape.channels});
  check_shape(op, "best", best, Shape{shape.bases()});
  check_shape(op, "w_norms", w_norms, Shape{shape.channels});
  check_same_device(op, {&wn, &bases, &losses, &best, &w_norms});
}

// Every vector's term of one channel into out[0, m): a loop over independent vectors with the
// dimension a constant, which the compiler vectorizes; the values are the core's, bit for bit.
template <int N>
void vector_terms(float* out, const float* wc, int64_t m, const float* b, const float* bt, int bits, LatticeTerm term,
                  float mean_q, LatticeCorrection corr, bool correct) {
#pragma omp simd
  for (int64_t k = 0; k < m; ++k) out[k] = lattice_vector_term(term, wc + k * N, b, bt, N, bits, mean_q, corr, correct);
}

// The channel loss with basis b (its Gram-Schmidt rows bt): the terms of all vectors, then their
// fixed-order sum. `terms` is scratch of at least shape.vectors() floats.
float channel_loss(const float* wc, const float* b, const float* bt, float w_norm, const LatticeSearchShape& shape,
                   std::vector<float>& terms) {
  const int64_t m = shape.vectors();
  terms.resize(static_cast<size_t>(m));
  auto sum = [&](LatticeTerm term, float mean_q, LatticeCorrection corr) {
    float* t = terms.data();
    switch (shape.n) {
      case 1: vector_terms<1>(t, wc, m, b, bt, shape.bits, term, mean_q, corr, shape.correct); break;
      case 2: vector_terms<2>(t, wc, m, b, bt, shape.bits, term, mean_q, corr, shape.correct); break;
      case 3: vector_terms<3>(t, wc, m, b, bt, shape.bits, term, mean_q, corr, shape.correct); break;
      default: vector_terms<4>(t, wc, m, b, bt, shape.bits, term, mean_q, corr, shape.correct); break;
    }
    return fixed_sum_host(m, [&](int64_t k) { return t[k]; });
  };
  return lattice_channel_loss(shape.correct, shape.per, w_norm, sum);
}

float norm_of(const Tensor& w_norms, const LatticeSearchShape& shape, int64_t c) {
  return shape.correct ? w_norms.data<float>()[c] : 0.0f;
}

}  // namespace

void lattice_quantize(Tensor& out, Tensor* coords, const Tensor& w, const Tensor& bases, float scale,
                      const LatticeSearchShape& shape) {
  check_layer("lattice_quantize", w, shape);
  check_bases("lattice_quantize", bases, shape);
  check_shape("lattice_quantize", "out", out, w.shape());
  if (coords) {
    check_dtype("lattice_quantize", "coords", *coords, DType::I32);
    check_shape("lattice_quantize", "coords", *coords, w.shape());
  }
  BMC_CHECK(scale > 0 && std::isfinite(scale), "lattice_quantize: scale must be positive, got ", scale);
  check_same_device("lattice_quantize", {&w, &out, &bases});
  if (w.device().is_cuda()) return BMC_DISPATCH_CUDA(lattice_quantize_cuda(out, coords, w, bases, scale, shape));
  const int n = shape.n;
  const int64_t m = shape.vectors();
  const float* wp = w.data<float>();
  const float* bp = bases.data<float>();
  float* op = out.data<float>();
  int32_t* zp = coords ? coords->data<int32_t>() : nullptr;
#pragma omp parallel for schedule(static)
  for (int64_t c = 0; c < shape.channels; ++c) {
    const float* b = bp + shape.basis_of(c) * n * n;
    float bt[kMaxBasis], v[kMaxLatticeDim], z[kMaxLatticeDim], q[kMaxLatticeDim];
    lattice_gram_schmidt(b, n, bt);
    for (int64_t k = c * m; k < (c + 1) * m; ++k) {
      for (int i = 0; i < n; ++i) v[i] = wp[k * n + i] / scale;
      lattice_quantize_vector(v, b, bt, n, shape.bits, z, q);
      for (int i = 0; i < n; ++i) {
        op[k * n + i] = mul_rn(q[i], scale);
        if (zp) zp[k * n + i] = static_cast<int32_t>(z[i]);
      }
    }
  }
}

void lattice_ste_backward(Tensor& dw, const Tensor& dy, const Tensor& w, const Tensor& bases, float scale,
                          const LatticeSearchShape& shape) {
  check_layer("lattice_ste_backward", w, shape);
  check_bases("lattice_ste_backward", bases, shape);
  check_shape("lattice_ste_backward", "dy", dy, w.shape());
  check_shape("lattice_ste_backward", "dw", dw, w.shape());
  check_same_device("lattice_ste_backward", {&w, &dy, &dw, &bases});
  if (w.device().is_cuda()) return BMC_DISPATCH_CUDA(lattice_ste_backward_cuda(dw, dy, w, bases, scale, shape));
  const int n = shape.n;
  const int64_t m = shape.vectors();
  const float* wp = w.data<float>();
  const float* gp = dy.data<float>();
  const float* bp = bases.data<float>();
  float* dp = dw.data<float>();
#pragma omp parallel for schedule(static)
  for (int64_t c = 0; c < shape.channels; ++c) {
    const float* b = bp + shape.basis_of(c) * n * n;
    float bt[kMaxBasis], v[kMaxLatticeDim];
    lattice_gram_schmidt(b, n, bt);
    for (int64_t k = c * m; k < (c + 1) * m; ++k) {
      for (int i = 0; i < n; ++i) v[i] = wp[k * n + i] / scale;
      lattice_vector_ste_backward(v, b, bt, n, shape.bits, gp + k * n, dp + k * n);
    }
  }
}

void lattice_bias_correct(Tensor& q, const Tensor& w, int64_t channels) {
  check_dtype("lattice_bias_correct", "w", w, DType::F32);
  check_shape("lattice_bias_correct", "q", q, w.shape());
  BMC_CHECK(channels > 0 && w.numel() % channels == 0, "lattice_bias_correct: ", w.describe(), " has no ", channels,
            " equal channels");
  check_same_device("lattice_bias_correct", {&w, &q});
  if (w.device().is_cuda()) return BMC_DISPATCH_CUDA(lattice_bias_correct_cuda(q, w, channels));
  const int64_t per = w.numel() / channels;
#pragma omp parallel for schedule(static)
  for (int64_t c = 0; c < channels; ++c) {
    float* qc = q.data<float>() + c * per;
    const float* wc = w.data<float>() + c * per;
    const LatticeCorrection corr =
        lattice_channel_correction(wc, qc, per, [&](auto value) { return fixed_sum_host(per, value); });
    for (int64_t i = 0; i < per; ++i) qc[i] = lattice_corrected(qc[i], corr);
  }
}

namespace {

struct ActLayout {
  int64_t channels, inner;
};

ActLayout check_act(const char* op, const Tensor& x, const Tensor& alpha) {
  check_dtype(op, "x", x, DType::F32);
  check_dtype(op, "alpha", alpha, DType::F32);
  const ActLayout l{x.rank() >= 2 ? x.dim(1) : 1, x.rank() >= 2 ? x.numel() / (x.dim(0) * x.dim(1)) : x.numel()};
  BMC_CHECK(alpha.numel() == 1 || alpha.numel() == l.channels, op, ": ", alpha.numel(), " ranges for ", x.describe());
  return l;
}

}  // namespace

void lattice_act_forward(Tensor& y, const Tensor& x, const Tensor& alpha, int bits) {
  const ActLayout l = check_act("lattice_act_forward", x, alpha);
  check_shape("lattice_act_forward", "y", y, x.shape());
  BMC_CHECK(bits >= 1 && bits <= 16, "lattice_act_forward: bits must be 1..16, got ", bits);
  check_same_device("lattice_act_forward", {&x, &y, &alpha});
  const float levels = static_cast<float>((1 << bits) - 1);
  if (x.device().is_cuda()) return BMC_DISPATCH_CUDA(lattice_act_forward_cuda(y, x, alpha, l.channels, l.inner, levels));
  const float* xp = x.data<float>();
  const float* ap = alpha.data<float>();
  float* yp = y.data<float>();
  const bool per_channel = alpha.numel() > 1;
  const int64_t n = x.numel();
#pragma omp parallel for schedule(static) if (n > 65536)
  for (int64_t i = 0; i < n; ++i)
    yp[i] = lattice_act_quantize(xp[i], per_channel ? ap[(i / l.inner) % l.channels] : ap[0], levels);
}

void lattice_act_backward(Tensor& dx, const Tensor& dy, const Tensor& x, const Tensor& alpha) {
  const ActLayout l = check_act("lattice_act_backward", x, alpha);
  check_shape("lattice_act_backward", "dy", dy, x.shape());
  check_shape("lattice_act_backward", "dx", dx, x.shape());
  check_same_device("lattice_act_backward", {&x, &dy, &dx, &alpha});
  if (x.device().is_cuda()) return BMC_DISPATCH_CUDA(lattice_act_backward_cuda(dx, dy, x, alpha, l.channels, l.inner));
  const float* xp = x.data<float>();
  const float* gp = dy.data<float>();
  const float* ap = alpha.data<float>();
  float* dp = dx.data<float>();
  const bool per_channel = alpha.numel() > 1;
  const int64_t n = x.numel();
#pragma omp parallel for schedule(static) if (n > 65536)
  for (int64_t i = 0; i < n; ++i) {
    const float a = per_channel ? ap[(i / l.inner) % l.channels] : ap[0];
    dp[i] = xp[i] < 0.0f || xp[i] > a ? 0.0f : gp[i];
  }
}

std::vector<float> lattice_centered_norms(const Tensor& w, int64_t channels) {
  check_dtype("lattice_centered_norms", "w", w, DType::F32);
  BMC_CHECK(channels > 0 && w.numel() % channels == 0, "lattice_centered_norms: ", w.describe(), " has no ", channels,
            " equal channels");
  const std::vector<float> v = w.to_vector<float>();
  const int64_t per = w.numel() / channels;
  std::vector<float> norms(static_cast<size_t>(channels));
  for (int64_t c = 0; c < channels; ++c) {
    const float* wc = v.data() + c * per;
    const float mean = fixed_sum_host(per, [&](int64_t i) { return wc[i]; }) / static_cast<float>(per);
    norms[c] = std::sqrt(fixed_sum_host(per, [&](int64_t i) {
      const float d = add_rn(wc[i], -mean);
      return mul_rn(d, d);
    }));
  }
  return norms;
}

void lattice_losses(Tensor& losses, Tensor& best, const Tensor& bases, const Tensor& wn, const Tensor& w_norms,
                    const LatticeSearchShape& shape) {
  check_search("lattice_losses", bases, best, losses, wn, w_norms, shape);
  if (wn.device().is_cuda()) return BMC_DISPATCH_CUDA(lattice_losses_cuda(losses, best, bases, wn, w_norms, shape));
  const int n = shape.n;
  float* lp = losses.data<float>();
#pragma omp parallel
  {
    std::vector<float> terms;
#pragma omp for schedule(static)
    for (int64_t c = 0; c < shape.channels; ++c) {
      const float* b = bases.data<float>() + shape.basis_of(c) * n * n;
      float bt[kMaxBasis];
      lattice_gram_schmidt(b, n, bt);
      lp[c] = channel_loss(wn.data<float>() + c * shape.per, b, bt, norm_of(w_norms, shape, c), shape, terms);
    }
  }
  float* best_p = best.data<float>();
  if (shape.shared_basis)
    best_p[0] = fixed_sum_host(shape.channels, [&](int64_t c) { return lp[c]; });
  else
    for (int64_t c = 0; c < shape.channels; ++c) best_p[c] = lp[c];
}

void lattice_search_step(Tensor& bases, Tensor& best, Tensor& losses, const Tensor& wn, const Tensor& w_norms,
                         const LatticeSearchShape& shape, const LatticeNoise& noise) {
  check_search("lattice_search_step", bases, best, losses, wn, w_norms, shape);
  if (wn.device().is_cuda())
    return BMC_DISPATCH_CUDA(lattice_search_step_cuda(bases, best, losses, wn, w_norms, shape, noise));
  const int n = shape.n, nn = n * n;
  float* bp = bases.data<float>();
  float* best_p = best.data<float>();
  float* lp = losses.data<float>();
  if (shape.shared_basis) {
    float cand[kMaxBasis], bt[kMaxBasis];
    lattice_candidate(bp, 0, shape, noise, cand);
    lattice_gram_schmidt(cand, n, bt);
#pragma omp parallel
    {
      std::vector<float> terms;
#pragma omp for schedule(static)
      for (int64_t c = 0; c < shape.channels; ++c)
        lp[c] = channel_loss(wn.data<float>() + c * shape.per, cand, bt, norm_of(w_norms, shape, c), shape, terms);
    }
    const float total = fixed_sum_host(shape.channels, [&](int64_t c) { return lp[c]; });
    if (total < best_p[0]) {
      best_p[0] = total;
      for (int e = 0; e < nn; ++e) bp[e] = cand[e];
    }
    return;
  }
#pragma omp parallel
  {
    std::vector<float> terms;
#pragma omp for schedule(dynamic, 4)
    for (int64_t c = 0; c < shape.channels; ++c) {
      float cand[kMaxBasis], bt[kMaxBasis];
      lattice_candidate(bp + c * nn, c, shape, noise, cand);
      lattice_gram_schmidt(cand, n, bt);
      const float loss =
          channel_loss(wn.data<float>() + c * shape.per, cand, bt, norm_of(w_norms, shape, c), shape, terms);
      if (loss < best_p[c]) {  // a NaN loss (a singular candidate) is rejected
        best_p[c] = loss;
        for (int e = 0; e < nn; ++e) bp[c * nn + e] = cand[e];
      }
    }
  }
}

}  // namespace bmc::ops
