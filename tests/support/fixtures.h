// Golden fixtures written by tests/golden/gen_*.py from PyTorch (committed, so tests never need
// torch). expect_golden() checks bmc's output against PyTorch's and also proves the comparison
// has teeth: the same output perturbed by 1e-3 must fail it.
#pragma once

#include <gtest/gtest.h>

#include <string>

#include "io/safetensors.h"

namespace bmc::test {

std::string source_path(const std::string& relative);  // path inside the source tree
io::SafeTensors load_fixture(const std::string& name);   // tests/golden/<name>.safetensors

constexpr float kGoldenPerturbation = 1e-3f;

::testing::AssertionResult golden_match(const Tensor& actual, const Tensor& expected);

}  // namespace bmc::test

#define EXPECT_GOLDEN(actual, fixture, key) \
  EXPECT_TRUE(::bmc::test::golden_match((actual), (fixture).at(key))) << "golden tensor '" << (key) << "'"
