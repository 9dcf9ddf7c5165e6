// The CUDA side of DataLoader::batch: one gather kernel on the device-resident dataset, reading the
// batch's indices from the epoch's order on the device (uploaded once per epoch), so a step makes
// no host-to-device copy.
#include <vector>

#include "core/cuda_context.h"
#include "core/tensor.h"
#include "kernels/augment.h"

namespace bmc::data {

void augment_batch_cuda(kernels::AugmentBatchArgs args, Device device) {
  if (args.batch == 0) return;
  kernels::augment_batch(args, cuda::context(device).stream);
}

}  // namespace bmc::data
