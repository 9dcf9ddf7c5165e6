#include "core/log.h"

#include <atomic>
#include <cstdio>
#include <mutex>

namespace bmc {
namespace {

std::atomic<long> g_warnings{0};
std::mutex g_observer_mutex;
std::function<void(const std::string&)> g_observer;

}  // namespace

void log_info(const std::string& message) { std::fprintf(stderr, "bmc: %s\n", message.c_str()); }

void log_warning(const std::string& message) {
  ++g_warnings;
  std::fprintf(stderr, "bmc: warning: %s\n", message.c_str());
  std::lock_guard<std::mutex> lock(g_observer_mutex);
  if (g_observer) g_observer(message);
}

long warning_count() { return g_warnings.load(); }

void reset_warning_count() { g_warnings = 0; }

void set_warning_observer(std::function<void(const std::string&)> observer) {
  std::lock_guard<std::mutex> lock(g_observer_mutex);
  g_observer = std::move(observer);
}

}  // namespace bmc
