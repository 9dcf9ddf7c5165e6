// `bmc report RUN_DIR...`: accuracy vs remaining weights for lottery runs (one row per level) and
// single masked training runs, side by side, plus an SVG and PNG plot (log-scale density axis) so
// lottery tickets, random re-initialisation and random pruning can be compared at a glance.
// Replicates (run directories <kind>_<hash>_r<K> of one experiment, or several runs at the same
// density under one LABEL=) are averaged: mean, standard deviation, error bars.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <map>
#include <sstream>
#include <vector>

#include "cli/args.h"
#include "cli/commands.h"
#include "core/error.h"
#include "io/atomic_file.h"
#include "io/json_file.h"
#include "io/provenance.h"
#include "io/run_dir.h"
#include "train/hparams.h"
#include "io/plot.h"

namespace bmc::cli {
namespace {

struct Accuracy {
  double final_top1 = 0, best_top1 = 0;
};

struct RunPoints {
  std::string label;
  std::map<double, std::vector<Accuracy>> by_density;  // density -> one entry per replicate
  std::vector<std::pair<std::string, nlohmann::json>> provenance;  // run directory -> what made it
};

// Densities as keys: the same level of two replicates compares equal.
double key(double density) { return std::round(density * 1e6) / 1e6; }

void merge_into(RunPoints& into, RunPoints& from) {
  for (auto& [d, accs] : from.by_density) into.by_density[d].insert(into.by_density[d].end(), accs.begin(), accs.end());
  into.provenance.insert(into.provenance.end(), from.provenance.begin(), from.provenance.end());
}

RunPoints read_one(const std::string& path) {
  const io::RunDir dir(path);
  BMC_CHECK(dir.exists("summary.json"), path, " has no summary.json (not a bmc run directory, or unfinished)");
  const auto summary = dir.read_summary();
  RunPoints run;
  run.label = train::without_replicate_suffix(std::filesystem::path(path).lexically_normal().filename().string());
  run.provenance.emplace_back(path, dir.exists("provenance.json") ? io::read_json_file(dir.file("provenance.json"))
                                                                  : nlohmann::json::object());
  if (summary.contains("levels")) {
    for (const auto& row : summary["levels"])
      run.by_density[key(row["density"].get<double>())].push_back(
          {row["test_top1"].get<double>(), row["best_top1"].get<double>()});
  } else {
    BMC_CHECK(summary.contains("test_top1"), path, ": summary.json has neither levels nor test_top1");
    const double top1 = summary["test_top1"].get<double>();
    run.by_density[key(summary.value("density", 1.0))].push_back({top1, summary.value("best_top1", top1)});
  }
  return run;
}

// "DIR", or "LABEL=DIR1,DIR2,..." to draw several single-density runs (e.g. random
// re-initialisation at each lottery level) as one series.
RunPoints read_run(const std::string& spec) {
  const size_t eq = spec.find('=');
  if (eq == std::string::npos) return read_one(spec);
  RunPoints merged;
  merged.label = spec.substr(0, eq);
  std::stringstream dirs(spec.substr(eq + 1));
  for (std::string dir; std::getline(dirs, dir, ',');)
    if (!dir.empty()) {
      RunPoints one = read_one(dir);
      merge_into(merged, one);
    }
  BMC_CHECK(!merged.by_density.empty(), "bmc report: no run directories in '", spec, "'");
  return merged;
}

// Mean and (sample) standard deviation; 0 for a single value.
std::pair<double, double> mean_std(const std::vector<double>& v) {
  double mean = 0, var = 0;
  for (double x : v) mean += x / static_cast<double>(v.size());
  for (double x : v) var += (x - mean) * (x - mean);
  return {mean, v.size() > 1 ? std::sqrt(var / static_cast<double>(v.size() - 1)) : 0.0};
}

// What made each run; a warning when the runs were made by different builds or machines (their
// numbers then differ beyond the methods compared).
void print_provenance(const std::vector<RunPoints>& runs) {
  std::map<std::string, std::vector<std::string>> by_line;
  const nlohmann::json* first = nullptr;
  std::string first_dir;
  std::vector<std::string> warnings;
  for (const RunPoints& r : runs)
    for (const auto& [dir, p] : r.provenance) {
      if (p.empty()) {
        by_line["(no provenance.json: made before bmc recorded it)"].push_back(dir);
        continue;
      }
      by_line[io::provenance_line(p)].push_back(dir);
      if (!first) {
        first = &p;
        first_dir = dir;
      } else if (const auto diff = io::provenance_differences(*first, p); !diff.empty()) {
        warnings.push_back(dir + " vs " + first_dir + ": " + diff.front());
      }
    }
  for (const auto& [line, dirs] : by_line)
    std::printf("made by %s: %zu run%s\n", line.c_str(), dirs.size(), dirs.size() == 1 ? "" : "s");
  for (const std::string& w : warnings) std::printf("warning: runs made differently: %s\n", w.c_str());
}

}  // namespace

int run_report(const std::vector<std::string>& argv) {
  Args args("report", "Accuracy vs density of lottery / masked training runs, as a table and an SVG plot.");
  args.positionals("RUN_DIR", "lottery run directories (runs/lottery_*), masked training runs (runs/train_*), or\n"
                              "           LABEL=DIR1,DIR2,... to draw several masked training runs as one series");
  args.option("svg", "report.svg", "where to write the plot (and the PNG beside it, .png)");
  args.flag("best", "plot the best test accuracy of each run instead of the final one");
  if (!args.parse(argv)) return 0;
  if (args.positional().empty()) throw UsageError{"bmc report: give at least one run directory"};
  // Replicates of one experiment (the same <kind>_<hash>) become one series.
  std::vector<RunPoints> runs;
  for (const auto& d : args.positional()) {
    RunPoints r = read_run(d);
    const auto same = std::find_if(runs.begin(), runs.end(), [&](const RunPoints& o) { return o.label == r.label; });
    if (same != runs.end() && d.find('=') == std::string::npos) {
      merge_into(*same, r);
    } else {
      runs.push_back(std::move(r));
    }
  }
  const bool best = args.on("best");
  auto stats = [&](const std::vector<Accuracy>& accs, bool use_best) {
    std::vector<double> v;
    for (const Accuracy& a : accs) v.push_back(100 * (use_best ? a.best_top1 : a.final_top1));
    return mean_std(v);
  };

  std::printf("%12s", "density %");
  for (size_t i = 0; i < runs.size(); ++i) std::printf("  %26s", runs[i].label.substr(0, 26).c_str());
  std::printf("\n");
  std::map<double, int, std::greater<double>> densities;
  for (const auto& r : runs)
    for (const auto& [d, acc] : r.by_density) densities[d] = 0;
  bool replicated = false;
  for (const auto& [d, unused] : densities) {
    std::printf("%12.3f", 100 * d);
    for (const auto& r : runs) {
      const auto it = r.by_density.find(d);
      if (it == r.by_density.end()) {
        std::printf("  %26s", "-");
        continue;
      }
      const auto [final_mean, final_std] = stats(it->second, false);
      const double best_mean = stats(it->second, true).first;
      if (it->second.size() == 1) {
        std::printf("  %17.2f (%5.2f)", final_mean, best_mean);
      } else {
        replicated = true;
        std::printf("  %5.2f+-%4.2f (%5.2f) n=%zu", final_mean, final_std, best_mean, it->second.size());
      }
    }
    std::printf("\n");
  }
  std::printf("(cells: final top-1 %% (best top-1 %%)%s)\n",
              replicated ? "; replicates: mean+-standard deviation of the final top-1, mean best, n replicates" : "");
  print_provenance(runs);

  std::vector<io::PlotSeries> series;
  for (const auto& r : runs) {
    io::PlotSeries s{r.label, {}};
    for (const auto& [d, accs] : r.by_density) {
      const auto [mean, sd] = stats(accs, best);
      s.points.push_back({100 * d, mean, sd});
    }
    series.push_back(s);
  }
  io::PlotOptions options{"Test accuracy vs remaining weights", "remaining weights (%, log scale)",
                          best ? "best test top-1 (%)" : "final test top-1 (%)", true, true};
  const std::string png = io::write_plot_files(args.get("svg"), series, options);
  std::printf("plot: %s%s%s\n", args.get("svg").c_str(), png.empty() ? "" : " and ", png.c_str());
  return 0;
}

}  // namespace bmc::cli
