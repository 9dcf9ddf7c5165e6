// Iterative magnitude pruning end to end on the synthetic problem: densities per level, masks only
// shrink, rewinding restarts from exactly step k's weights (masked), reset-to-init uses the
// initialisation, and random re-initialisation keeps the mask while the weights differ.
#include <gtest/gtest.h>

#include <filesystem>

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
 protected:
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

  std::vector<lottery::LevelRow> run(const std::string& name) {
    io::RunDir dir = io::RunDir::open(root_.string(), name, "0", {{"name", name}});
    train::TrainOptions options;
    options.log_every = 100;
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
  int64_t remaining = 64 * 16;
  for (const auto& row : rows) {
    EXPECT_EQ(row.prunable, 1024);
    EXPECT_EQ(row.remaining, remaining) << "level " << row.level;
    remaining -= compress::weights_to_prune(remaining, 0.2);
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

// A level must start from (rewound or initial weights) x mask: retraining from that state by
// hand reproduces the level's final weights bitwise.
void expect_level_started_from(const std::string& start_weights, const std::string& mask_file,
                               const std::string& level_final, int64_t start_step, const std::string& momentum_file,
                               const data::DataLoader& train, const data::DataLoader& test,
                               const train::TrainHparams& hp, const fs::path& scratch) {
  auto model = test::synthetic_model(99);
  train::load_weights(start_weights, *model);
  if (!momentum_file.empty()) model->momentum().copy_from(io::load_safetensors(momentum_file).at("momentum"));
  compress::load_mask(mask_file, *model);
  const io::RunDir dir = io::RunDir::open(scratch.string(), "manual", "0", {{"manual", true}});
  train::save_checkpoint(dir, *model, start_step);
  train::TrainOptions options;
  options.log_every = 100;
  train::Trainer(*model, train, test, hp, dir, options).run();
  EXPECT_EQ(io::read_file(dir.file("model_final.safetensors")), io::read_file(level_final));
}

TEST_F(LotteryTest, ResetToInitialisationStartsFromTheInitMasked) {
  run("reset");
  expect_level_started_from((root_ / "reset_0" / "model_init.safetensors").string(),
                            level_file("reset", 2, "mask.safetensors"), level_file("reset", 2, "model_final.safetensors"),
                            0, "", train_, test_, config_.train, root_ / "scratch_reset");
}

TEST_F(LotteryTest, RewindingRestoresExactlyStepKAndItsMomentum) {
  config_.rewinding = {3, false};
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
  expect_level_started_from((root_ / "rewind_0" / "rewind.safetensors").string(),
                            level_file("rewind", 1, "mask.safetensors"), level_file("rewind", 1, "model_final.safetensors"),
                            3, (root_ / "rewind_0" / "rewind_state.safetensors").string(), train_, test_,
                            config_.train, root_ / "scratch_rewind");
}

TEST_F(LotteryTest, RandomReinitKeepsTheMaskWhileWeightsDiffer) {
  run("lt");
  const std::string mask = level_file("lt", 2, "mask.safetensors");
  auto rr = test::synthetic_model(12345);  // another seed: random re-initialisation
  compress::load_mask(mask, *rr);
  const io::RunDir dir = io::RunDir::open(root_.string(), "rr", "0", {{"rr", true}});
  train::TrainOptions options;
  options.log_every = 100;
  train::Trainer(*rr, train_, test_, config_.train, dir, options).run();
  auto lt = test::synthetic_model(1);
  train::load_weights(level_file("lt", 2, "model_final.safetensors"), *lt);
  compress::load_mask(mask, *lt);
  EXPECT_TRUE(test::bitwise_equal(rr->masks(), lt->masks()));
  EXPECT_FALSE(test::bitwise_equal(rr->values(), lt->values()));
  const auto v = rr->parameter("1.weight").value.to_vector<float>();
  const auto k = rr->parameter("1.weight").mask.to_vector<float>();
  for (size_t i = 0; i < v.size(); ++i)
    if (k[i] == 0.0f) {
      ASSERT_EQ(v[i], 0.0f);
    }
}

}  // namespace
}  // namespace bmc
