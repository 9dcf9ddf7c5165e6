// Data-parallel training across MPI processes, on this machine's CPU backend: two ranks started
// by mpirun (from the test) against one process with the same global batch. The reduction order
// differs (each rank sums its shard's gradients, MPI sums the ranks), so the weights agree within
// a tolerance; repeated two-rank runs agree bitwise. Skips, counted, when mpirun is missing.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/device.h"
#include "io/safetensors.h"
#include "tests/support/gpu_env.h"
#include "tests/datasets/data_files.h"
#include "tests/support/process.h"

namespace bmc {
namespace {

namespace fs = std::filesystem;

using Result = test::CommandResult;

Result run(const std::string& command) { return test::run_command(command); }

bool have_mpirun() { return run("command -v mpirun").code == 0; }

// mpirun refuses to start as root unless told; --oversubscribe lets two ranks share fewer cores;
// shared memory without cross-memory attach, which containers often forbid (ptrace rights).
std::string mpirun(int ranks) {
  return "env OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_btl=self,vader "
         "OMPI_MCA_btl_vader_single_copy_mechanism=none mpirun -np " +
         std::to_string(ranks) + " --oversubscribe ";
}

std::string bmc() { return BMC_CLI_PATH; }

std::string run_dir(const Result& r) {
  const size_t at = r.output.rfind("\n{");
  return nlohmann::json::parse(r.output.substr(at == std::string::npos ? r.output.find('{') : at + 1))
      .at("run_dir")
      .get<std::string>();
}

// The largest |a - b| over the tensors of two safetensors files of the same names and shapes.
double max_difference(const std::string& a, const std::string& b) {
  const io::SafeTensors x = io::load_safetensors(a), y = io::load_safetensors(b);
  EXPECT_EQ(x.tensors.size(), y.tensors.size());
  double worst = 0;
  for (const auto& [name, t] : x.tensors) {
    const auto it = y.tensors.find(name);
    if (it == y.tensors.end()) {
      ADD_FAILURE() << name << " missing in " << b;
      continue;
    }
    if (t.dtype() != DType::F32) continue;
    const auto u = t.to_vector<float>(), v = it->second.to_vector<float>();
    EXPECT_EQ(u.size(), v.size()) << name;
    for (size_t i = 0; i < u.size() && i < v.size(); ++i) worst = std::max(worst, std::fabs(double(u[i]) - v[i]));
  }
  return worst;
}

std::string bytes_of(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

class DataParallel : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!have_mpirun()) GTEST_SKIP() << "mpirun not found (scripts/install-deps.sh installs openmpi-bin)";
    test::write_synthetic_mnist(root / "mnist", 640, 200);
    test::write_synthetic_cifar10(root / "cifar", 48);
  }
  std::string mnist(const std::string& extra) const {
    return " train --model mnist_lenet_300_100 --device cpu --data " + root / "mnist" +
           " --batch-size 64 --lr 0.05 --momentum 0.9 --training-steps 24it --log-every 4 --eval-every 12it --json" +
           extra;
  }
  std::string resnet(const std::string& extra) const {
    return " train --model cifar_resnet_8 --device cpu --data " + root / "cifar" +
           " --batch-size 20 --lr 0.02 --training-steps 3it --log-every 1 --eval-every 3it --json" + extra;
  }
  // Runs `command --out root/name`: the run's final weights ("" after a failure, reported).
  std::string final_weights(const std::string& command, const std::string& name) {
    const Result r = run(command + " --out " + root / name);
    if (r.code != 0) {
      ADD_FAILURE() << command << "\n" << r.output;
      return "";
    }
    return run_dir(r) + "/model_final.safetensors";
  }
  test::TempDir root;
};

// The tolerances: float32 sums of the same terms in another order, over a few SGD steps.
// Measured here: 6e-8 (LeNet, 24 steps) and 8.9e-6 (ResNet-8, 3 steps at lr 0.02). The ResNet's
// schedule is short and gentle because its training amplifies rounding chaotically: at 6 steps and
// lr 0.1, five seeds on CIFAR-10 ended 3e-7 to 7e-3 apart, with either filter-gradient kernel of
// the stem; at 3 steps and lr 0.02, 6e-8 to 1.7e-6. Without synchronised batch norm the ResNet
// ends 0.074 away.
constexpr double kLenetTolerance = 2e-6;
constexpr double kResnetTolerance = 5e-5;

