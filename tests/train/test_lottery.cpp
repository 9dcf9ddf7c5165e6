// Iterative magnitude pruning end to end on the synthetic problem, through LotteryRunner (the
// product's path): densities per level against counts worked out by hand, masks only shrink,
// rewinding restarts from exactly step k's weights, a level killed mid-way and rerun ends bitwise
// where an uninterrupted run does (masks included), and random re-initialisation trains under
// the mask file's zeros from weights other than the ticket's.
#include <gtest/gtest.h>

#include <filesystem>
#include <map>

#include "compress/lottery/lottery.h"
#include "io/atomic_file.h"
#include "io/safetensors.h"
#include "train/checkpoint.h"
#include "tests/support/compare.h"
#include "tests/train/synthetic.h"

namespace bmc {
namespace {

namespace fs = std::filesystem;

class LotteryTest : public ::testing::Test {
 public:
  LotteryTest()
      : train_data_(test::synthetic_dataset(200, 1)),
        test_data_(test::synthetic_dataset(64, 2)),
        train_(train_data_, Device::cpu(), test::synthetic_loader_options(true)),
        test_(test_data_, Device::cpu(), test::synthetic_loader_options(false)),
        root_(fs::temp_directory_path() / ("bmc_lottery_" + std::to_string(::getpid()))) {
    fs::remove_all(root_);
    config_.train.model = "test_mlp";
    config_.train.batch_size = 32;
    config_.train.lr = 0.05f;
    config_.train.momentum = 0.9f;
    config_.train.training_length = {2, true};
    config_.pruning.ignore = {"3.weight"};
    config_.levels = 3;
  }
  ~LotteryTest() override { fs::remove_all(root_); }

  std::vector<lottery::LevelRow> run(const std::string& name, int64_t stop_after_step = -1) {
    io::RunDir dir = io::RunDir::open(root_.string(), name, "0", {{"name", name}});
    train::TrainOptions options;
    options.log_every = 100;
    options.checkpoint_every = 3;
    options.stop_after_step = stop_after_step;
    lottery::LotteryRunner runner(config_, [] { return test::synthetic_model(7); }, train_, test_, dir, options);
    return runner.run();
  }

  std::string level_file(const std::string& name, int level, const std::string& file) const {
    return (root_ / (name + "_0") / ("level_" + std::to_string(level)) / file).string();
  }

