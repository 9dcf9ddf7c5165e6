#include "core/memory_pool.h"

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "core/error.h"
#include "core/log.h"

namespace bmc {

#if BMC_HAS_CUDA
std::unique_ptr<RawAllocator> make_cuda_allocator(int device);  // memory_pool_cuda.cpp
#endif

namespace {

constexpr size_t kAlignment = 64;   // cache line; also satisfies every vector load we use
constexpr size_t kGuardBytes = 64;
constexpr unsigned char kCanary = 0xB7;
std::atomic<bool> g_guards{false};

class CpuAllocator final : public RawAllocator {
 public:
  void* allocate(size_t bytes) override {
    void* ptr = std::aligned_alloc(kAlignment, bytes);
    BMC_CHECK(ptr != nullptr, "out of host memory allocating ", bytes, " bytes");
    return ptr;
  }
  void release(void* ptr) noexcept override { std::free(ptr); }
};

// A block of `cache` no more than twice the size needed, taken out of it; nullptr if none.
void* take_block(std::multimap<size_t, void*>& cache, size_t needed, size_t& capacity) {
  auto it = cache.lower_bound(needed);
  if (it == cache.end() || it->first > 2 * needed) return nullptr;
  capacity = it->first;
  void* ptr = it->second;
  cache.erase(it);
  return ptr;
}

size_t round_capacity(size_t bytes) {
  // Small blocks round to the alignment, large ones to 1 MiB so similar sizes share blocks.
  const size_t unit = bytes >= (size_t{1} << 20) ? (size_t{1} << 20) : kAlignment;
  return (bytes + unit - 1) / unit * unit;
}

}  // namespace

MemoryPool::MemoryPool(std::unique_ptr<RawAllocator> raw, bool cpu) : raw_(std::move(raw)), cpu_(cpu) {}

MemoryPool::~MemoryPool() {
  release_graph_blocks();
  empty_cache();
}

MemoryPool& MemoryPool::get(Device device) {
  static MemoryPool cpu_pool(std::make_unique<CpuAllocator>(), true);
  if (device.is_cpu()) return cpu_pool;
#if BMC_HAS_CUDA
  static std::mutex mutex;
  static std::map<int, std::unique_ptr<MemoryPool>> pools;
  std::lock_guard<std::mutex> lock(mutex);
  auto& pool = pools[device.index];
  if (!pool) pool = std::make_unique<MemoryPool>(make_cuda_allocator(device.index), false);
  return *pool;
#else
  BMC_FAIL("device ", device.str(), " is unavailable: ", cuda_unavailable_reason());
#endif
}

void MemoryPool::set_guards(bool enabled) { g_guards = enabled; }

void* MemoryPool::allocate(size_t bytes) {
  const bool guard = cpu_ && g_guards.load();
  const size_t needed = round_capacity((bytes == 0 ? 1 : bytes) + (guard ? kGuardBytes : 0));
  std::lock_guard<std::mutex> lock(mutex_);
  size_t capacity = 0;
  void* ptr = capturing_ ? take_block(graph_free_, needed, capacity) : nullptr;
  if (ptr) {
    stats_.cached_bytes -= capacity;
  } else if ((ptr = take_block(cache_, needed, capacity))) {
    stats_.cached_bytes -= capacity;
  } else {
    capacity = needed;
    try {
      ptr = raw_->allocate(capacity);
    } catch (const Error&) {
      // Out of memory: give the cache back and try once more before failing.
      for (auto& [cap, block] : cache_) raw_->release(block);
      cache_.clear();
      stats_.cached_bytes = 0;
      ptr = raw_->allocate(capacity);
    }
    ++stats_.raw_allocations;
  }
  if (guard) std::memset(static_cast<unsigned char*>(ptr) + bytes, kCanary, capacity - bytes);
  if (capturing_) graph_blocks_.emplace(ptr, capacity);
  live_[ptr] = {guard ? bytes : capacity, capacity};
  stats_.live_bytes += capacity;
  if (stats_.live_bytes > stats_.peak_bytes) stats_.peak_bytes = stats_.live_bytes;
  return ptr;
}

void MemoryPool::release(void* ptr) {
  if (!ptr) return;
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = live_.find(ptr);
  if (it == live_.end()) {
    log_warning("memory pool: release of a pointer it does not own");
    return;
  }
  const Live block = it->second;
  live_.erase(it);
  if (block.requested < block.capacity) {
    const auto* bytes = static_cast<const unsigned char*>(ptr);
    for (size_t i = block.requested; i < block.capacity; ++i) {
      if (bytes[i] != kCanary) {
        log_warning(detail::concat("memory pool: guard band overwritten ", i - block.requested,
                                   " bytes past the end of a ", block.requested, "-byte block"));
        break;
      }
    }
  }
  stats_.live_bytes -= block.capacity;
  stats_.cached_bytes += block.capacity;
  (graph_blocks_.count(ptr) ? graph_free_ : cache_).emplace(block.capacity, ptr);
}

void MemoryPool::begin_graph_capture() {
  std::lock_guard<std::mutex> lock(mutex_);
  BMC_CHECK(!capturing_ && graph_blocks_.empty(), "memory pool: one captured graph at a time");
  capturing_ = true;
}

void MemoryPool::end_graph_capture() {
  std::lock_guard<std::mutex> lock(mutex_);
  capturing_ = false;
}

void MemoryPool::release_graph_blocks() {
  std::lock_guard<std::mutex> lock(mutex_);
  capturing_ = false;
  cache_.insert(graph_free_.begin(), graph_free_.end());
  graph_free_.clear();
  graph_blocks_.clear();  // those still live return to the cache when released
}

size_t MemoryPool::graph_bytes() const {
  std::lock_guard<std::mutex> lock(mutex_);
  size_t bytes = 0;
  for (const auto& [ptr, capacity] : graph_blocks_) bytes += capacity;
  return bytes;
}

PoolStats MemoryPool::stats() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return stats_;
}

void MemoryPool::reset_peak() {
  std::lock_guard<std::mutex> lock(mutex_);
  stats_.peak_bytes = stats_.live_bytes;
}

void MemoryPool::empty_cache() {
  std::lock_guard<std::mutex> lock(mutex_);
  for (auto& [capacity, ptr] : cache_) raw_->release(ptr);
  cache_.clear();
  stats_.cached_bytes = 0;
}

}  // namespace bmc
