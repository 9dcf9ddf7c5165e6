// Scoped limit on OpenBLAS's own thread count. Debian's libopenblas is the pthread build: it does
// not notice that it is called from inside an OpenMP parallel region, so two OpenMP threads each
// calling a threaded sgemm would oversubscribe the cores (and serialise on OpenBLAS's server
// lock). CPU ops that parallelise over images with OpenMP run their GEMMs single-threaded under
// this guard; the previous setting is restored on scope exit. BLAS is only called from the thread
// that runs the ops, so changing the process-wide setting for the op's duration is safe.
#pragma once

namespace bmc::ops {

class BlasThreadLimit {
 public:
  explicit BlasThreadLimit(int threads);
  ~BlasThreadLimit();
  BlasThreadLimit(const BlasThreadLimit&) = delete;
  BlasThreadLimit& operator=(const BlasThreadLimit&) = delete;

 private:
  int previous_;
  bool changed_;
};

}  // namespace bmc::ops
