// One training step (forward, softmax cross-entropy, backward, fused SGD) of the two reference
// models on in-memory random data, batch 128: cifar_resnet_20 (SGD momentum 0.9, wd 1e-4) and
// mnist_lenet_300_100 (plain SGD); and evaluation forwards (running batch-norm statistics) of
// cifar_resnet_20 at batch 128 and resnet18 at 224x224, batch 32. items_per_second is images per
// second. PyTorch references with the same names: bench/torch_train_step.py. Where a CUDA device
// exists, the two training steps also run on it, op by op and replayed as one captured graph
// (core/step_graph.h), timed by events on the stream; epoch_s is the time of a CIFAR-10 or MNIST
// training epoch at that rate (50,000 or 60,000 images).
#include <benchmark/benchmark.h>

#include "core/step_graph.h"
#include "kernels/philox.cuh"
#include "models/init.h"
#include "models/registry.h"
#include "ops/loss.h"
#include "optim/sgd.h"

#if BMC_HAS_CUDA
#include "bench/gpu_timing.h"
#endif

namespace bmc {
namespace {

void train_step_benchmark(benchmark::State& state, const std::string& model_name, const Shape& input,
                          optim::SgdOptions sgd_options) {
  auto model = models::make_model(model_name, Device::cpu());
  models::initialize(*model, 0);
  Tensor x(input), y({input[0]}, DType::I32), loss(Shape{}), probs, dlogits;
  for (int64_t i = 0; i < x.numel(); ++i) x.data<float>()[i] = u32_to_unit_float(philox_u32(1, i, 0, 0)) - 0.5f;
  for (int64_t i = 0; i < y.numel(); ++i) y.data<int32_t>()[i] = static_cast<int32_t>(u32_to_range(philox_u32(2, i, 0, 0), 10));
  optim::Sgd sgd(*model, sgd_options);
  model->set_training(true);
  for (auto _ : state) {
    model->zero_grad();
    Tensor logits = model->forward(x);
    probs = Tensor(logits.shape());
    dlogits = Tensor(logits.shape());
    ops::softmax_cross_entropy_forward(loss, probs, logits, y);
    ops::softmax_cross_entropy_backward(dlogits, probs, y);
    model->backward(dlogits);
    sgd.step(0.01f);
  }
  state.SetItemsProcessed(state.iterations() * input[0]);
}

Tensor random_images(const Shape& shape) {
  Tensor x(shape);
  for (int64_t i = 0; i < x.numel(); ++i) x.data<float>()[i] = u32_to_unit_float(philox_u32(1, i, 0, 0)) - 0.5f;
  return x;
}

void eval_benchmark(benchmark::State& state, const std::string& model_name, const Shape& input, int classes) {
  auto model = models::make_model(model_name, Device::cpu(), classes);
  models::initialize(*model, 0);
  const Tensor x = random_images(input);
  model->set_training(false);
  for (auto _ : state) benchmark::DoNotOptimize(model->forward(x));
  state.SetItemsProcessed(state.iterations() * input[0]);
}

void BM_cifar_resnet_20_eval(benchmark::State& state) { eval_benchmark(state, "cifar_resnet_20", {128, 3, 32, 32}, 10); }
void BM_resnet18_eval(benchmark::State& state) { eval_benchmark(state, "resnet18", {32, 3, 224, 224}, 1000); }

void BM_cifar_resnet_20_train_step(benchmark::State& state) {
  train_step_benchmark(state, "cifar_resnet_20", {128, 3, 32, 32}, {0.9f, 1e-4f, false});
}

void BM_mnist_lenet_300_100_train_step(benchmark::State& state) {
  train_step_benchmark(state, "mnist_lenet_300_100", {128, 1, 28, 28}, {0.0f, 0.0f, false});
}

#if BMC_HAS_CUDA
void gpu_train_step_benchmark(benchmark::State& state, const std::string& model_name, const Shape& input,
                              optim::SgdOptions sgd_options, int64_t epoch_images, bool graph) {
  const Device device = Device::cuda(0);
  auto model = models::make_model(model_name, device);
  models::initialize(*model, 0);
  Tensor y({input[0]}, DType::I32);
  for (int64_t i = 0; i < y.numel(); ++i) y.data<int32_t>()[i] = static_cast<int32_t>(u32_to_range(philox_u32(2, i, 0, 0), 10));
  const Tensor x = random_images(input).to(device), labels = y.to(device);
  const Tensor lr = Tensor::from_vector<float>({0.01f}, {}, device);
  Tensor loss(Shape{}, DType::F32, device);
  optim::Sgd sgd(*model, sgd_options);
  model->set_training(true);
  auto step = [&] {
    model->zero_grad();
    Tensor logits = model->forward(x);
    Tensor probs(logits.shape(), DType::F32, device), dlogits(logits.shape(), DType::F32, device);
    ops::softmax_cross_entropy_forward(loss, probs, logits, labels);
    ops::softmax_cross_entropy_backward(dlogits, probs, labels);
    model->backward(dlogits);
    sgd.step(lr);
  };
  step();  // cuDNN chooses its algorithms, the pool fills
  StepGraph captured(device);
  std::string why_not;
  if (graph && !captured.capture(step, why_not)) return state.SkipWithError(("capture failed: " + why_not).c_str());
  const double seconds = bench::time_on_device(state, device, [&] { graph ? captured.replay() : step(); }, false);
  state.SetItemsProcessed(state.iterations() * input[0]);
  state.counters["epoch_s"] = seconds * static_cast<double>((epoch_images + input[0] - 1) / input[0]);
}

bool register_gpu_train_step_benchmarks() {
  if (cuda_device_count() == 0) return false;
  for (const bool graph : {false, true}) {
    const std::string how = graph ? "/graph" : "";
    benchmark::RegisterBenchmark(("BM_cifar_resnet_20_train_step/cuda/128" + how).c_str(),
                                 [graph](benchmark::State& s) {
                                   gpu_train_step_benchmark(s, "cifar_resnet_20", {128, 3, 32, 32}, {0.9f, 1e-4f, false},
                                                            50000, graph);
                                 })
        ->UseManualTime()
        ->Unit(benchmark::kMillisecond);
    benchmark::RegisterBenchmark(("BM_mnist_lenet_300_100_train_step/cuda/128" + how).c_str(),
                                 [graph](benchmark::State& s) {
                                   gpu_train_step_benchmark(s, "mnist_lenet_300_100", {128, 1, 28, 28}, {0.0f, 0.0f, false},
                                                            60000, graph);
                                 })
        ->UseManualTime()
        ->Unit(benchmark::kMillisecond);
  }
  return true;
}

const bool gpu_registered = register_gpu_train_step_benchmarks();
#endif

BENCHMARK(BM_cifar_resnet_20_train_step)->Name("BM_cifar_resnet_20_train_step/cpu/128")->UseRealTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_mnist_lenet_300_100_train_step)->Name("BM_mnist_lenet_300_100_train_step/cpu/128")->UseRealTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_cifar_resnet_20_eval)->Name("BM_cifar_resnet_20_eval/cpu/128")->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_resnet18_eval)->Name("BM_resnet18_eval/cpu/32")->UseRealTime()->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace bmc
