// NCCL communicators for the CUDA tensors of a data-parallel run: one per process, on the GPU
// that process trains on, collectives enqueued on that device's stream (so they order with the
// ops around them and the host does not wait).
#pragma once

#include "core/device.h"
#include "core/tensor.h"

namespace bmc::dist {

// ncclUniqueId's bytes: rank 0 creates it, MPI carries it to the others.
struct NcclId {
  char bytes[128];
};
NcclId nccl_unique_id();

class NcclComm {
 public:
  NcclComm(const NcclId& id, int rank, int size, Device device);
  ~NcclComm();
  NcclComm(const NcclComm&) = delete;
  NcclComm& operator=(const NcclComm&) = delete;

  Device device() const { return device_; }
  void all_reduce_sum(Tensor& t);  // f32, in place
  void broadcast(Tensor& t, int root);

 private:
  struct Impl;
  Impl* impl_;
  Device device_;
};

}  // namespace bmc::dist
