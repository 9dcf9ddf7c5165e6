// The processes of a data-parallel run and the collectives training needs from them. One process
// (the default) is a world of size 1 whose collectives do nothing; `bmc ... --distributed` under
// mpirun (or a cluster launcher that starts MPI ranks) makes the world every MPI rank, with
// MPI_Allreduce for host data and CPU tensors and NCCL for CUDA tensors (dist/nccl_cuda.h).
// Rank 0 writes the run directory; every rank computes everything else.
#pragma once

#include <cstdint>
#include <memory>

#include "core/tensor.h"

namespace bmc::dist {

class Communicator {
 public:
  virtual ~Communicator() = default;
  virtual int rank() const = 0;
  virtual int size() const = 0;
  // Sums an f32 tensor over the ranks in place, on the tensor's device; every rank receives the
  // same bits.
  virtual void all_reduce_sum(Tensor& t) = 0;
  // Sums host doubles over the ranks in place.
  virtual void all_reduce_sum(double* values, int64_t n) = 0;
  // Overwrites t on every rank with root's t (any dtype, any device).
  virtual void broadcast(Tensor& t, int root) = 0;
  virtual void barrier() = 0;
};

// The world this process belongs to (a single process until start_mpi()).
Communicator& world();
// Makes `c` the world (start_mpi does; tests may install their own).
void set_world(std::unique_ptr<Communicator> c);
inline bool is_root() { return world().rank() == 0; }
// This rank's index among the ranks on its machine (which GPU it drives); 0 for one process.
int local_rank();
inline bool distributed() { return world().size() > 1; }

// Joins the MPI job this process was started in (MPI_Init) and makes it the world. A collective
// that gets no answer within `timeout_seconds` (a rank died, or hangs) prints which rank waited
// on what and aborts the whole job, so no rank hangs forever. Safe to call once per process.
// Each rank's CPU threads default to the cores divided by the ranks on its machine, unless
// OMP_NUM_THREADS says otherwise.
void start_mpi(double timeout_seconds);
// Stops every rank of the job with `code` (after this rank printed why); returns only when this
// process is not part of a multi-rank job.
void abort_job(int code);

// Synchronised batch norm: the training statistics of every BatchNorm2d (and its backward sums)
// reduced over all ranks, as one process with the global batch computes them. Off by default, as
// in PyTorch DDP (each rank normalises with the statistics of its own shard).
bool sync_batch_norm();
void set_sync_batch_norm(bool on);

}  // namespace bmc::dist
