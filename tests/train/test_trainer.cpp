// The training loop on a small synthetic problem: bit-identical reruns, kill-and-resume equal to
// an uninterrupted run, finished runs reused, metrics truncated on resume, best checkpoints.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/file.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>

#include "io/atomic_file.h"
#include "io/run_dir.h"
#include "io/safetensors.h"
#include "core/step_graph.h"
#include "tests/train/synthetic.h"
#include "train/checkpoint.h"
#include "train/diverged.h"
#include "train/trainer.h"

namespace bmc {
namespace {

namespace fs = std::filesystem;

class TrainerTest : public ::testing::Test {
 protected:
  TrainerTest()
      : train_data_(test::synthetic_dataset(200, 1)),
        test_data_(test::synthetic_dataset(64, 2)),
        train_(train_data_, Device::cpu(), loader_options(true)),
        test_(test_data_, Device::cpu(), loader_options(false)) {
    hp_.model = "test_mlp";
    hp_.batch_size = 32;
    hp_.lr = 0.05f;
    hp_.momentum = 0.9f;
    hp_.weight_decay = 1e-4f;
    hp_.milestones = {{2, true}};
    hp_.training_length = {3, true};
    root_ = fs::temp_directory_path() / ("bmc_trainer_" + std::to_string(::getpid()));
    fs::remove_all(root_);
  }
  ~TrainerTest() override { fs::remove_all(root_); }

  static data::LoaderOptions loader_options(bool training) { return test::synthetic_loader_options(training); }

  io::RunDir run_dir(const std::string& name) const {
    return io::RunDir::open(root_.string(), name, hp_.hash(), hp_.to_json());
  }

  train::TrainResult train_in(const io::RunDir& dir, int64_t stop_after = -1, uint64_t seed = 3,
                              int64_t profile_steps = 0) {
    auto model = test::synthetic_model(seed);
    train::TrainOptions options;
    options.log_every = 4;
    options.checkpoint_every = 5;
    options.stop_after_step = stop_after;
    options.profile_steps = profile_steps;
    options.capture_step = capture_;
    train::Trainer trainer(*model, train_, test_, hp_, dir, options);
    return trainer.run();
  }

