// Profile ranges: nested ranges are timed as self time (the outer range less the inner), calls
// are counted per name, and nothing is recorded outside a profile.
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "core/profile.h"

namespace bmc {
namespace {

void busy(double ms) {
  const auto until = std::chrono::steady_clock::now() + std::chrono::duration<double, std::milli>(ms);
  while (std::chrono::steady_clock::now() < until) {
  }
}

const profile::Row* find(const std::vector<profile::Row>& rows, const std::string& name) {
  for (const profile::Row& r : rows)
    if (r.name == name) return &r;
  return nullptr;
}

TEST(Profile, NestedRangesGiveSelfTimesAndCountCalls) {
  { const profile::Range ignored("before the profile", Device::cpu()); }
  profile::start();
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < 2; ++i) {
    const profile::Range outer("outer", Device::cpu());
    busy(6);
    const profile::Range inner("inner", Device::cpu());
    busy(3);
  }
  const double wall = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  const std::vector<profile::Row> rows = profile::finish();
  EXPECT_FALSE(profile::active());
  ASSERT_EQ(rows.size(), 2u) << "only the profiled ranges";
  const profile::Row* outer = find(rows, "outer");
  const profile::Row* inner = find(rows, "inner");
  ASSERT_TRUE(outer && inner);
  EXPECT_EQ(outer->calls, 2);
  EXPECT_EQ(inner->calls, 2);
  EXPECT_GE(inner->ms, 6.0);
  EXPECT_GE(outer->ms, 12.0);
  EXPECT_LE(outer->ms + inner->ms, wall + 0.5) << "self times add up to the time spent, not more";
  EXPECT_EQ(rows.front().name, "outer") << "sorted by time";
  const std::string table = profile::table(rows, 2);
  EXPECT_NE(table.find("outer"), std::string::npos);
  EXPECT_NE(table.find("total"), std::string::npos);
}

}  // namespace
}  // namespace bmc
