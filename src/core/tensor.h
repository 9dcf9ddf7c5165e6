// Tensor: a typed, contiguous, row-major buffer on one device.
// Move-only: copies are explicit (clone(), to(device), copy_from()), so no hidden transfer or
// allocation happens by accident. view()/slice() make aliasing tensors that share the storage
// (used for reshapes and for parameters that live in one flat arena); the storage lives as long
// as any tensor refers to it.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/device.h"
#include "core/dtype.h"
#include "core/error.h"
#include "core/shape.h"

namespace bmc {

class Storage;

class Tensor {
 public:
  Tensor() = default;
  // Uninitialised storage from the device's pool.
  Tensor(const Shape& shape, DType dtype = DType::F32, Device device = Device::cpu());
  ~Tensor() = default;

  Tensor(Tensor&&) noexcept = default;
  Tensor& operator=(Tensor&&) noexcept = default;
  Tensor(const Tensor&) = delete;
  Tensor& operator=(const Tensor&) = delete;

  static Tensor zeros(const Shape& shape, DType dtype = DType::F32, Device device = Device::cpu());
  static Tensor full(const Shape& shape, float value, Device device = Device::cpu());
  template <class T>
  static Tensor from_vector(const std::vector<T>& values, const Shape& shape,
                            Device device = Device::cpu());

  bool defined() const { return storage_ != nullptr; }
  const Shape& shape() const { return shape_; }
  int rank() const { return shape_.rank(); }
  int64_t dim(int i) const;  // negative i counts from the end
  int64_t numel() const { return shape_.numel(); }
  DType dtype() const { return dtype_; }
  Device device() const { return device_; }
  size_t nbytes() const { return static_cast<size_t>(numel()) * dtype_size(dtype_); }
  std::string describe() const;  // "f32 (2, 3) on cpu"

  void* raw();
  const void* raw() const;
  template <class T> T* data();
  template <class T> const T* data() const;

  // Deep copies.
  Tensor clone() const;
  Tensor to(Device device) const;
  // Copies src's bytes into this tensor (same dtype and element count, any devices).
  void copy_from(const Tensor& src);
  template <class T> std::vector<T> to_vector() const;

  // Aliasing tensors sharing this tensor's storage.
  Tensor view(const Shape& shape) const;                   // reshape, same element count
  Tensor slice(int64_t offset, const Shape& shape) const;  // elements [offset, offset + numel)
  bool shares_storage_with(const Tensor& other) const { return storage_ && storage_ == other.storage_; }

  void fill_zero();
  void fill(float value);  // f32 only

 private:
  std::shared_ptr<Storage> storage_;
  size_t offset_bytes_ = 0;
  Shape shape_;
  DType dtype_ = DType::F32;
  Device device_ = Device::cpu();
};

// Memory traffic between host and device lives behind these two calls so Tensor stays
// backend-free; the CUDA versions are in tensor_cuda.cpp.
void copy_bytes(void* dst, Device dst_device, const void* src, Device src_device, size_t bytes);
void zero_bytes(void* dst, Device device, size_t bytes);

template <class T>
T* Tensor::data() {
  BMC_CHECK(dtype_ == dtype_of<T>(), "tensor holds ", dtype_name(dtype_), ", accessed as ",
            dtype_name(dtype_of<T>()));
  return static_cast<T*>(raw());
}

template <class T>
const T* Tensor::data() const {
  BMC_CHECK(dtype_ == dtype_of<T>(), "tensor holds ", dtype_name(dtype_), ", accessed as ",
            dtype_name(dtype_of<T>()));
  return static_cast<const T*>(raw());
}

template <class T>
Tensor Tensor::from_vector(const std::vector<T>& values, const Shape& shape, Device device) {
  BMC_CHECK(static_cast<int64_t>(values.size()) == shape.numel(), "from_vector: ", values.size(),
            " values for shape ", shape.str());
  Tensor t(shape, dtype_of<T>(), device);
  copy_bytes(t.raw(), device, values.data(), Device::cpu(), values.size() * sizeof(T));
  return t;
}

template <class T>
std::vector<T> Tensor::to_vector() const {
  BMC_CHECK(dtype_ == dtype_of<T>(), "to_vector: tensor holds ", dtype_name(dtype_));
  std::vector<T> out(static_cast<size_t>(numel()));
  copy_bytes(out.data(), Device::cpu(), raw(), device_, nbytes());
  return out;
}

}  // namespace bmc
