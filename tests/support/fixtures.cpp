#include "tests/support/fixtures.h"

#include "tests/support/compare.h"
#include "tests/support/tolerance.h"

namespace bmc::test {

std::string source_path(const std::string& relative) { return std::string(BMC_SOURCE_DIR) + "/" + relative; }

io::SafeTensors load_fixture(const std::string& name) {
  return io::load_safetensors(source_path("tests/golden/" + name + ".safetensors"));
}

::testing::AssertionResult golden_match(const Tensor& actual, const Tensor& expected) {
  const Tensor host = actual.to(Device::cpu());
  auto result = all_close(host, expected, tol::kGoldenAtol, tol::kGoldenRtol);
  if (!result) return result;
  std::vector<float> perturbed = host.to_vector<float>();
  for (float& v : perturbed) v += kGoldenPerturbation;
  if (all_close(perturbed, expected.to_vector<float>(), tol::kGoldenAtol, tol::kGoldenRtol))
    return ::testing::AssertionFailure() << "tolerance too loose: a " << kGoldenPerturbation
                                         << " perturbation of every element still passes";
  return ::testing::AssertionSuccess();
}

}  // namespace bmc::test