TEST_F(DataParallel, TwoRanksTrainMnistLenetAsOneProcessWithTheGlobalBatch) {
  const std::string one = final_weights(bmc() + mnist(""), "one");
  const std::string two = final_weights(mpirun(2) + bmc() + mnist(" --distributed"), "two");
  ASSERT_FALSE(one.empty() || two.empty());
  const double diff = max_difference(one, two);
  RecordProperty("max_weight_difference", testing::PrintToString(diff));
  EXPECT_LE(diff, kLenetTolerance);
  // Rank 0 alone writes the summary, of the whole test split.
  auto summary_of = [](const std::string& weights) {
    return nlohmann::json::parse(bytes_of(fs::path(weights).parent_path() / "summary.json"));
  };
  EXPECT_TRUE(summary_of(two).value("finished", false));
  EXPECT_NEAR(summary_of(two).at("test_top1").get<double>(), summary_of(one).at("test_top1").get<double>(), 0.011);
  // Again with two ranks: the same bits.
  const std::string again = final_weights(mpirun(2) + bmc() + mnist(" --distributed"), "again");
  EXPECT_TRUE(bytes_of(two) == bytes_of(again));
}

TEST_F(DataParallel, TwoRanksWithSynchronisedBatchNormTrainAResnetAsOneProcess) {
  const std::string one = final_weights(bmc() + resnet(""), "one");
  const std::string two = final_weights(mpirun(2) + bmc() + resnet(" --distributed --sync-batch-norm"), "two");
  ASSERT_FALSE(one.empty() || two.empty());
  const double diff = max_difference(one, two);
  RecordProperty("max_weight_difference", testing::PrintToString(diff));
  EXPECT_LE(diff, kResnetTolerance);
  // Without synchronisation each rank normalises its own 10 images: another model.
  const std::string own = final_weights(mpirun(2) + bmc() + resnet(" --distributed"), "own");
  ASSERT_FALSE(own.empty());
  EXPECT_GT(max_difference(one, own), 10 * kResnetTolerance);
}

TEST_F(DataParallel, ALotteryOnTwoRanksPrunesTheMaskOfOneProcess) {
  const std::string lottery = " lottery --model mnist_lenet_300_100 --device cpu --data " + root / "mnist" +
                              " --batch-size 64 --lr 0.05 --momentum 0.9 --training-steps 12it --levels 1 --json";
  const Result one = run(bmc() + lottery + " --out " + root / "one");
  ASSERT_EQ(one.code, 0) << one.output;
  const Result two = run(mpirun(2) + bmc() + lottery + " --distributed --out " + root / "two");
  ASSERT_EQ(two.code, 0) << two.output;
  std::string a, b;
  for (const auto& e : fs::directory_iterator(root / "one")) a = e.path().string();
  for (const auto& e : fs::directory_iterator(root / "two")) b = e.path().string();
  const io::SafeTensors ma = io::load_safetensors(a + "/level_1/mask.safetensors");
  const io::SafeTensors mb = io::load_safetensors(b + "/level_1/mask.safetensors");
  ASSERT_EQ(ma.tensors.size(), mb.tensors.size());
  int64_t differing = 0, total = 0;
  for (const auto& [name, t] : ma.tensors) {
    ASSERT_EQ(t.dtype(), DType::U8) << name;
    const auto u = t.to_vector<uint8_t>(), v = mb.tensors.at(name).to_vector<uint8_t>();
    ASSERT_EQ(u.size(), v.size());
    for (size_t i = 0; i < u.size(); ++i) differing += u[i] != v[i];
    total += static_cast<int64_t>(u.size());
  }
  RecordProperty("mask_entries_differing", std::to_string(differing));
  EXPECT_EQ(differing, 0) << "of " << total;
}

// The bmc processes mpirun started (its children).
std::vector<pid_t> ranks_of(pid_t launcher) {
  std::vector<pid_t> pids;
  for (const auto& e : fs::directory_iterator("/proc")) {
    const std::string name = e.path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::ifstream stat(e.path() / "stat");
    std::string line;
    if (!std::getline(stat, line)) continue;
    const size_t close = line.rfind(')');
    if (close == std::string::npos || line.substr(line.find('(') + 1, close - line.find('(') - 1) != "bmc") continue;
    char state;
    int ppid = 0;
    if (std::sscanf(line.c_str() + close + 2, "%c %d", &state, &ppid) == 2 && ppid == launcher)
      pids.push_back(std::stoi(name));
  }
  return pids;
}

