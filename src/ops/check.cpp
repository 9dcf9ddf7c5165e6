#include "ops/check.h"

namespace bmc::ops {

void check_defined(const char* op, const char* name, const Tensor& t) {
  BMC_CHECK(t.defined(), op, ": ", name, " is an undefined tensor");
}

void check_dtype(const char* op, const char* name, const Tensor& t, DType dtype) {
  check_defined(op, name, t);
  BMC_CHECK(t.dtype() == dtype, op, ": ", name, " must be ", dtype_name(dtype), ", got ", t.describe());
}

void check_rank(const char* op, const char* name, const Tensor& t, int rank) {
  check_defined(op, name, t);
  BMC_CHECK(t.rank() == rank, op, ": ", name, " must have rank ", rank, ", got ", t.describe());
}

void check_shape(const char* op, const char* name, const Tensor& t, const Shape& expected) {
  check_defined(op, name, t);
  BMC_CHECK(t.shape() == expected, op, ": ", name, " must have shape ", expected.str(), ", got ",
            t.describe());
}

void check_same_device(const char* op, std::initializer_list<const Tensor*> tensors) {
  const Tensor* first = nullptr;
  for (const Tensor* t : tensors) {
    if (!t || !t->defined()) continue;
    if (!first) {
      first = t;
      continue;
    }
    BMC_CHECK(t->device() == first->device(), op, ": tensors on different devices (",
              first->device().str(), " and ", t->device().str(), ")");
  }
}

void check_no_alias(const char* op, const Tensor& out, const Tensor& in) {
  BMC_CHECK(!out.defined() || !in.defined() || out.raw() != in.raw(), op,
            ": output aliases an input; this op is not in-place");
}

}  // namespace bmc::ops
