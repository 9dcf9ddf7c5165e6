// The CUDA side of DataLoader::batch: upload the batch's index list, then one gather kernel on the
// device-resident dataset (no other host work per step).
#include <vector>

#include "core/cuda_context.h"
#include "core/tensor.h"
#include "kernels/augment.h"

namespace bmc::data {

void augment_batch_cuda(kernels::AugmentBatchArgs args, Device device, const std::vector<int64_t>& indices) {
  if (indices.empty()) return;
  // Pool memory is stream-ordered, so the index tensor may be released right after the launch.
  const Tensor device_indices =
      Tensor::from_vector<int64_t>(indices, {static_cast<int64_t>(indices.size())}, device);
  args.indices = device_indices.data<int64_t>();
  kernels::augment_batch(args, cuda::context(device).stream);
}

}  // namespace bmc::data
