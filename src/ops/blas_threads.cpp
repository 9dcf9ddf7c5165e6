#include "ops/blas_threads.h"

#include <cblas.h>

namespace bmc::ops {

BlasThreadLimit::BlasThreadLimit(int threads)
    : previous_(openblas_get_num_threads()), changed_(threads < previous_) {
  if (changed_) openblas_set_num_threads(threads);
}

BlasThreadLimit::~BlasThreadLimit() {
  if (changed_) openblas_set_num_threads(previous_);
}

}  // namespace bmc::ops
