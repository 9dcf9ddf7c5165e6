// Top-k accuracy core shared by the CPU loop (ops/loss.cpp) and the kernel (kernels/topk.cu).
#pragma once

#include <cstdint>

#include "kernels/compat.cuh"

namespace bmc {

// Whether `label` is among the top_k largest of row[0, k). Ties resolve in favour of the label:
// the row is correct when fewer than top_k logits are strictly greater than the label's logit.
// NaN rule (torch.topk ranks NaN largest): a NaN logit outranks the label; a NaN label logit
// makes the row incorrect. An out-of-range label makes the row incorrect.
BMC_HD bool topk_row_correct(const float* row, int64_t k, int32_t label, int top_k) {
  if (label < 0 || label >= k) return false;
  const float target = row[label];
  if (target != target) return false;
  int64_t outranking = 0;
  for (int64_t j = 0; j < k; ++j) outranking += (row[j] > target || row[j] != row[j]) ? 1 : 0;
  return outranking < top_k;
}

}  // namespace bmc
