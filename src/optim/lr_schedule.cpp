#include "optim/lr_schedule.h"

#include <algorithm>
#include <cmath>

namespace bmc::optim {

float LrSchedule::at(int64_t step) const {
  int passed = 0;
  for (int64_t m : milestones) passed += step >= m ? 1 : 0;
  double lr = base_lr * std::pow(static_cast<double>(gamma), passed);
  if (warmup_steps > 0) lr *= std::min(1.0, static_cast<double>(step) / static_cast<double>(warmup_steps));
  return static_cast<float>(lr);
}

}  // namespace bmc::optim
