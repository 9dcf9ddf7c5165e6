// Batch norm (training forward, backward; alone and with the ReLU after it in the same pass) on a
// ResNet-20 stage-1 activation, batch 128 (128, 16, 32, 32); softmax cross-entropy forward and backward on CIFAR-10 logits (128, 10); axpy
// on the same activation size (gradient accumulation at residual branch points). Names match
// bench/torch_bn_loss.py (PyTorch CPU, 2 threads):
// BM_{batch_norm,batch_norm_relu}_{train_fwd,bwd}/{cpu,cuda}/n128_c16_h32_w32,
// BM_axpy/{cpu,cuda}/n128_c16_h32_w32 and
// BM_softmax_xent_{fwd,bwd}/{cpu,cuda}/n128_k10.
#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "bench/bench_sync.h"
#include "core/device.h"
#include "ops/batch_norm.h"
#include "ops/elementwise.h"
#include "ops/loss.h"

namespace {

using bmc::Device;
using bmc::DType;
using bmc::Tensor;

constexpr int64_t kN = 128, kC = 16, kH = 32, kW = 32, kClasses = 10;
const char* const kBnShape = "n128_c16_h32_w32";
const char* const kXentShape = "n128_k10";

using bmc::bench::sync;

// Deterministic, non-constant data (a constant input would make the variance 0).
Tensor ramp(const bmc::Shape& shape, Device device, float period = 17.0f) {
  std::vector<float> v(static_cast<size_t>(shape.numel()));
  for (size_t i = 0; i < v.size(); ++i) v[i] = static_cast<float>(i % 17) / period - 0.5f;
  return Tensor::from_vector(v, shape, device);
}

struct BnState {
  Tensor x, y, dy, dx, gamma, beta, running_mean, running_var, saved_mean, saved_invstd, dgamma, dbeta;
  explicit BnState(Device d)
      : x(ramp({kN, kC, kH, kW}, d)),
        y({kN, kC, kH, kW}, DType::F32, d),
        dy(ramp({kN, kC, kH, kW}, d, 13.0f)),
        dx({kN, kC, kH, kW}, DType::F32, d),
        gamma(Tensor::full({kC}, 1.0f, d)),
        beta(Tensor::zeros({kC}, DType::F32, d)),
        running_mean(Tensor::zeros({kC}, DType::F32, d)),
        running_var(Tensor::full({kC}, 1.0f, d)),
        saved_mean({kC}, DType::F32, d),
        saved_invstd({kC}, DType::F32, d),
        dgamma(Tensor::zeros({kC}, DType::F32, d)),
        dbeta(Tensor::zeros({kC}, DType::F32, d)) {}
  void train() {
    bmc::ops::batch_norm_forward_train(y, saved_mean, saved_invstd, x, gamma, beta, running_mean, running_var,
                                       0.1f, 1e-5f);
  }
  void train_relu() {
    bmc::ops::batch_norm_relu_forward_train(y, saved_mean, saved_invstd, x, gamma, beta, running_mean,
                                            running_var, 0.1f, 1e-5f);
  }
};

void bn_train_fwd(benchmark::State& state, Device device) {
  BnState s(device);
  for (auto _ : state) {
    s.train();
    sync(device);
  }
  state.SetBytesProcessed(state.iterations() * 3 * s.x.nbytes());  // two reads of x, one write of y
}

void bn_bwd(benchmark::State& state, Device device) {
  BnState s(device);
  s.train();
  for (auto _ : state) {
    bmc::ops::batch_norm_backward(s.dx, s.dgamma, s.dbeta, s.dy, s.x, s.gamma, s.saved_mean, s.saved_invstd,
                                  1e-5f);
    sync(device);
  }
  state.SetBytesProcessed(state.iterations() * 5 * s.x.nbytes());  // x and dy twice, dx once
}

void bn_relu_train_fwd(benchmark::State& state, Device device) {
  BnState s(device);
  for (auto _ : state) {
    s.train_relu();
    sync(device);
  }
  state.SetBytesProcessed(state.iterations() * 3 * s.x.nbytes());
}

void bn_relu_bwd(benchmark::State& state, Device device) {
  BnState s(device);
  s.train_relu();
  for (auto _ : state) {
    bmc::ops::batch_norm_relu_backward(s.dx, s.dgamma, s.dbeta, s.dy, s.y, s.x, s.gamma, s.saved_mean,
                                       s.saved_invstd, 1e-5f);
    sync(device);
  }
  state.SetBytesProcessed(state.iterations() * 7 * s.x.nbytes());  // x, dy and y twice, dx once
}

void axpy(benchmark::State& state, Device device) {
  Tensor y = ramp({kN, kC, kH, kW}, device), x = ramp({kN, kC, kH, kW}, device, 13.0f);
  for (auto _ : state) {
    bmc::ops::axpy(y, 1e-3f, x);
    sync(device);
  }
  state.SetBytesProcessed(state.iterations() * 3 * x.nbytes());
}

struct XentState {
  Tensor logits, labels, loss, probs, dlogits;
  explicit XentState(Device d)
      : logits(ramp({kN, kClasses}, d, 3.0f)),
        labels(labels_for(d)),
        loss(bmc::Shape{}, DType::F32, d),
        probs({kN, kClasses}, DType::F32, d),
        dlogits({kN, kClasses}, DType::F32, d) {}
  static Tensor labels_for(Device d) {
    std::vector<int32_t> v(kN);
    for (int64_t i = 0; i < kN; ++i) v[static_cast<size_t>(i)] = static_cast<int32_t>(i % kClasses);
    return Tensor::from_vector(v, {kN}, d);
  }
};

void xent_fwd(benchmark::State& state, Device device) {
  XentState s(device);
  for (auto _ : state) {
    bmc::ops::softmax_cross_entropy_forward(s.loss, s.probs, s.logits, s.labels);
    sync(device);
  }
}

void xent_bwd(benchmark::State& state, Device device) {
  XentState s(device);
  bmc::ops::softmax_cross_entropy_forward(s.loss, s.probs, s.logits, s.labels);
  for (auto _ : state) {
    bmc::ops::softmax_cross_entropy_backward(s.dlogits, s.probs, s.labels);
    sync(device);
  }
}

bool register_bn_loss_benchmarks() {
  std::vector<std::pair<const char*, Device>> backends = {{"cpu", Device::cpu()}};
  if (bmc::cuda_device_count() > 0) backends.emplace_back("cuda", Device::cuda(0));
  const struct {
    const char* op;
    const char* shape;
    void (*fn)(benchmark::State&, Device);
  } benches[] = {{"batch_norm_train_fwd", kBnShape, bn_train_fwd},
                 {"batch_norm_bwd", kBnShape, bn_bwd},
                 {"batch_norm_relu_train_fwd", kBnShape, bn_relu_train_fwd},
                 {"batch_norm_relu_bwd", kBnShape, bn_relu_bwd},
                 {"axpy", kBnShape, axpy},
                 {"softmax_xent_fwd", kXentShape, xent_fwd},
                 {"softmax_xent_bwd", kXentShape, xent_bwd}};
  for (const auto& b : benches)
    for (const auto& [backend, device] : backends)
      benchmark::RegisterBenchmark(("BM_" + std::string(b.op) + "/" + backend + "/" + b.shape).c_str(), b.fn,
                                   device)
          ->UseRealTime()
          ->Unit(benchmark::kMicrosecond);
  return true;
}

const bool registered = register_bn_loss_benchmarks();

}  // namespace
