// conv2d forward, backward-data and backward-filter on the ResNet-20 (CIFAR) layer shapes, batch
// 128, and one shape of each class of the ImageNet ResNets, batch 8. Names match
// bench/torch_conv.py (PyTorch CPU, 2 threads) so the two can be compared directly:
// BM_conv2d_{fwd,bwd_data,bwd_filter}/{cpu,cuda}/n<N>_c<C>_h<H>_k<K>_r<R>_s<stride>.
#include <benchmark/benchmark.h>

#include <string>

#include "bench/bench_sync.h"
#include "core/device.h"
#include "ops/conv2d.h"

namespace {

using bmc::Device;
using bmc::DType;
using bmc::Tensor;

struct ConvShape {
  int n, c, h, k, r, stride;
  int pad() const { return r / 2; }
};

constexpr ConvShape kShapes[] = {
    // ResNet-20: the stem, the three stages' 3x3 convs, the stride-2 3x3 stage entries and the
    // 1x1 stride-2 shortcuts.
    {128, 3, 32, 16, 3, 1},
    {128, 16, 32, 16, 3, 1},
    {128, 16, 32, 32, 3, 2},
    {128, 16, 32, 32, 1, 2},
    {128, 32, 16, 32, 3, 1},
    {128, 32, 16, 64, 3, 2},
    {128, 32, 16, 64, 1, 2},
    {128, 64, 8, 64, 3, 1},
    // ImageNet ResNets: the 7x7 stride-2 stem, 3x3 at the first and third stages, their stride-2
    // entries (the second one to 7x7), a 1x1 stride-2 shortcut and ResNet-50's 1x1 reduction.
    {8, 3, 224, 64, 7, 2},
    {8, 64, 56, 64, 3, 1},
    {8, 64, 56, 128, 3, 2},
    {8, 64, 56, 128, 1, 2},
    {8, 256, 14, 256, 3, 1},
    {8, 256, 14, 512, 3, 2},
    {8, 256, 56, 64, 1, 1},
};

enum class Pass { Forward, BackwardData, BackwardFilter };

std::string shape_name(const ConvShape& s) {
  return "n" + std::to_string(s.n) + "_c" + std::to_string(s.c) + "_h" + std::to_string(s.h) + "_k" +
         std::to_string(s.k) + "_r" + std::to_string(s.r) + "_s" + std::to_string(s.stride);
}

using bmc::bench::sync;

void run_conv(benchmark::State& state, ConvShape s, Pass pass, Device device) {
  const bmc::ops::Conv2dParams p{s.stride, s.stride, s.pad(), s.pad()};
  Tensor x = Tensor::full({s.n, s.c, s.h, s.h}, 0.5f, device);
  Tensor w = Tensor::full({s.k, s.c, s.r, s.r}, 0.25f, device);
  const bmc::Shape out = bmc::ops::conv2d_output_shape(x.shape(), w.shape(), p);
  Tensor y(out, DType::F32, device), dy = Tensor::full(out, 0.1f, device);
  Tensor dx(x.shape(), DType::F32, device), dw = Tensor::zeros(w.shape(), DType::F32, device);
  Tensor none;
  for (auto _ : state) {
    switch (pass) {
      case Pass::Forward: bmc::ops::conv2d_forward(y, x, w, none, p); break;
      case Pass::BackwardData: bmc::ops::conv2d_backward(dx, none, none, dy, x, w, p); break;
      case Pass::BackwardFilter: bmc::ops::conv2d_backward(none, dw, none, dy, x, w, p); break;
    }
    sync(device);
  }
  const double macs = double(out.numel()) * s.c * s.r * s.r;
  state.counters["GFLOP/s"] = benchmark::Counter(2 * macs, benchmark::Counter::kIsIterationInvariantRate);
}

bool register_conv_benchmarks() {
  const struct {
    Pass pass;
    const char* name;
  } passes[] = {{Pass::Forward, "fwd"}, {Pass::BackwardData, "bwd_data"}, {Pass::BackwardFilter, "bwd_filter"}};
  const bool gpu = bmc::cuda_device_count() > 0;
  for (const ConvShape& s : kShapes)
    for (const auto& pass : passes) {
      const std::string suffix = std::string(pass.name) + "/";
      benchmark::RegisterBenchmark(("BM_conv2d_" + suffix + "cpu/" + shape_name(s)).c_str(), run_conv, s, pass.pass,
                                   Device::cpu())
          ->UseRealTime()
          ->Unit(benchmark::kMillisecond);
      if (gpu)
        benchmark::RegisterBenchmark(("BM_conv2d_" + suffix + "cuda/" + shape_name(s)).c_str(), run_conv, s,
                                     pass.pass, Device::cuda(0))
            ->UseRealTime()
            ->Unit(benchmark::kMillisecond);
    }
  return true;
}

const bool registered = register_conv_benchmarks();

}  // namespace
