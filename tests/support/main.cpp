// Test runner: GoogleTest plus bmc's harness rules.
// - Any logged bmc warning fails the running test (unless it declares ExpectWarnings).
// - GPU suites (*Gpu* in the suite or test name) are counted, and the run ends with
//   "GPU tests: ran N, skipped M" so skips are never silent.
// - Memory-pool guard bands are on, so out-of-bounds writes into pooled CPU blocks are caught.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "core/log.h"
#include "core/memory_pool.h"
#include "tests/support/gpu_env.h"
#include "tests/support/warnings.h"

namespace bmc::test {

bool gpu_required() {
  const char* v = std::getenv("BMC_REQUIRE_GPU");
  return v && std::string(v) == "1";
}

namespace {

int g_expected_warning_scopes = 0;

class GpuCountListener : public ::testing::EmptyTestEventListener {
 public:
  void OnTestEnd(const ::testing::TestInfo& info) override {
    const std::string name = std::string(info.test_suite_name()) + "." + info.name();
    if (name.find("Gpu") == std::string::npos) return;
    if (info.result()->Skipped())
      ++skipped_;
    else
      ++ran_;
  }
  void OnTestProgramEnd(const ::testing::UnitTest& unit) override {
    std::printf("GPU tests: ran %d, skipped %d%s\n", ran_, skipped_,
                ran_ == 0 && skipped_ > 0 ? " (no device)" : "");
    // The closing line CI tools read in any language: "N passed, N failed, N skipped".
    std::printf("tests: %d passed, %d failed, %d skipped\n", unit.successful_test_count(), unit.failed_test_count(),
                unit.skipped_test_count());
    std::fflush(stdout);
  }

 private:
  int ran_ = 0;
  int skipped_ = 0;
};

}  // namespace

ExpectWarnings::ExpectWarnings() : start_(warning_count()) { ++g_expected_warning_scopes; }
ExpectWarnings::~ExpectWarnings() { --g_expected_warning_scopes; }
long ExpectWarnings::count() const { return warning_count() - start_; }

}  // namespace bmc::test

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  bmc::MemoryPool::set_guards(true);
  bmc::set_warning_observer([](const std::string& message) {
    if (bmc::test::g_expected_warning_scopes == 0) ADD_FAILURE() << "unexpected bmc warning: " << message;
  });
  ::testing::UnitTest::GetInstance()->listeners().Append(new bmc::test::GpuCountListener);
  return RUN_ALL_TESTS();
}
