// Named time ranges around the work of a training step: every layer's forward and backward, the
// loss, the optimizer step, data loading, the gradient all-reduce. In CUDA builds each range is
// also an NVTX range (the header-only nvtx3 of the CUDA toolkit), so an Nsight Systems timeline
// reads like the model; without a tool attached a range costs a function call. While a profile is
// being taken (`bmc train --profile N`) each range is also timed: wall clock on the CPU, CUDA
// events on the device's stream (so the GPU is not drained), and finish() turns the ranges into
// self times (a range's time less that of the ranges nested in it) per name.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/device.h"

namespace bmc::profile {

class Range {
 public:
  // `name` must outlive the range (module labels, literals).
  Range(const char* name, Device device);
  ~Range();
  Range(const Range&) = delete;
  Range& operator=(const Range&) = delete;

 private:
  int entry_ = -1;  // index of the timed entry while profiling
};

struct Row {
  std::string name;
  double ms = 0;  // self time, all calls together
  int64_t calls = 0;
};

void start();
bool active();
// Ends the profile; rows by descending self time (waits for the devices' recorded events).
std::vector<Row> finish();
// The rows as tables, summed by kind (layer type and direction) and then range by range: time per
// step, % of the step, calls per step.
std::string table(const std::vector<Row>& rows, int64_t steps);

}  // namespace bmc::profile