  data::Dataset train_data_, test_data_;
  data::DataLoader train_, test_;
  train::TrainHparams hp_;
  fs::path root_;
  bool capture_ = false;
};

TEST_F(TrainerTest, DivergenceStopsKeepingOnlyFiniteCheckpoints) {
  hp_.lr = 1e6f;
  const io::RunDir dir = run_dir("diverge");
  EXPECT_THROW(train_in(dir), train::DivergedError);
  auto finite = [](const std::string& path) {
    for (const auto& [name, t] : io::load_safetensors(path).tensors)
      if (t.dtype() == DType::F32)
        for (const float v : t.to_vector<float>())
          if (!std::isfinite(v)) return false;
    return true;
  };
  if (const auto step = train::latest_checkpoint_step(dir)) {
    EXPECT_TRUE(finite(dir.file("checkpoint_" + std::to_string(*step) + ".safetensors")));
  }
  if (dir.exists("model_best.safetensors")) {
    EXPECT_TRUE(finite(dir.file("model_best.safetensors")));
  }
  EXPECT_FALSE(dir.exists("model_final.safetensors"));
  EXPECT_FALSE(dir.finished());
}

TEST_F(TrainerTest, DurationsAndOutputFoldersAreChecked) {
  EXPECT_THROW(train::Duration::parse("99999999999999999999it"), Error);
  EXPECT_EQ(train::Duration::parse("999999999999999999it").value, 999999999999999999);
  EXPECT_THROW((train::Duration{INT64_MAX / 2, true}.steps(469)), Error);
  EXPECT_EQ((train::Duration{3, true}.steps(469)), 1407);
  EXPECT_THROW(io::RunDir::open("", "train", "0", {}), Error);
  const std::string file = (root_ / "a_file").string();
  fs::create_directories(root_);
  io::write_file_atomic(file, "x");
  EXPECT_THROW(io::RunDir::open(file, "train", "0", {}), Error);
}

TEST_F(TrainerTest, LearnsAndRerunsBitIdentically) {
  const io::RunDir a = run_dir("a"), b = run_dir("b");
  const train::TrainResult ra = train_in(a);
  train_in(b);
  EXPECT_TRUE(ra.finished);
  EXPECT_GT(ra.test.top1, 0.9) << "the synthetic problem is easy";
  EXPECT_EQ(io::read_file(a.file("model_final.safetensors")), io::read_file(b.file("model_final.safetensors")));
  EXPECT_TRUE(a.exists("model_best.safetensors"));
  EXPECT_EQ(train::latest_checkpoint_step(a), 21) << "7 steps per epoch x 3 epochs";
}

// --profile: the first steps' ranges as a table in the run directory; the weights are those of an
// unprofiled run (profiling only times).
TEST_F(TrainerTest, AProfiledRunTablesItsLayersAndTrainsTheSameWeights) {
  const io::RunDir a = run_dir("plain"), b = run_dir("profiled");
  train_in(a);
  train_in(b, -1, 3, 3);
  ASSERT_TRUE(b.exists("profile.txt"));
  const std::string table = io::read_file(b.file("profile.txt"));
  for (const char* row : {"Linear forward", "Linear backward", "optimizer step", "data", "softmax cross-entropy", "total"})
    EXPECT_NE(table.find(row), std::string::npos) << row << " missing from\n" << table;
  EXPECT_FALSE(a.exists("profile.txt"));
  EXPECT_EQ(io::read_file(a.file("model_final.safetensors")), io::read_file(b.file("model_final.safetensors")));
}

// The step as one captured graph, emulated on the CPU (capture keeps the work, a replay runs it on
// the fixed batch and learning-rate tensors): the same weights as op-by-op steps, bit for bit,
// killed and resumed included. The first step of each invocation runs op by op, and so does each
// epoch's short last batch (200 = 6 x 32 + 8), which has another shape.
TEST_F(TrainerTest, ReplayedCapturedStepsTrainTheSameWeights) {
  const io::RunDir plain = run_dir("plain"), replayed = run_dir("replayed");
  train_in(plain);
  StepGraph::set_cpu_emulation(true);
  capture_ = true;
  const train::TrainResult first = train_in(replayed, 9);
  const train::TrainResult second = train_in(replayed);
  StepGraph::set_cpu_emulation(false);
  EXPECT_EQ(first.graph_replays, 9 - 1 - 1);
  EXPECT_EQ(second.graph_replays, 21 - 7 - 1 - 2);  // resumed at 7: steps 8..21
  EXPECT_EQ(io::read_file(plain.file("model_final.safetensors")),
            io::read_file(replayed.file("model_final.safetensors")));
  // The logged losses (summed on the device inside the step) and accuracies too.
  auto logged = [](const io::RunDir& d) {
    std::map<int64_t, std::pair<double, double>> out;
    std::istringstream in(io::read_file(d.file("metrics.jsonl")));
    for (std::string line; std::getline(in, line);) {
      const auto row = nlohmann::json::parse(line);
      if (row.contains("loss")) out[row["step"].get<int64_t>()] = {row["loss"], row["accuracy"]};
    }
    return out;
  };
  EXPECT_EQ(logged(replayed), logged(plain));
  EXPECT_EQ(logged(plain).size(), 6u);
}

TEST_F(TrainerTest, KilledAndResumedEqualsUninterrupted) {
  const io::RunDir whole = run_dir("whole"), killed = run_dir("killed");
  train_in(whole);
  const train::TrainResult first = train_in(killed, 8);  // checkpoints at 5 and 7 (epoch end); stop at 8
  EXPECT_FALSE(first.finished);
  EXPECT_EQ(train::latest_checkpoint_step(killed), 7);
  const train::TrainResult resumed = train_in(killed, -1, 99);  // a different init: the checkpoint must win
  EXPECT_TRUE(resumed.finished);
  EXPECT_EQ(io::read_file(whole.file("model_final.safetensors")),
            io::read_file(killed.file("model_final.safetensors")));
  // Metrics rows after the resumed checkpoint were dropped, not duplicated.
  std::istringstream rows(io::read_file(killed.file("metrics.jsonl")));
  std::set<std::pair<int64_t, bool>> seen;
  for (std::string line; std::getline(rows, line);) {
    const auto row = nlohmann::json::parse(line);
    EXPECT_TRUE(seen.insert({row["step"].get<int64_t>(), row.contains("test_top1")}).second) << line;
  }
  // The loss rows equal the uninterrupted run's, including the first after the resume at step 7
  // (logged at 8, averaging steps 5..8 in both runs).
  auto losses = [](const io::RunDir& d) {
    std::map<int64_t, double> out;
    std::istringstream in(io::read_file(d.file("metrics.jsonl")));
    for (std::string line; std::getline(in, line);) {
      const auto row = nlohmann::json::parse(line);
      if (row.contains("loss")) out[row["step"].get<int64_t>()] = row["loss"].get<double>();
    }
    return out;
  };
  const auto want = losses(whole), got = losses(killed);
  ASSERT_TRUE(want.count(8));
  EXPECT_EQ(got, want);
}

TEST_F(TrainerTest, RunDirRefusesOtherHparamsUnderTheSameName) {
  const io::RunDir dir = run_dir("x");
  nlohmann::json other = hp_.to_json();
  other["lr"] = 1.0;
  EXPECT_THROW(io::RunDir::open(root_.string(), "x", hp_.hash(), other), Error);
}

// Torn or hand-edited run files are bad input naming the file, not a JSON library exception.
TEST_F(TrainerTest, TornRunFilesAreOneClearError) {
  const io::RunDir dir = run_dir("torn");
  train_in(dir, 6);
  ASSERT_TRUE(dir.exists("latest.json"));
  io::write_file_atomic(dir.file("latest.json"), "{\"step\": 1");
  try {
    train_in(dir);
    FAIL() << "a torn latest.json was accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("latest.json is not valid JSON"), std::string::npos) << e.what();
  }
  io::write_file_atomic(dir.file("latest.json"), "{\"step\": \"six\"}");
  EXPECT_THROW(train::latest_checkpoint_step(dir), Error);
  io::write_file_atomic(dir.file("summary.json"), "[1, 2");
  EXPECT_THROW(dir.read_summary(), Error);
  EXPECT_FALSE(dir.finished());
  io::write_file_atomic(dir.file("hparams.json"), "{");
  EXPECT_THROW(run_dir("torn"), Error);
}

// A run directory another process holds is refused (this test holds the flock through its own
// file description, as a second process would); stale temporary files of dead writers go.
TEST_F(TrainerTest, RunDirIsLockedAndStaleTempFilesAreRemoved) {
  const fs::path dir = root_ / ("locked_" + hp_.hash());
  fs::create_directories(dir);
  const int fd = ::open((dir / ".lock").c_str(), O_RDWR | O_CREAT, 0644);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::flock(fd, LOCK_EX | LOCK_NB), 0);
  ASSERT_EQ(::write(fd, "4242", 4), 4);
  try {
    run_dir("locked");
    FAIL() << "a locked run directory was opened";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("another bmc process (pid 4242) is running in"), std::string::npos) << e.what();
  }
  ::close(fd);
  io::write_file_atomic((dir / "metrics.jsonl.tmp.99999").string(), "torn");
  io::write_file_atomic((dir / "notes.tmp.txt").string(), "kept");
  const io::RunDir opened = run_dir("locked");
  EXPECT_FALSE(fs::exists(dir / "metrics.jsonl.tmp.99999"));
  EXPECT_TRUE(fs::exists(dir / "notes.tmp.txt"));
  const io::RunDir again = run_dir("locked");  // this process shares its own lock
  EXPECT_EQ(again.path(), opened.path());
}

TEST(Hparams, DurationsParseAndHashTracksResults) {
  EXPECT_EQ(train::Duration::parse("40ep").steps(469), 18760);
  EXPECT_EQ(train::Duration::parse("2000it").steps(469), 2000);
  EXPECT_THROW(train::Duration::parse("40"), Error);
  EXPECT_THROW(train::Duration::parse("x1ep"), Error);
  EXPECT_EQ(train::parse_durations("80ep,120ep").size(), 2u);
  train::TrainHparams a, b;
  a.model = b.model = "m";
  EXPECT_EQ(a.hash(), b.hash());
  b.lr = 0.2f;
  EXPECT_NE(a.hash(), b.hash());
}

}  // namespace
}  // namespace bmc
