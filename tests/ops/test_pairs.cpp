// split_pairs and merge_pairs at every length up to past three vectors of pairs: the vector
// body, the pair tail and the odd last element.
#include <gtest/gtest.h>

#include <vector>

#include "ops/pairs.h"
#include "tests/support/isa_test.h"

namespace bmc {
namespace {

namespace isa = ops::BMC_ISA_NS;
class BMC_ISA_SUITE(Pairs) : public test::BMC_ISA_NS::IsaKernelTest<> {};

TEST_F(BMC_ISA_SUITE(Pairs), SplitAndMergeEveryLength) {
  for (int n = 0; n <= 53; ++n) {
    std::vector<float> row(static_cast<size_t>(n));
    for (int i = 0; i < n; ++i) row[static_cast<size_t>(i)] = static_cast<float>(100 + i);
    // One guard element past each output.
    std::vector<float> evens((n + 1) / 2 + 1, -1.0f), odds(n / 2 + 1, -1.0f);
    isa::split_pairs(evens.data(), odds.data(), row.data(), n);
    for (int m = 0; m < (n + 1) / 2; ++m) EXPECT_EQ(evens[static_cast<size_t>(m)], 100 + 2 * m) << "n " << n;
    for (int m = 0; m < n / 2; ++m) EXPECT_EQ(odds[static_cast<size_t>(m)], 101 + 2 * m) << "n " << n;
    EXPECT_EQ(evens.back(), -1.0f) << "n " << n;
    EXPECT_EQ(odds.back(), -1.0f) << "n " << n;

    std::vector<float> merged(static_cast<size_t>(n) + 1, -1.0f);
    isa::merge_pairs(merged.data(), evens.data(), odds.data(), n);
    for (int i = 0; i < n; ++i) EXPECT_EQ(merged[static_cast<size_t>(i)], 100 + i) << "n " << n;
    EXPECT_EQ(merged.back(), -1.0f) << "n " << n;
  }
}

}  // namespace
}  // namespace bmc
