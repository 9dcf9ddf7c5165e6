// Learning-rate schedules as OpenLTH defines them: multi-step decay by gamma at milestone steps,
// times a linear warmup factor min(1, step / warmup_steps) when warmup is on.
#pragma once

#include <cstdint>
#include <vector>

namespace bmc::optim {

struct LrSchedule {
  float base_lr = 0.1f;
  std::vector<int64_t> milestones;  // steps at which the rate is multiplied by gamma
  float gamma = 0.1f;
  int64_t warmup_steps = 0;

  float at(int64_t step) const;
};

}  // namespace bmc::optim
