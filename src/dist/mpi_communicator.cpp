// The MPI world: non-blocking collectives polled against a deadline (MPI itself has no timeout),
// NCCL for tensors on CUDA devices, bootstrapped through MPI.
// The C API only: the deprecated C++ bindings would need libmpi_cxx.
#define OMPI_SKIP_MPICXX 1
#include <mpi.h>
#include <omp.h>
#include <cblas.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>

#include "core/error.h"
#include "dist/communicator.h"
#if BMC_HAS_CUDA
#include "dist/nccl_cuda.h"
#endif

namespace bmc::dist {

void set_local_rank(int r);  // communicator.cpp

namespace {

void check_mpi(int status, const char* what) {
  if (status == MPI_SUCCESS) return;
  char text[MPI_MAX_ERROR_STRING];
  int length = 0;
  MPI_Error_string(status, text, &length);
  BMC_FAIL("MPI ", what, " failed: ", std::string(text, length));
}

class MpiWorld final : public Communicator {
 public:
  explicit MpiWorld(double timeout_seconds) : timeout_(timeout_seconds) {
    check_mpi(MPI_Comm_dup(MPI_COMM_WORLD, &comm_), "MPI_Comm_dup");
    MPI_Comm_rank(comm_, &rank_);
    MPI_Comm_size(comm_, &size_);
  }
  ~MpiWorld() override {
#if BMC_HAS_CUDA
    nccl_.reset();
#endif
    MPI_Comm_free(&comm_);
  }

  int rank() const override { return rank_; }
  int size() const override { return size_; }

  void all_reduce_sum(Tensor& t) override {
    BMC_CHECK(t.dtype() == DType::F32, "all_reduce_sum: f32 tensors only, got ", t.describe());
    if (t.device().is_cuda()) {
#if BMC_HAS_CUDA
      return nccl(t.device()).all_reduce_sum(t);
#endif
    }
    BMC_CHECK(t.numel() <= INT32_MAX, "all_reduce_sum: ", t.numel(), " elements exceed one MPI message");
    MPI_Request request;
    check_mpi(MPI_Iallreduce(MPI_IN_PLACE, t.data<float>(), static_cast<int>(t.numel()), MPI_FLOAT, MPI_SUM, comm_,
                             &request),
              "MPI_Iallreduce");
    wait(request, "the gradient all-reduce");
  }

  void all_reduce_sum(double* values, int64_t n) override {
    MPI_Request request;
    check_mpi(MPI_Iallreduce(MPI_IN_PLACE, values, static_cast<int>(n), MPI_DOUBLE, MPI_SUM, comm_, &request),
              "MPI_Iallreduce");
    wait(request, "an all-reduce of statistics");
  }

  void broadcast(Tensor& t, int root) override {
    if (t.device().is_cuda()) {
#if BMC_HAS_CUDA
      return nccl(t.device()).broadcast(t, root);
#endif
    }
    BMC_CHECK(t.nbytes() <= INT32_MAX, "broadcast: ", t.nbytes(), " bytes exceed one MPI message");
    MPI_Request request;
    check_mpi(MPI_Ibcast(t.raw(), static_cast<int>(t.nbytes()), MPI_BYTE, root, comm_, &request), "MPI_Ibcast");
    wait(request, "a broadcast from rank 0");
  }

  void barrier() override {
    MPI_Request request;
    check_mpi(MPI_Ibarrier(comm_, &request), "MPI_Ibarrier");
    wait(request, "a barrier");
  }

  [[noreturn]] void abort(int code) { MPI_Abort(comm_, code); std::_Exit(code); }

 private:
  // Polls until the collective completes; past the deadline the whole job is stopped, since a
  // rank that died mid-collective leaves the others waiting forever.
  void wait(MPI_Request& request, const char* what) {
    const auto start = std::chrono::steady_clock::now();
    int done = 0;
    for (int polls = 0;; ++polls) {
      check_mpi(MPI_Test(&request, &done, MPI_STATUS_IGNORE), "MPI_Test");
      if (done) return;
      const double waited = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      if (waited > timeout_) {
        std::fprintf(stderr,
                     "bmc: rank %d of %d: %s got no answer from the other ranks in %.0f s (a rank stopped or "
                     "hangs); stopping the job (rerun the command to resume from its last checkpoint)\n",
                     rank_, size_, what, timeout_);
        abort(4);
      }
      if (polls > 1000) std::this_thread::sleep_for(std::chrono::microseconds(50));
    }
  }

#if BMC_HAS_CUDA
  NcclComm& nccl(Device device) {
    if (!nccl_) {
      NcclId id{};
      if (rank_ == 0) id = nccl_unique_id();
      MPI_Request request;
      check_mpi(MPI_Ibcast(id.bytes, sizeof(id.bytes), MPI_BYTE, 0, comm_, &request), "MPI_Ibcast");
      wait(request, "the NCCL set-up");
      nccl_ = std::make_unique<NcclComm>(id, rank_, size_, device);
    }
    BMC_CHECK(nccl_->device() == device, "one data-parallel rank drives one GPU: ", nccl_->device().str(), ", not ",
              device.str());
    return *nccl_;
  }
  std::unique_ptr<NcclComm> nccl_;
#endif

  MPI_Comm comm_ = MPI_COMM_NULL;
  int rank_ = 0, size_ = 1;
  double timeout_;
};

MpiWorld* mpi_world = nullptr;

void finalize_mpi() {
  set_world(nullptr);
  mpi_world = nullptr;
  int finalized = 0;
  MPI_Finalized(&finalized);
  if (!finalized) MPI_Finalize();
}

// The rank's index on its machine; the machine's cores shared among its ranks (OMP_NUM_THREADS,
// when set, wins).
void share_cores(MPI_Comm comm) {
  MPI_Comm local;
  check_mpi(MPI_Comm_split_type(comm, MPI_COMM_TYPE_SHARED, 0, MPI_INFO_NULL, &local), "MPI_Comm_split_type");
  int local_ranks = 1, local_index = 0;
  MPI_Comm_size(local, &local_ranks);
  MPI_Comm_rank(local, &local_index);
  set_local_rank(local_index);
  MPI_Comm_free(&local);
  if (std::getenv("OMP_NUM_THREADS")) return;
  const int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  const int threads = std::max(1, cores / local_ranks);
  omp_set_num_threads(threads);
  openblas_set_num_threads(threads);
}

}  // namespace

void start_mpi(double timeout_seconds) {
  BMC_CHECK(timeout_seconds > 0, "the collective timeout must be positive, got ", timeout_seconds);
  if (mpi_world) return;
  int provided = 0;
  check_mpi(MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided), "MPI_Init_thread");
  // bmc reports errors itself; MPI's default handler would abort without saying where.
  MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
  auto w = std::make_unique<MpiWorld>(timeout_seconds);
  mpi_world = w.get();
  share_cores(MPI_COMM_WORLD);
  set_world(std::move(w));
  std::atexit(finalize_mpi);
}

void abort_job(int code) {
  if (mpi_world && mpi_world->size() > 1) mpi_world->abort(code);
}

}  // namespace bmc::dist
