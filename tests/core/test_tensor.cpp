#include <gtest/gtest.h>

#include <cstdlib>

#include "core/memory_pool.h"
#include "core/tensor.h"
#include "tests/support/warnings.h"

namespace bmc {
namespace {

TEST(Tensor, ShapeDtypeAndBytes) {
  Tensor t({2, 3, 4}, DType::I32);
  EXPECT_EQ(t.numel(), 24);
  EXPECT_EQ(t.nbytes(), 96u);
  EXPECT_EQ(t.dim(-1), 4);
  EXPECT_EQ(t.describe(), "i32 (2, 3, 4) on cpu");
  EXPECT_THROW(t.dim(3), Error);
  EXPECT_THROW(t.data<float>(), Error);
}

TEST(Tensor, CloneIsDeepViewIsShared) {
  Tensor a = Tensor::from_vector<float>({1, 2, 3, 4, 5, 6}, {2, 3});
  Tensor b = a.clone();
  Tensor v = a.view({3, 2});
  Tensor s = a.slice(2, {3});
  a.data<float>()[2] = 42;
  EXPECT_EQ(b.data<float>()[2], 3);
  EXPECT_EQ(v.data<float>()[2], 42);
  EXPECT_EQ(s.data<float>()[0], 42);
  EXPECT_TRUE(v.shares_storage_with(a));
  EXPECT_FALSE(b.shares_storage_with(a));
  EXPECT_THROW(a.view({4}), Error);
  EXPECT_THROW(a.slice(4, {3}), Error);
}

TEST(Tensor, ViewKeepsStorageAliveAfterOwnerIsGone) {
  Tensor v;
  {
    Tensor a = Tensor::from_vector<float>({7, 8}, {2});
    v = a.slice(1, {1});
  }
  EXPECT_EQ(v.to_vector<float>()[0], 8);
}

TEST(Tensor, CopyFromChecksTypeAndSize) {
  Tensor a = Tensor::zeros({4});
  Tensor b = Tensor::zeros({4}, DType::I32);
  Tensor c = Tensor::zeros({5});
  EXPECT_THROW(a.copy_from(b), Error);
  EXPECT_THROW(a.copy_from(c), Error);
  Tensor d = Tensor::full({2, 2}, 3.5f);
  a.copy_from(d);
  EXPECT_EQ(a.to_vector<float>(), std::vector<float>(4, 3.5f));
}

TEST(Tensor, CpuDeviceRoundTrip) {
  Tensor a = Tensor::from_vector<int8_t>({-1, 2, -3}, {3});
  Tensor b = a.to(Device::cpu());
  EXPECT_EQ(b.to_vector<int8_t>(), (std::vector<int8_t>{-1, 2, -3}));
}

TEST(MemoryPool, ReusesBlocksAndTracksPeak) {
  MemoryPool& pool = MemoryPool::get(Device::cpu());
  { Tensor warm({1000}); }
  const PoolStats before = pool.stats();
  for (int step = 0; step < 5; ++step) Tensor t({1000});
  const PoolStats after = pool.stats();
  EXPECT_EQ(after.raw_allocations, before.raw_allocations) << "steady-state allocations must hit the cache";
  EXPECT_EQ(after.live_bytes, before.live_bytes);
  EXPECT_GE(after.peak_bytes, 4000u);
}

class HeapAllocator final : public RawAllocator {
 public:
  void* allocate(size_t bytes) override { return std::aligned_alloc(64, bytes); }
  void release(void* ptr) noexcept override { std::free(ptr); }
};

// What a captured graph's replays write stays the graph's: reused within its capture (in stream
// order, as the eager step would), never handed to work outside it until the graph is gone.
TEST(MemoryPool, BlocksOfACaptureStayTheGraphsUntilItIsGone) {
  MemoryPool pool(std::make_unique<HeapAllocator>(), false);
  void* cached = pool.allocate(4096);
  pool.release(cached);
  pool.begin_graph_capture();
  void* a = pool.allocate(4096);
  EXPECT_EQ(a, cached) << "a cached block may serve the capture";
  pool.release(a);
  void* b = pool.allocate(4096);
  EXPECT_EQ(b, a) << "the capture reuses what it released";
  void* kept = pool.allocate(4096);
  pool.release(b);
  pool.end_graph_capture();
  EXPECT_EQ(pool.graph_bytes(), 2u * 4096);
  EXPECT_THROW(pool.begin_graph_capture(), Error) << "one graph at a time";
  void* outside = pool.allocate(4096);
  EXPECT_NE(outside, a);
  pool.release(kept);  // released after the capture: still the graph's
  void* outside2 = pool.allocate(4096);
  EXPECT_NE(outside2, a);
  EXPECT_NE(outside2, kept);
  pool.release_graph_blocks();
  EXPECT_EQ(pool.graph_bytes(), 0u);
  void* reused = pool.allocate(4096);
  EXPECT_TRUE(reused == a || reused == kept);
  for (void* p : {outside, outside2, reused}) pool.release(p);
  EXPECT_EQ(pool.stats().live_bytes, 0u);
}

TEST(MemoryPool, GuardBandCatchesOverrun) {
  test::ExpectWarnings expect;
  {
    Tensor t({3});
    static_cast<unsigned char*>(t.raw())[12] = 0;  // one byte past the end
  }
  EXPECT_EQ(expect.count(), 1);
}

TEST(Error, CarriesStatementAndLocation) {
  try {
    BMC_CHECK(1 + 1 == 3, "arithmetic: expected ", 3, ", got ", 2);
    FAIL() << "BMC_CHECK did not throw";
  } catch (const Error& e) {
    EXPECT_EQ(e.message(), "arithmetic: expected 3, got 2");
    EXPECT_EQ(e.statement(), "1 + 1 == 3");
    EXPECT_NE(e.location().find("test_tensor.cpp"), std::string::npos);
  }
}

TEST(Device, ParsesNames) {
  EXPECT_TRUE(parse_device("cpu").is_cpu());
  EXPECT_THROW(parse_device("tpu"), Error);
  EXPECT_THROW(parse_device("cuda:x"), Error);
  if (cuda_device_count() == 0) {
    EXPECT_TRUE(parse_device("auto").is_cpu());
    EXPECT_THROW(parse_device("cuda"), Error);
    EXPECT_FALSE(cuda_unavailable_reason().empty());
  }
}

}  // namespace
}  // namespace bmc
