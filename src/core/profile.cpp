#include "core/profile.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <map>

#include "core/profile_device.h"

namespace bmc::profile {
namespace {

struct Entry {
  const char* name;
  int parent;
  Device device;
  double start_ms = 0, end_ms = 0;  // host clock (CPU ranges)
  DeviceMark start_mark, end_mark;  // CUDA events (GPU ranges)
};

struct State {
  bool active = false;
  std::vector<Entry> entries;
  std::vector<int> open;  // the stack of unfinished ranges
  std::chrono::steady_clock::time_point origin;
};

State& state() {
  static State s;
  return s;
}

double host_ms() {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - state().origin).count();
}

}  // namespace

Range::Range(const char* name, Device device) {
  nvtx_push(name);
  State& s = state();
  if (!s.active) return;
  entry_ = static_cast<int>(s.entries.size());
  Entry e{name, s.open.empty() ? -1 : s.open.back(), device, 0.0, 0.0, {}, {}};
  if (device.is_cuda())
    e.start_mark = record_mark(device);
  else
    e.start_ms = host_ms();
  s.entries.push_back(e);
  s.open.push_back(entry_);
}

Range::~Range() {
  nvtx_pop();
  State& s = state();
  if (entry_ < 0 || !s.active) return;
  Entry& e = s.entries[entry_];
  if (e.device.is_cuda())
    e.end_mark = record_mark(e.device);
  else
    e.end_ms = host_ms();
  if (!s.open.empty() && s.open.back() == entry_) s.open.pop_back();
}

void start() {
  State& s = state();
  s.entries.clear();
  s.open.clear();
  s.origin = std::chrono::steady_clock::now();
  s.active = true;
}

bool active() { return state().active; }

std::vector<Row> finish() {
  State& s = state();
  s.active = false;
  std::vector<double> inclusive(s.entries.size(), 0.0), nested(s.entries.size(), 0.0);
  for (size_t i = 0; i < s.entries.size(); ++i) {
    Entry& e = s.entries[i];
    inclusive[i] = e.device.is_cuda() ? mark_elapsed_ms(e.start_mark, e.end_mark) : e.end_ms - e.start_ms;
    if (e.parent >= 0) nested[e.parent] += inclusive[i];
  }
  std::map<std::string, Row> by_name;
  for (size_t i = 0; i < s.entries.size(); ++i) {
    Row& r = by_name[s.entries[i].name];
    r.name = s.entries[i].name;
    r.ms += std::max(0.0, inclusive[i] - nested[i]);
    ++r.calls;
  }
  for (Entry& e : s.entries) {
    release_mark(e.start_mark);
    release_mark(e.end_mark);
  }
  s.entries.clear();
  std::vector<Row> rows;
  for (auto& [name, row] : by_name) rows.push_back(row);
  std::sort(rows.begin(), rows.end(), [](const Row& a, const Row& b) { return a.ms > b.ms; });
  return rows;
}

namespace {

// "blocks.0.conv1 Conv2d forward" -> "Conv2d forward"; other names as they are.
std::string kind_of(const std::string& name) {
  const size_t last = name.rfind(' ');
  if (last == std::string::npos) return name;
  const std::string direction = name.substr(last + 1);
  if (direction != "forward" && direction != "backward") return name;
  const size_t type = name.rfind(' ', last - 1);
  return type == std::string::npos ? name : name.substr(type + 1);
}

std::string rows_table(const std::vector<Row>& rows, int64_t steps, const char* heading) {
  double total = 0;
  for (const Row& r : rows) total += r.ms;
  std::string out;
  char line[256];
  std::snprintf(line, sizeof(line), "%-48s %12s %8s %10s\n", heading, "ms per step", "% step", "calls/step");
  out += line;
  const double per = steps > 0 ? static_cast<double>(steps) : 1.0;
  for (const Row& r : rows) {
    std::snprintf(line, sizeof(line), "%-48.48s %12.3f %7.1f%% %10.1f\n", r.name.c_str(), r.ms / per,
                  total > 0 ? 100.0 * r.ms / total : 0.0, r.calls / per);
    out += line;
  }
  std::snprintf(line, sizeof(line), "%-48s %12.3f %7.1f%%\n", "total", total / per, 100.0);
  out += line;
  return out;
}

}  // namespace

std::string table(const std::vector<Row>& rows, int64_t steps) {
  std::map<std::string, Row> by_kind;
  for (const Row& r : rows) {
    Row& k = by_kind[kind_of(r.name)];
    k.name = kind_of(r.name);
    k.ms += r.ms;
    k.calls += r.calls;
  }
  std::vector<Row> kinds;
  for (auto& [name, row] : by_kind) kinds.push_back(row);
  std::sort(kinds.begin(), kinds.end(), [](const Row& a, const Row& b) { return a.ms > b.ms; });
  return rows_table(kinds, steps, "by kind (self time)") + "\n" + rows_table(rows, steps, "by range (self time)");
}

}  // namespace bmc::profile
