#include "train/progress.h"

#include <unistd.h>

#include <cstdio>

#include "dist/communicator.h"

namespace bmc::train {

std::string format_duration(double seconds) {
  const long s = static_cast<long>(seconds + 0.5);
  char buf[32];
  if (s >= 3600)
    std::snprintf(buf, sizeof(buf), "%ldh%02ldm", s / 3600, (s / 60) % 60);
  else
    std::snprintf(buf, sizeof(buf), "%ldm%02lds", s / 60, s % 60);
  return buf;
}

Progress::Progress(std::string label, int64_t total_steps, int64_t start_step)
    : label_(std::move(label)),
      total_(total_steps),
      start_(start_step),
      tty_(::isatty(::fileno(stderr)) != 0),
      quiet_(!dist::is_root()),
      started_(std::chrono::steady_clock::now()) {}

void Progress::update(int64_t step, double loss, const std::string& extra, double images_per_second) {
  if (quiet_) return;
  const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
  const double done = static_cast<double>(step - start_);
  const double eta = done > 0 ? elapsed / done * static_cast<double>(total_ - step) : 0.0;
  const double fraction = total_ > 0 ? static_cast<double>(step) / total_ : 1.0;
  if (tty_) {
    constexpr int kWidth = 24;
    const int filled = static_cast<int>(fraction * kWidth);
    std::string bar(filled, '#');
    bar.append(kWidth - filled, '.');
    std::fprintf(stderr, "\r%s [%s] %lld/%lld loss %.4f %s %.0f img/s ETA %s   ", label_.c_str(), bar.c_str(),
                 static_cast<long long>(step), static_cast<long long>(total_), loss, extra.c_str(),
                 images_per_second, format_duration(eta).c_str());
    bar_open_ = true;
  } else {
    std::fprintf(stderr, "%s step %lld/%lld (%.1f%%) loss %.4f %s %.0f img/s ETA %s\n", label_.c_str(),
                 static_cast<long long>(step), static_cast<long long>(total_), 100 * fraction, loss, extra.c_str(),
                 images_per_second, format_duration(eta).c_str());
  }
  std::fflush(stderr);
}

void Progress::message(const std::string& text) {
  if (quiet_) return;
  if (bar_open_) std::fprintf(stderr, "\n");
  bar_open_ = false;
  std::fprintf(stderr, "%s %s\n", label_.c_str(), text.c_str());
  std::fflush(stderr);
}

void Progress::finish() {
  if (bar_open_) std::fprintf(stderr, "\n");
  bar_open_ = false;
}

}  // namespace bmc::train
