// Training that stopped because the loss or the weights stopped being finite. The command exits
// with code 3 (0: success, 1: internal failure, 2: bad input, 3: diverged); the run directory
// keeps its last checkpoint with finite weights and no non-finite model_best.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>

namespace bmc::train {

class DivergedError : public std::runtime_error {
 public:
  DivergedError(const std::string& what, int64_t step) : std::runtime_error(what), step_(step) {}
  int64_t step() const { return step_; }

 private:
  int64_t step_;
};

}  // namespace bmc::train
