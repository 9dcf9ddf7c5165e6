#include "dist/nccl_cuda.h"

#include <nccl.h>

#include <cstring>

#include "core/cuda_check.h"
#include "core/cuda_context.h"

namespace bmc::dist {
namespace {

void check_nccl(ncclResult_t status, const char* what) {
  BMC_CHECK(status == ncclSuccess, "NCCL ", what, " failed: ", ncclGetErrorString(status));
}

void check_on(const Tensor& t, Device device, const char* op) {
  BMC_CHECK(t.device() == device, op, ": the tensor is on ", t.device().str(), ", the communicator on ", device.str());
}

}  // namespace

static_assert(sizeof(ncclUniqueId) == sizeof(NcclId::bytes), "NcclId must hold an ncclUniqueId");

NcclId nccl_unique_id() {
  ncclUniqueId id;
  check_nccl(ncclGetUniqueId(&id), "ncclGetUniqueId");
  NcclId out;
  std::memcpy(out.bytes, &id, sizeof(id));
  return out;
}

struct NcclComm::Impl {
  ncclComm_t comm = nullptr;
};

NcclComm::NcclComm(const NcclId& id, int rank, int size, Device device) : impl_(new Impl), device_(device) {
  cuda::context(device);  // makes the device current for ncclCommInitRank
  ncclUniqueId raw;
  std::memcpy(&raw, id.bytes, sizeof(raw));
  const ncclResult_t status = ncclCommInitRank(&impl_->comm, size, raw, rank);
  if (status != ncclSuccess) {
    delete impl_;
    check_nccl(status, "ncclCommInitRank");
  }
}

NcclComm::~NcclComm() {
  if (impl_->comm) ncclCommDestroy(impl_->comm);
  delete impl_;
}

void NcclComm::all_reduce_sum(Tensor& t) {
  check_on(t, device_, "NCCL all-reduce");
  BMC_CHECK(t.dtype() == DType::F32, "NCCL all-reduce: f32 tensors only, got ", t.describe());
  float* data = t.data<float>();
  check_nccl(ncclAllReduce(data, data, static_cast<size_t>(t.numel()), ncclFloat32, ncclSum, impl_->comm,
                           cuda::context(device_).stream.get()),
             "ncclAllReduce");
}

void NcclComm::broadcast(Tensor& t, int root) {
  check_on(t, device_, "NCCL broadcast");
  check_nccl(ncclBroadcast(t.raw(), t.raw(), t.nbytes(), ncclChar, root, impl_->comm, cuda::context(device_).stream.get()),
             "ncclBroadcast");
}

}  // namespace bmc::dist
