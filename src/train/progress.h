// Training progress on stderr: a one-line bar redrawn in place on a terminal (loss, accuracy,
// throughput, ETA), plain log lines otherwise (files, CI). Only rank 0 of a data-parallel run
// draws it.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace bmc::train {

class Progress {
 public:
  Progress(std::string label, int64_t total_steps, int64_t start_step);
  // Called at logging points; `extra` is appended (e.g. "acc 97.1%").
  void update(int64_t step, double loss, const std::string& extra, double images_per_second);
  void message(const std::string& text);  // a line that does not disturb the bar
  void finish();

 private:
  std::string label_;
  int64_t total_, start_;
  bool tty_;
  bool quiet_;
  bool bar_open_ = false;
  std::chrono::steady_clock::time_point started_;
};

std::string format_duration(double seconds);

}  // namespace bmc::train
