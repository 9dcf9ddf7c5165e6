#include "ops/sgd.h"

#if BMC_HAS_CUDA
#include "ops/sgd_cuda.h"
#endif

#include "core/vector_loops.h"
#include "ops/check.h"

namespace bmc::ops {
namespace {

void check_hyper(const char* op, const SgdHyper& hyper) {
  BMC_CHECK(hyper.lr >= 0 && hyper.momentum >= 0 && hyper.weight_decay >= 0, op,
            ": lr, momentum and weight decay must be non-negative");
}

}  // namespace

BMC_VECTOR_LOOPS void masked_sgd_step(Tensor& w, Tensor& m, const Tensor& g, const Tensor& mask, const SgdHyper& hyper) {
  check_dtype("masked_sgd_step", "w", w, DType::F32);
  check_shape("masked_sgd_step", "m", m, w.shape());
  check_shape("masked_sgd_step", "g", g, w.shape());
  check_shape("masked_sgd_step", "mask", mask, w.shape());
  check_same_device("masked_sgd_step", {&w, &m, &g, &mask});
  check_hyper("masked_sgd_step", hyper);
  if (w.device().is_cuda()) return BMC_DISPATCH_CUDA(masked_sgd_step_cuda(w, m, g, mask, hyper));
  const SgdHyper h = resolved(hyper);
  float* pw = w.data<float>();
  float* pm = m.data<float>();
  const float* pg = g.data<float>();
  const float* pk = mask.data<float>();
  const int64_t n = w.numel();
#pragma omp parallel for simd schedule(static) if (n > 65536)
  for (int64_t i = 0; i < n; ++i) masked_sgd_update(pw[i], pm[i], pg[i], pk[i], h);
}

BMC_VECTOR_LOOPS void clamped_sgd_step(Tensor& w, Tensor& m, const Tensor& g, const SgdHyper& hyper, float lo, float hi) {
  check_dtype("clamped_sgd_step", "w", w, DType::F32);
  check_shape("clamped_sgd_step", "m", m, w.shape());
  check_shape("clamped_sgd_step", "g", g, w.shape());
  check_same_device("clamped_sgd_step", {&w, &m, &g});
  check_hyper("clamped_sgd_step", hyper);
  BMC_CHECK(!(lo > hi), "clamped_sgd_step: the bounds [", lo, ", ", hi, "] are empty");
  if (w.device().is_cuda()) return BMC_DISPATCH_CUDA(clamped_sgd_step_cuda(w, m, g, hyper, lo, hi));
  const SgdHyper h = resolved(hyper);
  float* pw = w.data<float>();
  float* pm = m.data<float>();
  const float* pg = g.data<float>();
  const int64_t n = w.numel();
  // Thread-local copies of the scalars: no store through w or m can alias them, so the loop
  // vectorizes.
#pragma omp parallel if (n > 65536)
  {
    const SgdHyper local = h;
    const float low = lo, high = hi;
#pragma omp for simd schedule(static)
    for (int64_t i = 0; i < n; ++i) clamped_sgd_update(pw[i], pm[i], pg[i], local, low, high);
  }
}

}  // namespace bmc::ops
