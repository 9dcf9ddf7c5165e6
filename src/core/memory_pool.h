// Per-device caching memory pool. Blocks are reused by size so a training step never calls the
// device allocator once shapes are stable; live and peak bytes are tracked per device so a test
// can assert that memory does not grow across steps. On the CPU, optional guard bands (a canary
// after each block, checked on release) catch out-of-bounds writes in tests. While a CUDA graph
// is captured, the blocks handed out become the graph's (see begin_graph_capture).
#pragma once

#include <cstddef>
#include <map>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <unordered_set>

#include "core/device.h"

namespace bmc {

// The device's raw allocator behind the cache (malloc or cudaMalloc).
class RawAllocator {
 public:
  virtual ~RawAllocator() = default;
  virtual void* allocate(size_t bytes) = 0;
  virtual void release(void* ptr) noexcept = 0;
};

struct PoolStats {
  size_t live_bytes = 0;    // handed out and not yet returned
  size_t peak_bytes = 0;    // maximum of live_bytes since the last reset_peak()
  size_t cached_bytes = 0;  // held by the cache, ready for reuse
  size_t raw_allocations = 0;  // calls into the raw allocator (cache misses)
};

class MemoryPool {
 public:
  explicit MemoryPool(std::unique_ptr<RawAllocator> raw, bool cpu);
  ~MemoryPool();
  MemoryPool(const MemoryPool&) = delete;
  MemoryPool& operator=(const MemoryPool&) = delete;

  static MemoryPool& get(Device device);

  void* allocate(size_t bytes);
  void release(void* ptr);

  PoolStats stats() const;
  void reset_peak();
  // Returns every cached block to the raw allocator.
  void empty_cache();

  // Guard bands (CPU pools only): a canary after every block, verified on release.
  static void set_guards(bool enabled);

  // A captured graph's replays write every block handed out during its capture, so those blocks
  // are the graph's: released, they are kept aside (reused only by the same capture, in stream
  // order as the eager step would) until release_graph_blocks(), after the graph is destroyed.
  // One graph at a time.
  void begin_graph_capture();
  void end_graph_capture();
  void release_graph_blocks();
  size_t graph_bytes() const;  // held for the graph, live or kept aside

 private:
  struct Live {
    size_t requested;
    size_t capacity;
  };

  std::unique_ptr<RawAllocator> raw_;
  bool cpu_;
  mutable std::mutex mutex_;
  std::multimap<size_t, void*> cache_;      // capacity -> block
  std::unordered_map<void*, Live> live_;
  bool capturing_ = false;
  std::unordered_map<void*, size_t> graph_blocks_;  // block -> capacity
  std::multimap<size_t, void*> graph_free_;         // the graph's released blocks
  PoolStats stats_;
};

}  // namespace bmc
