// End to end on a GPU: `bmc train` on `cuda` and on `cpu` from the same initial weights (drawn on
// the host) and the same batches, compared step by step through metrics.jsonl, for
// mnist_lenet_300_100 and cifar_resnet_20 on synthetic data; then lottery, prune, quantize and
// qlth on `cuda` beside the CPU's results. Skips, counted, without a device.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "io/atomic_file.h"
#include "tests/datasets/data_files.h"
#include "tests/support/gpu_env.h"
#include "tests/support/process.h"

namespace bmc {
namespace {

namespace fs = std::filesystem;

nlohmann::json last_json(const test::CommandResult& r) {
  const size_t at = r.output.rfind("\n{");
  return nlohmann::json::parse(r.output.substr(at == std::string::npos ? r.output.find('{') : at + 1));
}

// The training loss of every logged step.
std::vector<double> losses(const std::string& run_dir) {
  std::vector<double> out;
  std::istringstream in(io::read_file(run_dir + "/metrics.jsonl"));
  std::string line;
  while (std::getline(in, line)) {
    const auto row = nlohmann::json::parse(line);
    if (row.contains("loss")) out.push_back(row["loss"].get<double>());
  }
  return out;
}

// Per-op parity is 1e-5 relative; SGD compounds it, so the losses are held to 1% relative over
// the first steps (cuDNN's and OpenBLAS's reductions differ, both deterministic).
constexpr double kLossRelative = 1e-2;

class TrainingGpu : public ::testing::Test {
 protected:
  void SetUp() override {
    BMC_REQUIRE_CUDA_DEVICE();
    test::write_synthetic_mnist(root / "mnist", 640, 200);
    test::write_synthetic_cifar10(root / "cifar", 64);
  }
  // Runs `args` on both backends; the two summaries.
  std::pair<nlohmann::json, nlohmann::json> on_both(const std::string& args) {
    std::pair<nlohmann::json, nlohmann::json> out;
    for (const char* device : {"cpu", "cuda"}) {
      const test::CommandResult r = test::run_command(std::string(BMC_CLI_PATH) + " " + args + " --device " + device +
                                                      " --json --out " + root / device);
      EXPECT_EQ(r.code, 0) << device << ": " << args << "\n" << r.output;
      if (r.code != 0) return out;
      (std::string(device) == "cpu" ? out.first : out.second) = last_json(r);
    }
    return out;
  }
  void expect_same_losses(const nlohmann::json& cpu, const nlohmann::json& cuda) {
    const auto a = losses(cpu.at("run_dir").get<std::string>()), b = losses(cuda.at("run_dir").get<std::string>());
    ASSERT_EQ(a.size(), b.size());
    ASSERT_FALSE(a.empty());
    for (size_t i = 0; i < a.size(); ++i)
      EXPECT_LE(std::fabs(a[i] - b[i]), kLossRelative * std::max(1.0, std::fabs(a[i]))) << "logged step " << i + 1;
  }
  test::TempDir root;
};

TEST_F(TrainingGpu, CudaTrainsAsTheCpuStepByStep) {
  const auto lenet = on_both("train --model mnist_lenet_300_100 --data " + root / "mnist" +
                             " --batch-size 64 --training-steps 20it --log-every 1 --deterministic");
  if (HasFailure()) return;
  expect_same_losses(lenet.first, lenet.second);
  const auto resnet = on_both("train --model cifar_resnet_20 --data " + root / "cifar" +
                              " --batch-size 32 --training-steps 10it --log-every 1 --deterministic");
  if (HasFailure()) return;
  expect_same_losses(resnet.first, resnet.second);
}

// Under --deterministic, replaying the captured step gives the weights of op-by-op steps, bit for
// bit; the run says how many steps it replayed (all but the first, and the short last batch).
TEST_F(TrainingGpu, ACapturedStepTrainsTheWeightsOfOpByOpSteps) {
  for (const char* model : {"mnist_lenet_300_100", "cifar_resnet_20"}) {
    const std::string data = std::string(model) == "cifar_resnet_20" ? root / "cifar" : root / "mnist";
    std::string final_model[2];
    for (int graph = 0; graph < 2; ++graph) {
      const std::string out = root / (std::string("graph_") + model + std::to_string(graph));
      const test::CommandResult r =
          test::run_command(std::string(BMC_CLI_PATH) + " train --model " + model + " --data " + data +
                            " --batch-size 32 --training-steps 12it --log-every 3 --deterministic --device cuda --json" +
                            (graph ? "" : " --no-cuda-graph") + " --out " + out);
      ASSERT_EQ(r.code, 0) << r.output;
      const nlohmann::json summary = last_json(r);
      if (graph) {
        EXPECT_GE(summary.at("cuda_graph_steps").get<int64_t>(), 10) << model << "\n" << r.output;
      } else {
        EXPECT_EQ(summary.at("cuda_graph_steps").get<int64_t>(), 0) << model;
      }
      final_model[graph] = io::read_file(summary.at("run_dir").get<std::string>() + "/model_final.safetensors");
    }
    EXPECT_EQ(final_model[0], final_model[1]) << model << ": replayed and op-by-op weights differ";
  }
}

TEST_F(TrainingGpu, LotteryPruneQuantizeAndQlthRunOnCuda) {
  const std::string data = " --model mnist_lenet_300_100 --data " + root / "mnist" + " --batch-size 64";
  const auto lottery = on_both("lottery" + data + " --training-steps 20it --levels 1");
  if (HasFailure()) return;
  const auto cpu_levels = lottery.first.at("levels"), cuda_levels = lottery.second.at("levels");
  ASSERT_EQ(cpu_levels.size(), cuda_levels.size());
  for (size_t l = 0; l < cpu_levels.size(); ++l) {
    EXPECT_EQ(cpu_levels[l].at("remaining"), cuda_levels[l].at("remaining")) << "level " << l;
    EXPECT_NEAR(cpu_levels[l].at("test_top1").get<double>(), cuda_levels[l].at("test_top1").get<double>(), 0.02);
  }
  std::string lottery_dir;
  for (const auto& e : fs::directory_iterator(root / "cuda"))
    if (e.path().filename().string().rfind("lottery_", 0) == 0) lottery_dir = e.path().string();
  ASSERT_FALSE(lottery_dir.empty());
  const std::string trained = lottery_dir + "/level_0/model_final.safetensors";
  // Pruning runs on the host; the pruned model is quantized on both backends.
  const test::CommandResult prune = test::run_command(std::string(BMC_CLI_PATH) + " prune --model mnist_lenet_300_100 --checkpoint " +
                                                      trained + " --sparsity 0.8 --json --out " + root / "prune");
  ASSERT_EQ(prune.code, 0) << prune.output;
  const std::string mask = last_json(prune).at("mask").get<std::string>();
  const auto quantize = on_both("quantize" + data + " --checkpoint " + trained + " --mask " + mask +
                                " --qe-mode sym --qe-bits-wts 8 --calib-batches 2");
  if (HasFailure()) return;
  EXPECT_NEAR(quantize.first.at("test_top1").get<double>(), quantize.second.at("test_top1").get<double>(), 0.02);
  const test::CommandResult qlth = test::run_command(std::string(BMC_CLI_PATH) + " qlth " + lottery_dir + " --data " +
                                                     root / "mnist" + " --device cuda --calib-batches 2 --json --out " +
                                                     root / "qlth");
  EXPECT_EQ(qlth.code, 0) << qlth.output;
}

}  // namespace
}  // namespace bmc
