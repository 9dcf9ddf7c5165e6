// Magnitude pruning on CUDA: radix selection and mask update with our kernels (kernels/prune.cu).
#include "compress/prune/magnitude_cuda.h"
#include "core/cuda_context.h"
#include "kernels/prune.h"

namespace bmc::compress {

PruneKey find_prune_threshold_cuda(const std::vector<PruneSegment>& segments, int64_t rank) {
  const Device device = segments.front().weights.device();
  auto& ctx = cuda::context(device);
  Tensor counts = Tensor::zeros({kPruneBins}, DType::I32, device);
  // Selection state on the device: the key prefix (2 x u32) and the remaining rank (i64).
  Tensor prefix = Tensor::zeros({2}, DType::I32, device);
  Tensor state = Tensor::from_vector<int64_t>({rank, 0}, {2}, device);  // rank, then the candidate total
  auto* c = reinterpret_cast<uint32_t*>(counts.raw());
  auto* p = reinterpret_cast<PruneKey*>(prefix.raw());
  for (int pass = 0; pass < kPrunePasses; ++pass) {
    for (const PruneSegment& s : segments)
      kernels::prune_histogram(c, s.weights.data<float>(), s.mask.data<float>(), s.weights.numel(),
                               static_cast<uint32_t>(s.base_index), pass, p, ctx.stream);
    kernels::prune_select_bin(c, p, state.data<int64_t>(), pass, ctx.stream);
  }
  const std::vector<int64_t> checked = state.to_vector<int64_t>();
  BMC_CHECK(rank < checked[1], "pruning: cannot select the ", rank + 1, "-th smallest of ", checked[1],
            " unpruned weights");
  const std::vector<int32_t> key = prefix.to_vector<int32_t>();
  return PruneKey{static_cast<uint32_t>(key[0]), static_cast<uint32_t>(key[1])};
}

void prune_apply_cuda(std::vector<PruneSegment>& segments, PruneKey threshold) {
  auto& ctx = cuda::context(segments.front().weights.device());
  for (PruneSegment& s : segments)
    kernels::prune_apply(s.mask.data<float>(), s.weights.data<float>(), s.weights.numel(),
                         static_cast<uint32_t>(s.base_index), threshold, ctx.stream);
}

}  // namespace bmc::compress