  data::Dataset train_data_, test_data_;
  data::DataLoader train_, test_;
  fs::path root_;
  lottery::LotteryConfig config_;
};

TEST_F(LotteryTest, DensitiesFollowTheCountsAndMasksOnlyShrink) {
  const auto rows = run("lt");
  ASSERT_EQ(rows.size(), 4u);
  // 1024 weights in 1.weight; each level removes ceil(0.2 * remaining) (OpenLTH's np.ceil):
  // 1024 - 205 = 819, 819 - 164 = 655, 655 - 131 = 524.
  const int64_t expected[] = {1024, 819, 655, 524};
  for (const auto& row : rows) {
    EXPECT_EQ(row.prunable, 1024);
    EXPECT_EQ(row.remaining, expected[row.level]) << "level " << row.level;
    if (row.level == 0) continue;
    int64_t ones = 0;
    for (const uint8_t v : io::load_safetensors(level_file("lt", row.level, "mask.safetensors")).at("1.weight").to_vector<uint8_t>())
      ones += v;
    EXPECT_EQ(ones, expected[row.level]) << "mask file of level " << row.level;
  }
  for (int level = 2; level <= 3; ++level) {
    const Tensor& now = io::load_safetensors(level_file("lt", level, "mask.safetensors")).at("1.weight");
    const Tensor& before = io::load_safetensors(level_file("lt", level - 1, "mask.safetensors")).at("1.weight");
    for (int64_t i = 0; i < now.numel(); ++i)
      if (before.data<uint8_t>()[i] == 0) {
        ASSERT_EQ(now.data<uint8_t>()[i], 0) << "level " << level;
      }
  }
  EXPECT_FALSE(io::load_safetensors(level_file("lt", 1, "mask.safetensors")).contains("3.weight"));
  const auto again = run("lt");  // finished levels are reused, not retrained
  EXPECT_EQ(again.back().test_top1, rows.back().test_top1);
}

// Reads every tensor of a safetensors file as bytes, for bitwise comparisons of whole files'
// contents independent of metadata order.
std::map<std::string, std::vector<uint8_t>> tensors_of(const std::string& path) {
  std::map<std::string, std::vector<uint8_t>> out;
  for (const auto& [name, t] : io::load_safetensors(path).tensors) {
    const auto* b = static_cast<const uint8_t*>(t.raw());
    out[name].assign(b, b + t.nbytes());
  }
  return out;
}

// Level 1 killed at step 5 (after its checkpoint at step 3), then the same run again: the final
// weights, mask and density equal an uninterrupted run's, bitwise.
void expect_kill_and_rerun_matches(LotteryTest& t, const std::string& whole, const std::string& killed) {
  t.config_.levels = 1;
  const auto reference = t.run(whole);
  t.config_.levels = 0;
  t.run(killed);
  t.config_.levels = 1;
  const auto stopped = t.run(killed, /*stop_after_step=*/5);
  ASSERT_EQ(stopped.size(), 2u);
  EXPECT_FALSE(io::RunDir(t.level_file(killed, 1, "")).finished()) << "the killed level must not count as done";
  const auto resumed = t.run(killed);
  ASSERT_EQ(resumed.size(), 2u);
  EXPECT_EQ(resumed[1].remaining, reference[1].remaining);
  EXPECT_EQ(resumed[1].density, reference[1].density);
  EXPECT_EQ(resumed[1].test_top1, reference[1].test_top1);
  EXPECT_EQ(tensors_of(t.level_file(killed, 1, "model_final.safetensors")),
            tensors_of(t.level_file(whole, 1, "model_final.safetensors")));
  EXPECT_EQ(tensors_of(t.level_file(killed, 1, "mask.safetensors")), tensors_of(t.level_file(whole, 1, "mask.safetensors")));
  // The resumed level trained sparse: its pruned weights are exactly zero.
  const auto mask = io::load_safetensors(t.level_file(killed, 1, "mask.safetensors")).at("1.weight").to_vector<uint8_t>();
  const auto w = io::load_safetensors(t.level_file(killed, 1, "model_final.safetensors")).at("1.weight").to_vector<float>();
  int64_t zeros = 0;
  for (size_t i = 0; i < mask.size(); ++i)
    if (mask[i] == 0) {
      ASSERT_EQ(w[i], 0.0f) << i;
      ++zeros;
    }
  EXPECT_EQ(zeros, 205);
}

TEST_F(LotteryTest, KilledLevelResumesWithItsMaskBitwise) { expect_kill_and_rerun_matches(*this, "whole", "killed"); }

TEST_F(LotteryTest, KilledRewindingLevelResumesWithItsMaskBitwise) {
  config_.rewinding = {3, false};
  expect_kill_and_rerun_matches(*this, "rewind_whole", "rewind_killed");
}

TEST_F(LotteryTest, RewindingRestoresExactlyStepK) {
  config_.rewinding = {3, false};
  config_.levels = 1;
  run("rewind");
  // The saved step-3 weights equal those of a plain run stopped at step 3.
  const io::RunDir plain = io::RunDir::open(root_.string(), "plain", "0", {{"plain", true}});
  auto model = test::synthetic_model(7);
  train::TrainOptions options;
  options.log_every = 100;
  options.checkpoint_every = 3;
  options.stop_after_step = 3;
  train::Trainer(*model, train_, test_, config_.train, plain, options).run();
  const Tensor& rewound = io::load_safetensors((root_ / "rewind_0" / "rewind.safetensors").string()).at("1.weight");
  EXPECT_TRUE(test::bitwise_equal(rewound, io::load_safetensors(plain.file("checkpoint_3.safetensors")).at("1.weight")));
}

TEST_F(LotteryTest, LevelsStartFromTheInitialisationUnderTheMask) {
  // Killed after one step (no checkpoint since the start): level 1's checkpoint at step 0 is the
  // state it started from.
  config_.levels = 0;
  run("start");
  config_.levels = 1;
  run("start", /*stop_after_step=*/1);
  const auto init =
      io::load_safetensors((root_ / "start_0" / "model_init.safetensors").string()).at("1.weight").to_vector<float>();
  const auto start =
      io::load_safetensors(level_file("start", 1, "checkpoint_0.safetensors")).at("1.weight").to_vector<float>();
  const auto mask = io::load_safetensors(level_file("start", 1, "mask.safetensors")).at("1.weight").to_vector<uint8_t>();
  for (size_t i = 0; i < init.size(); ++i) ASSERT_EQ(start[i], mask[i] ? init[i] : 0.0f) << i;
}

TEST_F(LotteryTest, RandomReinitTrainsUnderTheMaskFromOtherWeights) {
  config_.levels = 2;
  run("lt");
  const std::string mask_file = level_file("lt", 2, "mask.safetensors");
  auto rr = test::synthetic_model(12345);  // another seed: random re-initialisation
  const auto ticket_init =
      io::load_safetensors((root_ / "lt_0" / "model_init.safetensors").string()).at("1.weight").to_vector<float>();
  const auto rr_init = rr->parameter("1.weight").value.to_vector<float>();
  int64_t differing = 0;
  for (size_t i = 0; i < ticket_init.size(); ++i) differing += rr_init[i] != ticket_init[i];
  EXPECT_GT(differing, 1000) << "a re-initialisation draws other weights";
  compress::load_mask(mask_file, *rr);
  const io::RunDir dir = io::RunDir::open(root_.string(), "rr", "0", {{"rr", true}});
  train::TrainOptions options;
  options.log_every = 100;
  train::Trainer(*rr, train_, test_, config_.train, dir, options).run();
  const auto file_mask = io::load_safetensors(mask_file).at("1.weight").to_vector<uint8_t>();
  const auto v = io::load_safetensors(dir.file("model_final.safetensors")).at("1.weight").to_vector<float>();
  int64_t zeros = 0, trained = 0;
  for (size_t i = 0; i < v.size(); ++i) {
    if (file_mask[i] == 0) {
      ASSERT_EQ(v[i], 0.0f) << i;
      ++zeros;
    } else {
      trained += v[i] != rr_init[i];
    }
  }
  EXPECT_EQ(zeros, 1024 - 655);
  EXPECT_GT(trained, 600) << "the kept weights were trained";
}

}  // namespace
}  // namespace bmc
