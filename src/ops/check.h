// Validation helpers for op entry points. Every op validates once at its API boundary with
// messages that name the op, the argument, what was expected and what was received; after
// that, the backends assume valid input.
#pragma once

#include <initializer_list>
#include <string>

#include "core/tensor.h"

namespace bmc::ops {

void check_defined(const char* op, const char* name, const Tensor& t);
void check_dtype(const char* op, const char* name, const Tensor& t, DType dtype);
void check_rank(const char* op, const char* name, const Tensor& t, int rank);
void check_shape(const char* op, const char* name, const Tensor& t, const Shape& expected);
// All tensors must be on the device of the first one.
void check_same_device(const char* op, std::initializer_list<const Tensor*> tensors);
// Output must not share storage with an input (ops are not in-place unless documented).
void check_no_alias(const char* op, const Tensor& out, const Tensor& in);

}  // namespace bmc::ops

// Dispatch to the CUDA implementation; in a CPU-only build no CUDA tensor can exist, so reaching
// this is a clear error rather than a link failure.
#if BMC_HAS_CUDA
#define BMC_DISPATCH_CUDA(call) call
#else
#define BMC_DISPATCH_CUDA(call) BMC_FAIL("CUDA backend unavailable: ", ::bmc::cuda_unavailable_reason())
#endif