struct Launched {
  pid_t pid;
  std::string log;
};

// mpirun in the background (exec'd by a shell so its pid is ours), output into a file.
Launched launch(const std::string& command, const std::string& log) {
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::setpgid(0, 0);
    const std::string line = "exec " + command + " >" + log + " 2>&1";
    ::execl("/bin/sh", "sh", "-c", line.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  return {pid, log};
}

// Waits for the launcher to end; its exit code, or -1 after `seconds` (then it is killed).
int wait_for(pid_t pid, double seconds) {
  const auto until = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  int status = 0;
  while (std::chrono::steady_clock::now() < until) {
    if (::waitpid(pid, &status, WNOHANG) == pid) return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ::kill(-pid, SIGKILL);
  ::waitpid(pid, &status, 0);
  return -1;
}

// The run directory under `out` once it holds a checkpoint, or "" after `seconds`.
std::string wait_for_checkpoint(const fs::path& out, double seconds) {
  const auto until = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  while (std::chrono::steady_clock::now() < until) {
    if (fs::is_directory(out))
      for (const auto& e : fs::directory_iterator(out))
        if (fs::exists(e.path() / "latest.json")) return e.path().string();
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return "";
}

TEST_F(DataParallel, ARankThatDiesStopsTheOthersAndTheRerunResumesBitwise) {
  const std::string args = mnist(" --training-steps 400it --checkpoint-every 20it --eval-every 400it --distributed");
  const Result whole = run(mpirun(2) + bmc() + args + " --out " + root / "whole");
  ASSERT_EQ(whole.code, 0) << whole.output;

  const Launched job = launch(mpirun(2) + bmc() + args + " --out " + root / "killed", root / "killed.log");
  ASSERT_FALSE(wait_for_checkpoint(root / "killed", 60).empty()) << bytes_of(job.log);
  const std::vector<pid_t> ranks = ranks_of(job.pid);
  ASSERT_EQ(ranks.size(), 2u) << bytes_of(job.log);
  ::kill(ranks.back(), SIGKILL);
  const int code = wait_for(job.pid, 60);
  EXPECT_NE(code, -1) << "the job hung after a rank died: " << bytes_of(job.log);
  EXPECT_NE(code, 0) << bytes_of(job.log);

  const Result rerun = run(mpirun(2) + bmc() + args + " --out " + root / "killed");
  ASSERT_EQ(rerun.code, 0) << rerun.output;
  EXPECT_NE(rerun.output.find("continuing"), std::string::npos) << rerun.output;
  EXPECT_TRUE(bytes_of(run_dir(whole) + "/model_final.safetensors") ==
              bytes_of(run_dir(rerun) + "/model_final.safetensors"));
}

TEST_F(DataParallel, ARankThatHangsTimesOutTheOthersWithAMessage) {
  const std::string args =
      mnist(" --training-steps 4000it --checkpoint-every 20it --distributed --collective-timeout 3");
  const Launched job = launch(mpirun(2) + bmc() + args + " --out " + root / "hang", root / "hang.log");
  ASSERT_FALSE(wait_for_checkpoint(root / "hang", 60).empty()) << bytes_of(job.log);
  const std::vector<pid_t> ranks = ranks_of(job.pid);
  ASSERT_EQ(ranks.size(), 2u) << bytes_of(job.log);
  ::kill(ranks.back(), SIGSTOP);
  const int code = wait_for(job.pid, 60);
  for (pid_t p : ranks) ::kill(p, SIGKILL);
  EXPECT_NE(code, -1) << "no rank timed out: " << bytes_of(job.log);
  EXPECT_NE(code, 0);
  EXPECT_NE(bytes_of(job.log).find("got no answer from the other ranks in 3 s"), std::string::npos) << bytes_of(job.log);
}

TEST_F(DataParallel, FlagsThatNeedDistributedAreRefusedWithoutIt) {
  const Result r = run(bmc() + mnist(" --sync-batch-norm --out " + root / "x"));
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.output.find("need --distributed"), std::string::npos) << r.output;
}

// BSQ's planes are trainable state outside the arena: their gradients are all-reduced too, and a
// precision change (re-quantization at an epoch start) happens alike on every rank. Each rank
// ranges its activation quantizers over its own shard, as batch norm without synchronisation.
TEST_F(DataParallel, BsqTrainsOnTwoRanksReproduciblyAndResumesBitwise) {
  const std::string common = " --model cifar_resnet_8 --device cpu --data " + root / "cifar" + " --batch-size 20";
  const Result fp = run(bmc() + " train" + common + " --training-steps 2it --json --out " + root / "fp");
  ASSERT_EQ(fp.code, 0) << fp.output;
  const Result conv = run(bmc() + " bsq convert" + common + " --checkpoint " + run_dir(fp) +
                          "/model_final.safetensors --json --out " + root / "conv");
  ASSERT_EQ(conv.code, 0) << conv.output;
  const std::string args = " bsq train" + common + " --from " + run_dir(conv) +
                           " --training-steps 36it --prun-int 1 --decay 50 --lr 0.05 --milestones none"
                           " --checkpoint-every 4it --log-every 4 --distributed --json";
  const Result a = run(mpirun(2) + bmc() + args + " --out " + root / "a");
  ASSERT_EQ(a.code, 0) << a.output;
  EXPECT_NE(a.output.find("bsq: epoch 1:"), std::string::npos) << "no precision adjustment ran: " << a.output;
  // The second run is killed after a checkpoint past the first adjustment (step 12), then rerun.
  const Launched job = launch(mpirun(2) + bmc() + args + " --out " + root / "b", root / "b.log");
  std::string dir;
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (dir.empty() && std::chrono::steady_clock::now() < until) {
    dir = wait_for_checkpoint(root / "b", 1);
    if (!dir.empty() && nlohmann::json::parse(bytes_of(dir + "/latest.json")).at("step").get<int>() < 12) dir.clear();
  }
  ASSERT_FALSE(dir.empty()) << bytes_of(job.log);
  for (pid_t p : ranks_of(job.pid)) ::kill(p, SIGKILL);
  wait_for(job.pid, 60);
  const Result b = run(mpirun(2) + bmc() + args + " --out " + root / "b");
  ASSERT_EQ(b.code, 0) << b.output;
  EXPECT_NE(b.output.find("continuing"), std::string::npos) << "the kill came after the end: " << b.output;
  for (const std::string file : {"/model_final.safetensors", "/model_final_bits.safetensors"})
    EXPECT_TRUE(bytes_of(run_dir(a) + file) == bytes_of(run_dir(b) + file)) << file;
}

// NCCL: one rank per GPU (NCCL refuses two ranks on one device), against one process on one GPU;
// the ResNet with synchronised batch norm (our kernels, NCCL-reduced sums). The tolerances are
// the CPU's: cuDNN's and our reductions differ from the CPU's, but both runs use them alike.
TEST_F(DataParallel, GpuTwoRanksOnTwoGpusTrainAsOneProcess) {
  BMC_REQUIRE_CUDA_DEVICE();
  if (cuda_device_count() < 2) GTEST_SKIP() << "needs two CUDA devices, found " << cuda_device_count();
  auto on_cuda = [](std::string args) { return args.replace(args.find("--device cpu"), 12, "--device cuda --deterministic"); };
  const std::string one = final_weights(bmc() + on_cuda(mnist("")), "one");
  const std::string two = final_weights(mpirun(2) + bmc() + on_cuda(mnist("")) + " --distributed", "two");
  ASSERT_FALSE(one.empty() || two.empty());
  EXPECT_LE(max_difference(one, two), kLenetTolerance);
  // The one-process reference normalises with cuDNN, the two ranks with our kernels.
  const std::string r1 = final_weights(bmc() + on_cuda(resnet("")), "r1");
  const std::string r2 = final_weights(mpirun(2) + bmc() + on_cuda(resnet("")) + " --distributed --sync-batch-norm", "r2");
  ASSERT_FALSE(r1.empty() || r2.empty());
  EXPECT_LE(max_difference(r1, r2), 1e-3);
}

}  // namespace
}  // namespace bmc
