// Provenance: a new run directory records what made it; reopening it from another build or machine
// is recorded (not overwritten); the differences that make runs incomparable are named.
#include <gtest/gtest.h>

#include <filesystem>
#include <unistd.h>

#include "io/atomic_file.h"
#include "io/json_file.h"
#include "io/provenance.h"
#include "io/run_dir.h"

namespace bmc {
namespace {

namespace fs = std::filesystem;

TEST(Provenance, ARunDirectoryRecordsWhatMadeItAndLaterReopenings) {
  const fs::path root = fs::temp_directory_path() / ("bmc_provenance_" + std::to_string(::getpid()));
  fs::remove_all(root);
  const nlohmann::json hp = {{"x", 1}};
  std::string path;
  {
    const io::RunDir dir = io::RunDir::open(root.string(), "test", "h", hp);
    path = dir.file("provenance.json");
  }
  nlohmann::json p = io::read_json_file(path);
  for (const char* key : {"bmc_version", "git_commit", "git_dirty", "compiler", "build_flags", "blas", "cpu_model",
                          "cpu_isa", "kernel_isa", "gpus", "threads", "cudnn", "cublas"})
    EXPECT_TRUE(p.contains(key)) << key;
  EXPECT_GE(p.at("threads").get<int>(), 1);
  EXPECT_TRUE(io::provenance_differences(p, io::provenance()).empty());
  // The same build reopening it: nothing added.
  { const io::RunDir again = io::RunDir::open(root.string(), "test", "h", hp); }
  EXPECT_FALSE(io::read_json_file(path).contains("reopened_by"));
  // As if made elsewhere: the reopening is appended, the original kept.
  p["cpu_model"] = "Some Other CPU";
  io::write_file_atomic(path, p.dump());
  { const io::RunDir again = io::RunDir::open(root.string(), "test", "h", hp); }
  const nlohmann::json after = io::read_json_file(path);
  EXPECT_EQ(after.at("cpu_model"), "Some Other CPU");
  ASSERT_EQ(after.at("reopened_by").size(), 1u);
  EXPECT_EQ(after.at("reopened_by")[0].at("cpu_model"), io::provenance().at("cpu_model"));
  const auto diff = io::provenance_differences(p, io::provenance());
  ASSERT_EQ(diff.size(), 1u);
  EXPECT_EQ(diff[0].rfind("cpu_model", 0), 0u) << diff[0];
  EXPECT_NE(io::provenance_line(p).find("Some Other CPU"), std::string::npos);
  fs::remove_all(root);
}

}  // namespace
}  // namespace bmc
