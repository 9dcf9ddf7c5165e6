// conv2d on CUDA: cuDNN, NCHW f32. For each (device, shape, stride, padding, determinism) a plan
// holds the descriptors and the algorithm of each pass, chosen once from cuDNN's heuristics
// (the _v7 queries: no trial runs, no allocation) and cached. Workspaces come from the device's
// memory pool as u8 tensors, so steady-state training never calls cudaMalloc. Bias forward and
// gradient use our channel-bias kernels (kernels/bias.h; the gradient is deterministic).
#include <map>
#include <memory>
#include <mutex>

#include "core/cuda_context.h"
#include "kernels/bias.h"
#include "ops/conv2d_cuda.h"

namespace bmc::ops {
namespace {

struct ConvKey {
  int device, n, c, h, w, k, r, s, stride_h, stride_w, pad_h, pad_w;
  bool deterministic;
  auto operator<=>(const ConvKey&) const = default;
};

struct ConvPlan {
  cuda::TensorDescHandle x, y;
  cuda::FilterDescHandle w;
  cuda::ConvDescHandle conv;
  cudnnConvolutionFwdAlgo_t fwd{};
  cudnnConvolutionBwdDataAlgo_t bwd_data{};
  cudnnConvolutionBwdFilterAlgo_t bwd_filter{};
  size_t fwd_bytes = 0, bwd_data_bytes = 0, bwd_filter_bytes = 0;
};

// The first heuristic choice that runs in plain f32 FMA math (and is deterministic if asked);
// `fallback` (an algorithm cuDNN supports for every 2-D shape) if none qualifies.
template <class Perf, class Algo>
Algo pick(const Perf* results, int count, bool deterministic, Algo fallback) {
  for (int i = 0; i < count; ++i) {
    const Perf& r = results[i];
    if (r.status != CUDNN_STATUS_SUCCESS || r.mathType != CUDNN_FMA_MATH) continue;
    if (deterministic && r.determinism != CUDNN_DETERMINISTIC) continue;
    return r.algo;
  }
  return fallback;
}

std::unique_ptr<ConvPlan> make_plan(cudnnHandle_t dnn, const ConvKey& key, int p, int q) {
  auto plan = std::make_unique<ConvPlan>();
  plan->x = cuda::make_tensor_desc(key.n, key.c, key.h, key.w);
  plan->y = cuda::make_tensor_desc(key.n, key.k, p, q);
  plan->w = cuda::make_filter_desc(key.k, key.c, key.r, key.s);
  cudnnConvolutionDescriptor_t conv = nullptr;
  BMC_CUDNN_CHECK(cudnnCreateConvolutionDescriptor(&conv));
  plan->conv = cuda::ConvDescHandle(conv);
  BMC_CUDNN_CHECK(cudnnSetConvolution2dDescriptor(conv, key.pad_h, key.pad_w, key.stride_h, key.stride_w, 1, 1,
                                                  CUDNN_CROSS_CORRELATION, CUDNN_DATA_FLOAT));
  // Plain f32 FMA math: with CUDNN_DEFAULT_MATH cuDNN may run f32 convolutions on TF32 tensor
  // cores (10-bit mantissa) on Ampere and later, which breaks parity with the CPU oracle.
  BMC_CUDNN_CHECK(cudnnSetConvolutionMathType(conv, CUDNN_FMA_MATH));

  int count = 0;
  cudnnConvolutionFwdAlgoPerf_t fwd[CUDNN_CONVOLUTION_FWD_ALGO_COUNT];
  BMC_CUDNN_CHECK(cudnnGetConvolutionForwardAlgorithm_v7(dnn, plan->x, plan->w, conv, plan->y,
                                                         CUDNN_CONVOLUTION_FWD_ALGO_COUNT, &count, fwd));
  plan->fwd = pick(fwd, count, key.deterministic, CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_GEMM);
  BMC_CUDNN_CHECK(cudnnGetConvolutionForwardWorkspaceSize(dnn, plan->x, plan->w, conv, plan->y, plan->fwd,
                                                          &plan->fwd_bytes));

  cudnnConvolutionBwdDataAlgoPerf_t data[CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT];
  BMC_CUDNN_CHECK(cudnnGetConvolutionBackwardDataAlgorithm_v7(dnn, plan->w, plan->y, conv, plan->x,
                                                              CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT, &count, data));
  plan->bwd_data = pick(data, count, key.deterministic, CUDNN_CONVOLUTION_BWD_DATA_ALGO_1);
  BMC_CUDNN_CHECK(cudnnGetConvolutionBackwardDataWorkspaceSize(dnn, plan->w, plan->y, conv, plan->x,
                                                               plan->bwd_data, &plan->bwd_data_bytes));

  cudnnConvolutionBwdFilterAlgoPerf_t filter[CUDNN_CONVOLUTION_BWD_FILTER_ALGO_COUNT];
  BMC_CUDNN_CHECK(cudnnGetConvolutionBackwardFilterAlgorithm_v7(
      dnn, plan->x, plan->y, conv, plan->w, CUDNN_CONVOLUTION_BWD_FILTER_ALGO_COUNT, &count, filter));
  plan->bwd_filter = pick(filter, count, key.deterministic, CUDNN_CONVOLUTION_BWD_FILTER_ALGO_1);
  BMC_CUDNN_CHECK(cudnnGetConvolutionBackwardFilterWorkspaceSize(dnn, plan->x, plan->y, conv, plan->w,
                                                                 plan->bwd_filter, &plan->bwd_filter_bytes));
  return plan;
}

// The cached plan for this call (created on first use). Plans live until process exit.
const ConvPlan& plan_for(const cuda::Context& ctx, const Tensor& x, const Tensor& w, const Conv2dParams& p) {
  const ConvKey key{ctx.device,
                    static_cast<int>(x.dim(0)), static_cast<int>(x.dim(1)), static_cast<int>(x.dim(2)),
                    static_cast<int>(x.dim(3)), static_cast<int>(w.dim(0)), static_cast<int>(w.dim(2)),
                    static_cast<int>(w.dim(3)), p.stride_h, p.stride_w, p.pad_h, p.pad_w, ctx.deterministic};
  static std::mutex mutex;
  static std::map<ConvKey, std::unique_ptr<ConvPlan>> plans;
  std::lock_guard<std::mutex> lock(mutex);
  auto& plan = plans[key];
  if (!plan) {
    const Shape out = conv2d_output_shape(x.shape(), w.shape(), p);
    plan = make_plan(ctx.cudnn, key, static_cast<int>(out[2]), static_cast<int>(out[3]));
  }
  return *plan;
}

// A pooled device workspace; null data when no bytes are needed.
Tensor workspace(size_t bytes, Device device) {
  return bytes ? Tensor({static_cast<int64_t>(bytes)}, DType::U8, device) : Tensor();
}

void* data_or_null(Tensor& t) { return t.defined() ? t.raw() : nullptr; }

}  // namespace

void conv2d_forward_cuda(Tensor& y, const Tensor& x, const Tensor& w, const Tensor& b, const Conv2dParams& p) {
  if (x.dim(0) == 0) return;
  auto& ctx = cuda::context(x.device());
  const ConvPlan& plan = plan_for(ctx, x, w, p);
  Tensor ws = workspace(plan.fwd_bytes, x.device());
  const float one = 1.0f, zero = 0.0f;
  BMC_CUDNN_CHECK(cudnnConvolutionForward(ctx.cudnn, &one, plan.x, x.raw(), plan.w, w.raw(), plan.conv, plan.fwd,
                                          data_or_null(ws), plan.fwd_bytes, &zero, plan.y, y.raw()));
  if (b.defined())
    kernels::add_channel_bias(y.data<float>(), b.data<float>(), y.dim(0), y.dim(1), y.dim(2) * y.dim(3),
                              ctx.stream);
}

void conv2d_backward_cuda(Tensor& dx, Tensor& dw, Tensor& db, const Tensor& dy, const Tensor& x,
                          const Tensor& w, const Conv2dParams& p) {
  if (x.dim(0) == 0) return;
  auto& ctx = cuda::context(dy.device());
  const ConvPlan& plan = plan_for(ctx, x, w, p);
  const float one = 1.0f, zero = 0.0f;
  if (dx.defined()) {
    Tensor ws = workspace(plan.bwd_data_bytes, x.device());
    BMC_CUDNN_CHECK(cudnnConvolutionBackwardData(ctx.cudnn, &one, plan.w, w.raw(), plan.y, dy.raw(), plan.conv,
                                                 plan.bwd_data, data_or_null(ws), plan.bwd_data_bytes, &zero,
                                                 plan.x, dx.raw()));
  }
  if (dw.defined()) {  // beta = 1: parameter gradients accumulate
    Tensor ws = workspace(plan.bwd_filter_bytes, x.device());
    BMC_CUDNN_CHECK(cudnnConvolutionBackwardFilter(ctx.cudnn, &one, plan.x, x.raw(), plan.y, dy.raw(), plan.conv,
                                                   plan.bwd_filter, data_or_null(ws), plan.bwd_filter_bytes, &one,
                                                   plan.w, dw.raw()));
  }
  if (db.defined())
    kernels::channel_bias_grad(db.data<float>(), dy.data<float>(), dy.dim(0), dy.dim(1), dy.dim(2) * dy.dim(3),
                               ctx.stream);
}

}  // namespace bmc::ops
