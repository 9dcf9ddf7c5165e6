#include "core/tensor.h"

#include <cstring>

#include "core/memory_pool.h"

namespace bmc {

#if BMC_HAS_CUDA
void cuda_copy_bytes(void* dst, Device dst_device, const void* src, Device src_device, size_t bytes);
void cuda_zero_bytes(void* dst, Device device, size_t bytes);
#endif

// Storage: one block from a device pool, returned on destruction.
class Storage {
 public:
  Storage(size_t bytes, Device device) : device_(device) {
    ptr_ = MemoryPool::get(device).allocate(bytes);
  }
  ~Storage() { MemoryPool::get(device_).release(ptr_); }
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;
  void* ptr() const { return ptr_; }

 private:
  void* ptr_ = nullptr;
  Device device_;
};

Tensor::Tensor(const Shape& shape, DType dtype, Device device)
    : storage_(std::make_shared<Storage>(shape.numel() * dtype_size(dtype), device)),
      shape_(shape),
      dtype_(dtype),
      device_(device) {}

Tensor Tensor::zeros(const Shape& shape, DType dtype, Device device) {
  Tensor t(shape, dtype, device);
  t.fill_zero();
  return t;
}

Tensor Tensor::full(const Shape& shape, float value, Device device) {
  Tensor t(shape, DType::F32, Device::cpu());
  t.fill(value);
  return device.is_cpu() ? std::move(t) : t.to(device);
}

int64_t Tensor::dim(int i) const {
  const int r = shape_.rank();
  BMC_CHECK(i >= -r && i < r, "dimension ", i, " out of range for a rank-", r, " tensor");
  return shape_[i < 0 ? i + r : i];
}

std::string Tensor::describe() const {
  if (!defined()) return "undefined tensor";
  return detail::concat(dtype_name(dtype_), " ", shape_.str(), " on ", device_.str());
}

void* Tensor::raw() {
  BMC_CHECK(defined(), "access to an undefined tensor");
  return static_cast<char*>(storage_->ptr()) + offset_bytes_;
}

const void* Tensor::raw() const {
  BMC_CHECK(defined(), "access to an undefined tensor");
  return static_cast<const char*>(storage_->ptr()) + offset_bytes_;
}

Tensor Tensor::clone() const { return to(device_); }

Tensor Tensor::to(Device device) const {
  Tensor out(shape_, dtype_, device);
  out.copy_from(*this);
  return out;
}

void Tensor::copy_from(const Tensor& src) {
  BMC_CHECK(src.dtype_ == dtype_ && src.numel() == numel(), "copy_from: cannot copy ",
            src.describe(), " into ", describe());
  if (numel() == 0 || raw() == src.raw()) return;
  copy_bytes(raw(), device_, src.raw(), src.device_, nbytes());
}

Tensor Tensor::view(const Shape& shape) const {
  BMC_CHECK(shape.numel() == numel(), "view: cannot view ", describe(), " as ", shape.str());
  return slice(0, shape);
}

Tensor Tensor::slice(int64_t offset, const Shape& shape) const {
  BMC_CHECK(defined(), "slice of an undefined tensor");
  BMC_CHECK(offset >= 0 && offset + shape.numel() <= numel(), "slice: elements [", offset, ", ",
            offset + shape.numel(), ") out of range for ", describe());
  Tensor t;
  t.storage_ = storage_;
  t.offset_bytes_ = offset_bytes_ + static_cast<size_t>(offset) * dtype_size(dtype_);
  t.shape_ = shape;
  t.dtype_ = dtype_;
  t.device_ = device_;
  return t;
}

void Tensor::fill_zero() {
  if (numel() > 0) zero_bytes(raw(), device_, nbytes());
}

void Tensor::fill(float value) {
  BMC_CHECK(dtype_ == DType::F32, "fill: expected an f32 tensor, got ", describe());
  if (device_.is_cpu()) {
    float* p = data<float>();
    for (int64_t i = 0; i < numel(); ++i) p[i] = value;
    return;
  }
  copy_from(Tensor::full(shape_, value, Device::cpu()));
}

void copy_bytes(void* dst, Device dst_device, const void* src, Device src_device, size_t bytes) {
  if (bytes == 0) return;
  if (dst_device.is_cpu() && src_device.is_cpu()) {
    std::memcpy(dst, src, bytes);
    return;
  }
#if BMC_HAS_CUDA
  cuda_copy_bytes(dst, dst_device, src, src_device, bytes);
#else
  BMC_FAIL("copy between ", src_device.str(), " and ", dst_device.str(), ": ", cuda_unavailable_reason());
#endif
}

void zero_bytes(void* dst, Device device, size_t bytes) {
  if (device.is_cpu()) {
    std::memset(dst, 0, bytes);
    return;
  }
#if BMC_HAS_CUDA
  cuda_zero_bytes(dst, device, bytes);
#else
  BMC_FAIL("device ", device.str(), ": ", cuda_unavailable_reason());
#endif
}

}  // namespace bmc
