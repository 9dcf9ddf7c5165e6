// Philox4x32-10 against Random123's published known-answer vectors, and the properties bmc's
// indexing relies on (position-only dependence, distinct streams).
#include <gtest/gtest.h>

#include "kernels/philox.cuh"

namespace bmc {
namespace {

void expect_block(PhiloxBlock got, uint32_t a, uint32_t b, uint32_t c, uint32_t d) {
  EXPECT_EQ(got.v[0], a);
  EXPECT_EQ(got.v[1], b);
  EXPECT_EQ(got.v[2], c);
  EXPECT_EQ(got.v[3], d);
}

TEST(Philox, Random123KnownAnswers) {
  expect_block(philox4x32_10({{0, 0, 0, 0}}, 0, 0), 0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8);
  expect_block(philox4x32_10({{0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff}}, 0xffffffff, 0xffffffff),
               0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd);
  expect_block(philox4x32_10({{0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344}}, 0xa4093822, 0x299f31d0),
               0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1);
}

TEST(Philox, ElementIndexingMatchesBlocks) {
  const PhiloxBlock block = philox_at(42, 5, 3, 7);
  for (int k = 0; k < 4; ++k) EXPECT_EQ(philox_u32(42, 5 * 4 + k, 3, 7), block.v[k]);
  EXPECT_NE(philox_u32(42, 0, 3, 7), philox_u32(42, 0, 4, 7));
  EXPECT_NE(philox_u32(42, 0, 3, 7), philox_u32(43, 0, 3, 7));
}

TEST(Philox, UnitFloatAndRangeBounds) {
  EXPECT_EQ(u32_to_unit_float(0), 0.0f);
  EXPECT_LT(u32_to_unit_float(0xffffffffu), 1.0f);
  EXPECT_EQ(u32_to_range(0xffffffffu, 10), 9u);
  EXPECT_EQ(u32_to_range(0, 10), 0u);
  double mean = 0;
  for (int i = 0; i < 10000; ++i) mean += u32_to_unit_float(philox_u32(1, i, 0, 0));
  EXPECT_NEAR(mean / 10000, 0.5, 0.01);
}

}  // namespace
}  // namespace bmc
