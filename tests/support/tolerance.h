// Every tolerance the tests use, named by the class of op it applies to (see STYLE 3.8).
#pragma once

namespace bmc::test::tol {

// Elementwise float ops against a reference computed in the same precision.
constexpr float kElementwiseAtol = 1e-6f;
constexpr float kElementwiseRtol = 1e-5f;

// Reductions, GEMM and convolution: whole-tensor normalised mean squared error.
constexpr double kReductionNmse = 1e-7;
// PyTorch golden fixtures (different BLAS and summation orders): elementwise bounds.
constexpr float kGoldenAtol = 1e-4f;
constexpr float kGoldenRtol = 1e-4f;

}  // namespace bmc::test::tol
