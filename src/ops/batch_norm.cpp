#include "ops/batch_norm.h"

#if BMC_HAS_CUDA
#include "ops/batch_norm_cuda.h"
#include "ops/relu_cuda.h"
#endif

#include <omp.h>

#include <cmath>
#include <cstring>
#include <vector>

#include "core/vector_loops.h"
#include "kernels/activation.cuh"
#include "kernels/elementwise.cuh"
#include "ops/check.h"

namespace bmc::ops {

ChannelAffine channel_affine(double mean, double invstd, float gamma, float beta) {
  const double scale = invstd * gamma;
  return {scale, beta - mean * scale};
}

BMC_VECTOR_LOOPS void batch_norm_affine_row(float* y, const float* x, int64_t n, const ChannelAffine& t, bool relu) {
  // In float, as PyTorch's: in double (converting every element there and back) this row was
  // 4% of a cifar_resnet_20 eval. y may be x (in place): each element is read before it is
  // written, so vectors are safe, and without the pragma GCC kept this loop scalar for fear of
  // other overlaps.
  const float scale = static_cast<float>(t.scale), shift = static_cast<float>(t.shift);
  if (relu) {
#pragma omp simd
    for (int64_t i = 0; i < n; ++i) y[i] = bmc::relu(x[i] * scale + shift);
  } else {
#pragma omp simd
    for (int64_t i = 0; i < n; ++i) y[i] = x[i] * scale + shift;
  }
}

BMC_VECTOR_LOOPS void batch_norm_affine_add_relu_row(float* y, const float* r, int64_t n, const ChannelAffine& t) {
  const float scale = static_cast<float>(t.scale), shift = static_cast<float>(t.shift);
#pragma omp simd
  for (int64_t i = 0; i < n; ++i) y[i] = bmc::relu(add_value(y[i] * scale + shift, r[i]));
}

namespace {

// x viewed as (outer = N, channels = C, inner = H * W); channel c's elements are
// x[(o * C + c) * inner + i].
struct BnDims {
  int64_t outer, channels, inner;
  int64_t per_channel() const { return outer * inner; }
};

BnDims check_bn_input(const char* op, const Tensor& x) {
  check_dtype(op, "x", x, DType::F32);
  BMC_CHECK(x.rank() == 4 || x.rank() == 2, op, ": x must be (N, C, H, W) or (N, C), got ", x.describe());
  return {x.dim(0), x.dim(1), x.rank() == 4 ? x.dim(2) * x.dim(3) : 1};
}

void check_channel_vector(const char* op, const char* name, const Tensor& t, int64_t channels) {
  check_dtype(op, name, t, DType::F32);
  check_shape(op, name, t, {channels});
}

double eval_invstd(float running_var, float eps) { return 1.0 / std::sqrt(static_cast<double>(running_var) + eps); }

// Statistics in double with two passes (mean, then squared deviations): no cancellation. The
// sums over a row run in SIMD lanes (a fixed order for a given build, so runs stay bitwise
// reproducible): one dependent double add per element cost more than the rest of batch norm.
// Channels [c0, c1) walk their planes image by image, in address order (as the backward does):
// sum[c] and sq[c] each over the images in order.
BMC_VECTOR_LOOPS void channel_sums(double* sum, const float* x, const BnDims& d, int64_t c0, int64_t c1) {
  for (int64_t c = c0; c < c1; ++c) sum[c] = 0;
  for (int64_t o = 0; o < d.outer; ++o)
    for (int64_t c = c0; c < c1; ++c) {
      const float* p = x + (o * d.channels + c) * d.inner;
      double s = sum[c];
      #pragma omp simd reduction(+ : s)
      for (int64_t i = 0; i < d.inner; ++i) s += p[i];
      sum[c] = s;
    }
}

BMC_VECTOR_LOOPS void channel_squares(double* sq, const double* mean, const float* x, const BnDims& d, int64_t c0, int64_t c1) {
  for (int64_t c = c0; c < c1; ++c) sq[c] = 0;
  for (int64_t o = 0; o < d.outer; ++o)
    for (int64_t c = c0; c < c1; ++c) {
      const float* p = x + (o * d.channels + c) * d.inner;
      const double m = mean[c];
      double s = sq[c];
      #pragma omp simd reduction(+ : s)
      for (int64_t i = 0; i < d.inner; ++i) s += (p[i] - m) * (p[i] - m);
      sq[c] = s;
    }
}

// The first channel of thread t's block.
int64_t channel_block(int64_t t, int64_t threads, int64_t channels) { return t * channels / threads; }

// Four floats widened to doubles (a GCC/Clang vector: AVX where the build has it, else narrower
// vectors or scalars, the same arithmetic lane by lane).
using Double4 = double __attribute__((vector_size(32)));
using Float4 = float __attribute__((vector_size(16)));

Double4 load_double4(const float* p) {
  Float4 f;
  std::memcpy(&f, p, sizeof(f));
  return __builtin_convertvector(f, Double4);
}

// y = (x - mean) * invstd * gamma + beta for channels [c0, c1), as y = x * a + b with t[c]'s a
// and b; then y = relu(y) when `relu` (the ReLU after a batch norm in the same pass: the same
// values as a ReLU run afterwards).
BMC_VECTOR_LOOPS void normalize_channels(float* y, const float* x, const BnDims& d, const ChannelAffine* t, int64_t c0, int64_t c1,
                        bool relu) {
  for (int64_t o = 0; o < d.outer; ++o)
    for (int64_t c = c0; c < c1; ++c) {
      const int64_t base = (o * d.channels + c) * d.inner;
      batch_norm_affine_row(y + base, x + base, d.inner, t[c], relu);
    }
}

void batch_norm_train_cpu(float* y, float* saved_mean, float* saved_invstd, const float* x,
                          const float* gamma, const float* beta, float* running_mean, float* running_var,
                          float momentum, float eps, const BnDims& d, bool relu) {
  const double m = momentum;
  const int64_t channels = d.channels;
  const double count = static_cast<double>(d.per_channel());
  std::vector<double> mean(channels), sq(channels);
  std::vector<ChannelAffine> affine(channels);
#pragma omp parallel if (d.outer * d.channels * d.inner > 65536)
  {
    const int t = omp_get_thread_num(), threads = omp_get_num_threads();
    const int64_t c0 = channel_block(t, threads, channels), c1 = channel_block(t + 1, threads, channels);
    channel_sums(mean.data(), x, d, c0, c1);
    for (int64_t c = c0; c < c1; ++c) mean[c] /= count;
    channel_squares(sq.data(), mean.data(), x, d, c0, c1);
    for (int64_t c = c0; c < c1; ++c) {
      const double var_biased = sq[c] / count, invstd = 1.0 / std::sqrt(var_biased + eps);
      affine[c] = channel_affine(mean[c], invstd, gamma[c], beta[c]);
      saved_mean[c] = static_cast<float>(mean[c]);
      saved_invstd[c] = static_cast<float>(invstd);
      const double var_unbiased = var_biased * count / (count - 1);
      running_mean[c] = static_cast<float>((1 - m) * running_mean[c] + m * mean[c]);
      running_var[c] = static_cast<float>((1 - m) * running_var[c] + m * var_unbiased);
    }
    normalize_channels(y, x, d, affine.data(), c0, c1, relu);
  }
}

// The statistics of the union of every process's shard: the element count and the per-channel
// sums, then the squared deviations from the common mean (two passes, as above).
void batch_norm_train_across_cpu(float* y, float* saved_mean, float* saved_invstd, const float* x,
                                 const float* gamma, const float* beta, float* running_mean, float* running_var,
                                 float momentum, float eps, const BnDims& d, const CrossShardSum& across,
                                 bool relu) {
  const int64_t channels = d.channels;
  const bool parallel = d.outer * d.channels * d.inner > 65536;
  std::vector<double> sums(channels + 1), mean(channels), squares(channels);
  std::vector<ChannelAffine> affine(channels);
  // Each pass on this thread's block of channels, between the sums with the other shards.
  auto over_blocks = [&](auto pass) {
#pragma omp parallel if (parallel)
    {
      const int t = omp_get_thread_num(), threads = omp_get_num_threads();
      pass(channel_block(t, threads, channels), channel_block(t + 1, threads, channels));
    }
  };
  over_blocks([&](int64_t c0, int64_t c1) { channel_sums(sums.data(), x, d, c0, c1); });
  sums[channels] = static_cast<double>(d.per_channel());
  across.host(sums.data(), channels + 1);
  const double count = sums[channels];
  BMC_CHECK(count > 1, "batch_norm_forward_train: training needs more than one value per channel over all shards");
  for (int64_t c = 0; c < channels; ++c) mean[c] = sums[c] / count;
  over_blocks([&](int64_t c0, int64_t c1) { channel_squares(squares.data(), mean.data(), x, d, c0, c1); });
  across.host(squares.data(), channels);
  const double m = momentum;
  for (int64_t c = 0; c < channels; ++c) {
    const double var_biased = squares[c] / count;
    const double invstd = 1.0 / std::sqrt(var_biased + eps);
    affine[c] = channel_affine(mean[c], invstd, gamma[c], beta[c]);
    saved_mean[c] = static_cast<float>(mean[c]);
    saved_invstd[c] = static_cast<float>(invstd);
    running_mean[c] = static_cast<float>((1 - m) * running_mean[c] + m * mean[c]);
    running_var[c] = static_cast<float>((1 - m) * running_var[c] + m * var_biased * count / (count - 1));
  }
  over_blocks([&](int64_t c0, int64_t c1) { normalize_channels(y, x, d, affine.data(), c0, c1, relu); });
}

void batch_norm_eval_cpu(float* y, const float* x, const float* gamma, const float* beta,
                         const float* running_mean, const float* running_var, float eps, const BnDims& d,
                         bool relu) {
  std::vector<ChannelAffine> affine(d.channels);
  for (int64_t c = 0; c < d.channels; ++c)
    affine[c] = channel_affine(running_mean[c], eval_invstd(running_var[c], eps), gamma[c], beta[c]);
#pragma omp parallel if (d.outer * d.channels * d.inner > 65536)
  {
    const int t = omp_get_thread_num(), threads = omp_get_num_threads();
    normalize_channels(y, x, d, affine.data(), channel_block(t, threads, d.channels),
                       channel_block(t + 1, threads, d.channels), relu);
  }
}

// dy, or ReLU's gradient through it when the ReLU after the batch norm is part of the backward
// (relu_y is that ReLU's output): the same values the ReLU's own backward would have passed on.
template <bool ThroughRelu>
struct Gradient {
  const float* dy;
  const float* relu_y;
  float operator()(int64_t i) const { return ThroughRelu ? relu_grad(dy[i], relu_y[i]) : dy[i]; }
  Double4 load4(int64_t i) const {
    Float4 g;
    std::memcpy(&g, dy + i, sizeof(g));
    if constexpr (ThroughRelu) {
      Float4 y;
      std::memcpy(&y, relu_y + i, sizeof(y));
      g = y > 0.0f ? g : Float4{};
    }
    return __builtin_convertvector(g, Double4);
  }
};

// With xhat = (x - mean) * invstd and M elements per channel:
//   dbeta = sum dy, dgamma = sum dy * xhat,
//   dx = gamma * invstd * (dy - dbeta / M - xhat * dgamma / M).
// Across shards (`across` set) M and both sums cover every shard; dgamma and dbeta get this
// shard's sums.
template <bool ThroughRelu>
BMC_VECTOR_LOOPS void batch_norm_backward_cpu(float* dx, float* dgamma, float* dbeta, Gradient<ThroughRelu> dy, const float* x,
                             const float* gamma, const float* saved_mean, const float* saved_invstd,
                             const BnDims& d, const CrossShardSum* across) {
  const int64_t channels = d.channels;
  const bool parallel = d.outer * d.channels * d.inner > 65536;
  // [sum dy (C), sum dy * xhat (C), M]
  std::vector<double> sums(2 * channels + 1);
  sums[2 * channels] = static_cast<double>(d.per_channel());
  // Channel c's sums over plane o (image o's values of it), added into sum_dy and sum_dy_xhat.
  auto plane_sums = [&](int64_t c, int64_t o, double& sum_dy, double& sum_dy_xhat) {
    const double mean = saved_mean[c], invstd = saved_invstd[c];
    const int64_t base = (o * channels + c) * d.inner;
    // Eight interleaved partial sums (a fixed order): one dependent double add per element
    // was the cost of the whole backward. Written as vectors of 4 doubles: with arrays of 8,
    // GCC kept the lanes scalar.
    Double4 lanes_dy[2] = {}, lanes_dy_xhat[2] = {};
    const Double4 mean4 = Double4{} + mean, invstd4 = Double4{} + invstd;
    int64_t i = 0;
    for (; i + 8 <= d.inner; i += 8)
      for (int h = 0; h < 2; ++h) {
        const Double4 g = dy.load4(base + i + 4 * h);
        lanes_dy[h] += g;
        lanes_dy_xhat[h] += g * ((load_double4(x + base + i + 4 * h) - mean4) * invstd4);
      }
    for (; i < d.inner; ++i) {
      const float g = dy(base + i);
      sum_dy += g;
      sum_dy_xhat += g * ((x[base + i] - mean) * invstd);
    }
    for (int l = 0; l < 8; ++l) {
      sum_dy += lanes_dy[l / 4][l % 4];
      sum_dy_xhat += lanes_dy_xhat[l / 4][l % 4];
    }
  };
  auto plane_dx = [&](int64_t c, int64_t o) {
    const double count = sums[2 * channels];
    const double mean = saved_mean[c], invstd = saved_invstd[c];
    const double mean_dy = sums[c] / count, mean_dy_xhat = sums[channels + c] / count;
    const double k = gamma[c] * invstd;
    // Four lanes at a time, each lane the scalar tail's arithmetic: GCC left this loop scalar once
    // the gradient went through the ReLU's mask.
    const Double4 mean4 = Double4{} + mean, invstd4 = Double4{} + invstd, k4 = Double4{} + k;
    const Double4 mean_dy4 = Double4{} + mean_dy, mean_dy_xhat4 = Double4{} + mean_dy_xhat;
    const int64_t base = (o * channels + c) * d.inner;
    int64_t i = 0;
    for (; i + 4 <= d.inner; i += 4) {
      const Double4 xhat = (load_double4(x + base + i) - mean4) * invstd4;
      const Float4 r = __builtin_convertvector(k4 * (dy.load4(base + i) - mean_dy4 - xhat * mean_dy_xhat4), Float4);
      std::memcpy(dx + base + i, &r, sizeof(r));
    }
    for (; i < d.inner; ++i) {
      const double xhat = (x[base + i] - mean) * invstd;
      dx[base + i] = static_cast<float>(k * (dy(base + i) - mean_dy - xhat * mean_dy_xhat));
    }
  };
  // Each thread takes a block of channels and walks its planes image by image, in address order:
  // runs of (block) planes back to back, where one channel at a time read runs of one plane
  // (4 KiB at 32x32) a batch of channels apart, each a fresh start for the prefetchers. Every
  // channel's sums still run over the images in order: the same values.
  auto sums_of = [&](int64_t c0, int64_t c1) {
    for (int64_t o = 0; o < d.outer; ++o)
      for (int64_t c = c0; c < c1; ++c) plane_sums(c, o, sums[c], sums[channels + c]);
    for (int64_t c = c0; c < c1; ++c) {
      dbeta[c] += static_cast<float>(sums[c]);
      dgamma[c] += static_cast<float>(sums[channels + c]);
    }
  };
  auto dx_of = [&](int64_t c0, int64_t c1) {
    for (int64_t o = 0; o < d.outer; ++o)
      for (int64_t c = c0; c < c1; ++c) plane_dx(c, o);
  };
  auto block = [&](int64_t t, int64_t threads) { return t * channels / threads; };
#pragma omp parallel if (parallel)
  {
    const int t = omp_get_thread_num(), threads = omp_get_num_threads();
    sums_of(block(t, threads), block(t + 1, threads));
    if (!across) dx_of(block(t, threads), block(t + 1, threads));  // no barrier: its own channels' sums
  }
  if (!across) return;
  across->host(sums.data(), 2 * channels + 1);
#pragma omp parallel if (parallel)
  {
    const int t = omp_get_thread_num(), threads = omp_get_num_threads();
    dx_of(block(t, threads), block(t + 1, threads));
  }
}

#if BMC_HAS_CUDA
// On CUDA the ReLU after a batch norm runs as our kernel beside cuDNN's (cuDNN fuses the two only
// for NHWC tensors): the same values, one more pass.
void forward_train_cuda(Tensor& y, Tensor& saved_mean, Tensor& saved_invstd, const Tensor& x, const Tensor& gamma,
                        const Tensor& beta, Tensor& running_mean, Tensor& running_var, float momentum, float eps,
                        const CrossShardSum* across, bool relu) {
  if (across)
    batch_norm_forward_train_across_cuda(y, saved_mean, saved_invstd, x, gamma, beta, running_mean, running_var,
                                         momentum, eps, *across);
  else
    batch_norm_forward_train_cuda(y, saved_mean, saved_invstd, x, gamma, beta, running_mean, running_var, momentum,
                                  eps);
  if (relu) relu_forward_cuda(y, y);
}

void forward_eval_cuda(Tensor& y, const Tensor& x, const Tensor& gamma, const Tensor& beta,
                       const Tensor& running_mean, const Tensor& running_var, float eps, bool relu) {
  batch_norm_forward_eval_cuda(y, x, gamma, beta, running_mean, running_var, eps);
  if (relu) relu_forward_cuda(y, y);
}

void backward_cuda(Tensor& dx, Tensor& dgamma, Tensor& dbeta, const Tensor& dy, const Tensor* relu_y,
                   const Tensor& x, const Tensor& gamma, const Tensor& saved_mean, const Tensor& saved_invstd,
                   float eps, const CrossShardSum* across) {
  Tensor through_relu;
  if (relu_y) {
    through_relu = Tensor(dy.shape(), DType::F32, dy.device());
    relu_backward_cuda(through_relu, dy, *relu_y);
  }
  const Tensor& g = relu_y ? through_relu : dy;
  if (across) return batch_norm_backward_across_cuda(dx, dgamma, dbeta, g, x, gamma, saved_mean, saved_invstd, *across);
  batch_norm_backward_cuda(dx, dgamma, dbeta, g, x, gamma, saved_mean, saved_invstd, eps);
}
#endif

void forward_train(const char* op, Tensor& y, Tensor& saved_mean, Tensor& saved_invstd, const Tensor& x,
                   const Tensor& gamma, const Tensor& beta, Tensor& running_mean, Tensor& running_var, float momentum,
                   float eps, const CrossShardSum* across, bool relu) {
  const BnDims d = check_bn_input(op, x);
  check_dtype(op, "y", y, DType::F32);
  check_shape(op, "y", y, x.shape());
  for (const auto& [name, t] : {std::pair<const char*, const Tensor*>{"gamma", &gamma},
                                {"beta", &beta},
                                {"running_mean", &running_mean},
                                {"running_var", &running_var},
                                {"saved_mean", &saved_mean},
                                {"saved_invstd", &saved_invstd}})
    check_channel_vector(op, name, *t, d.channels);
  // The unbiased variance for running_var divides by M - 1 (PyTorch raises here too).
  BMC_CHECK(across || d.per_channel() > 1, op, ": training needs more than one value per channel, got x ",
            x.describe());
  BMC_CHECK(momentum >= 0 && momentum <= 1, op, ": momentum must be in [0, 1], got ", momentum);
  BMC_CHECK(eps > 0, op, ": eps must be positive, got ", eps);
  check_same_device(op, {&y, &saved_mean, &saved_invstd, &x, &gamma, &beta, &running_mean, &running_var});
  check_no_alias(op, y, x);
  if (x.device().is_cuda())
    return BMC_DISPATCH_CUDA(forward_train_cuda(y, saved_mean, saved_invstd, x, gamma, beta, running_mean,
                                                running_var, momentum, eps, across, relu));
  if (across)
    return batch_norm_train_across_cpu(y.data<float>(), saved_mean.data<float>(), saved_invstd.data<float>(),
                                       x.data<float>(), gamma.data<float>(), beta.data<float>(),
                                       running_mean.data<float>(), running_var.data<float>(), momentum, eps, d,
                                       *across, relu);
  batch_norm_train_cpu(y.data<float>(), saved_mean.data<float>(), saved_invstd.data<float>(), x.data<float>(),
                       gamma.data<float>(), beta.data<float>(), running_mean.data<float>(),
                       running_var.data<float>(), momentum, eps, d, relu);
}

void forward_eval(const char* op, Tensor& y, const Tensor& x, const Tensor& gamma, const Tensor& beta,
                  const Tensor& running_mean, const Tensor& running_var, float eps, bool relu) {
  const BnDims d = check_bn_input(op, x);
  check_dtype(op, "y", y, DType::F32);
  check_shape(op, "y", y, x.shape());
  for (const auto& [name, t] : {std::pair<const char*, const Tensor*>{"gamma", &gamma},
                                {"beta", &beta},
                                {"running_mean", &running_mean},
                                {"running_var", &running_var}})
    check_channel_vector(op, name, *t, d.channels);
  BMC_CHECK(eps > 0, op, ": eps must be positive, got ", eps);
  check_same_device(op, {&y, &x, &gamma, &beta, &running_mean, &running_var});
  check_no_alias(op, y, x);
  if (x.device().is_cuda())
    return BMC_DISPATCH_CUDA(forward_eval_cuda(y, x, gamma, beta, running_mean, running_var, eps, relu));
  batch_norm_eval_cpu(y.data<float>(), x.data<float>(), gamma.data<float>(), beta.data<float>(),
                      running_mean.data<float>(), running_var.data<float>(), eps, d, relu);
}

// relu_y: the output of the ReLU whose gradient dy is, or null (dy is the batch norm's own).
void backward(const char* op, Tensor& dx, Tensor& dgamma, Tensor& dbeta, const Tensor& dy, const Tensor* relu_y,
              const Tensor& x, const Tensor& gamma, const Tensor& saved_mean, const Tensor& saved_invstd, float eps,
              const CrossShardSum* across) {
  const BnDims d = check_bn_input(op, x);
  check_dtype(op, "dy", dy, DType::F32);
  check_shape(op, "dy", dy, x.shape());
  check_dtype(op, "dx", dx, DType::F32);
  check_shape(op, "dx", dx, x.shape());
  for (const auto& [name, t] : {std::pair<const char*, const Tensor*>{"dgamma", &dgamma},
                                {"dbeta", &dbeta},
                                {"gamma", &gamma},
                                {"saved_mean", &saved_mean},
                                {"saved_invstd", &saved_invstd}})
    check_channel_vector(op, name, *t, d.channels);
  check_same_device(op, {&dx, &dgamma, &dbeta, &dy, &x, &gamma, &saved_mean, &saved_invstd});
  check_no_alias(op, dx, dy);
  check_no_alias(op, dx, x);
  if (relu_y) {
    check_dtype(op, "y", *relu_y, DType::F32);
    check_shape(op, "y", *relu_y, x.shape());
    check_same_device(op, {&dx, relu_y});
    check_no_alias(op, dx, *relu_y);
  }
  if (x.device().is_cuda())
    return BMC_DISPATCH_CUDA(backward_cuda(dx, dgamma, dbeta, dy, relu_y, x, gamma, saved_mean, saved_invstd, eps,
                                           across));
  if (relu_y)
    return batch_norm_backward_cpu(dx.data<float>(), dgamma.data<float>(), dbeta.data<float>(),
                                   Gradient<true>{dy.data<float>(), relu_y->data<float>()}, x.data<float>(),
                                   gamma.data<float>(), saved_mean.data<float>(), saved_invstd.data<float>(), d,
                                   across);
  batch_norm_backward_cpu(dx.data<float>(), dgamma.data<float>(), dbeta.data<float>(),
                          Gradient<false>{dy.data<float>(), nullptr}, x.data<float>(), gamma.data<float>(),
                          saved_mean.data<float>(), saved_invstd.data<float>(), d, across);
}

}  // namespace

void batch_norm_forward_train(Tensor& y, Tensor& saved_mean, Tensor& saved_invstd, const Tensor& x,
                              const Tensor& gamma, const Tensor& beta, Tensor& running_mean,
                              Tensor& running_var, float momentum, float eps, const CrossShardSum* across) {
  forward_train("batch_norm_forward_train", y, saved_mean, saved_invstd, x, gamma, beta, running_mean, running_var,
                momentum, eps, across, false);
}

void batch_norm_relu_forward_train(Tensor& y, Tensor& saved_mean, Tensor& saved_invstd, const Tensor& x,
                                   const Tensor& gamma, const Tensor& beta, Tensor& running_mean,
                                   Tensor& running_var, float momentum, float eps, const CrossShardSum* across) {
  forward_train("batch_norm_relu_forward_train", y, saved_mean, saved_invstd, x, gamma, beta, running_mean,
                running_var, momentum, eps, across, true);
}

void batch_norm_forward_eval(Tensor& y, const Tensor& x, const Tensor& gamma, const Tensor& beta,
                             const Tensor& running_mean, const Tensor& running_var, float eps) {
  forward_eval("batch_norm_forward_eval", y, x, gamma, beta, running_mean, running_var, eps, false);
}

void batch_norm_relu_forward_eval(Tensor& y, const Tensor& x, const Tensor& gamma, const Tensor& beta,
                                  const Tensor& running_mean, const Tensor& running_var, float eps) {
  forward_eval("batch_norm_relu_forward_eval", y, x, gamma, beta, running_mean, running_var, eps, true);
}

std::vector<ChannelAffine> batch_norm_eval_affine(const Tensor& gamma, const Tensor& beta,
                                                  const Tensor& running_mean, const Tensor& running_var, float eps) {
  const char* op = "batch_norm_eval_affine";
  const int64_t channels = gamma.numel();
  for (const auto& [name, t] : {std::pair<const char*, const Tensor*>{"gamma", &gamma},
                                {"beta", &beta},
                                {"running_mean", &running_mean},
                                {"running_var", &running_var}}) {
    check_channel_vector(op, name, *t, channels);
    BMC_CHECK(!t->device().is_cuda(), op, ": ", name, " must be on the CPU");
  }
  const float* mean = running_mean.data<float>();
  const float* var = running_var.data<float>();
  std::vector<ChannelAffine> affine(static_cast<size_t>(channels));
  for (int64_t c = 0; c < channels; ++c)
    affine[static_cast<size_t>(c)] =
        channel_affine(mean[c], eval_invstd(var[c], eps), gamma.data<float>()[c], beta.data<float>()[c]);
  return affine;
}

void batch_norm_backward(Tensor& dx, Tensor& dgamma, Tensor& dbeta, const Tensor& dy, const Tensor& x,
                         const Tensor& gamma, const Tensor& saved_mean, const Tensor& saved_invstd, float eps,
                         const CrossShardSum* across) {
  backward("batch_norm_backward", dx, dgamma, dbeta, dy, nullptr, x, gamma, saved_mean, saved_invstd, eps, across);
}

void batch_norm_relu_backward(Tensor& dx, Tensor& dgamma, Tensor& dbeta, const Tensor& dy, const Tensor& y,
                              const Tensor& x, const Tensor& gamma, const Tensor& saved_mean,
                              const Tensor& saved_invstd, float eps, const CrossShardSum* across) {
  backward("batch_norm_relu_backward", dx, dgamma, dbeta, dy, &y, x, gamma, saved_mean, saved_invstd, eps, across);
}

}  // namespace bmc::ops
