// Minimal logging: warnings and errors go to stderr and are counted, so tests can fail on any
// warning (a logged warning in a test is a defect) and the CLI can summarise them.
#pragma once

#include <functional>
#include <string>

namespace bmc {

void log_info(const std::string& message);
void log_warning(const std::string& message);
// Number of warnings logged since start (or the last reset).
long warning_count();
void reset_warning_count();
// Observer called for every warning (tests install one that records a failure).
void set_warning_observer(std::function<void(const std::string&)> observer);

}  // namespace bmc
