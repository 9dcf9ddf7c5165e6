#include "ops/adam.h"

#if BMC_HAS_CUDA
#include "ops/adam_cuda.h"
#endif

#include "core/vector_loops.h"
#include "ops/check.h"

namespace bmc::ops {

BMC_VECTOR_LOOPS void adam_step(Tensor& w, Tensor& m, Tensor& v, Tensor& vmax, const Tensor& g, const AdamHyper& hyper) {
  check_dtype("adam_step", "w", w, DType::F32);
  for (const auto& [name, t] : {std::pair<const char*, const Tensor*>{"m", &m}, {"v", &v}, {"vmax", &vmax}, {"g", &g}})
    check_shape("adam_step", name, *t, w.shape());
  check_same_device("adam_step", {&w, &m, &v, &vmax, &g});
  BMC_CHECK(hyper.lr >= 0 && hyper.step_size >= 0 && hyper.bias2_sqrt > 0 && hyper.eps > 0,
            "adam_step: lr, step size, bias correction and eps must be positive");
  if (w.device().is_cuda()) return BMC_DISPATCH_CUDA(adam_step_cuda(w, m, v, vmax, g, hyper));
  float* pw = w.data<float>();
  float* pm = m.data<float>();
  float* pv = v.data<float>();
  float* px = vmax.data<float>();
  const float* pg = g.data<float>();
  const int64_t n = w.numel();
#pragma omp parallel for schedule(static) if (n > 65536)
  for (int64_t i = 0; i < n; ++i) adam_update(pw[i], pm[i], pv[i], px[i], pg[i], hyper);
}

}  // namespace bmc::ops
