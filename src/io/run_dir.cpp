#include "io/run_dir.h"

#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/error.h"
#include "io/atomic_file.h"

namespace bmc::io {

RunDir RunDir::open(const std::string& root, const std::string& kind, const std::string& hash,
                    const nlohmann::json& hparams) {
  BMC_CHECK(!root.empty(), "the output folder (--out) is empty");
  BMC_CHECK(!std::filesystem::exists(root) || std::filesystem::is_directory(root), "the output folder ", root,
            " exists and is not a folder");
  RunDir dir(root + "/" + kind + "_" + hash);
  std::error_code ec;
  std::filesystem::create_directories(dir.path_, ec);
  BMC_CHECK(!ec, "cannot create the run directory ", dir.path_, ": ", ec.message());
  const std::string hp = dir.file("hparams.json");
  if (std::filesystem::exists(hp)) {
    nlohmann::json existing;
    try {
      existing = nlohmann::json::parse(read_file(hp));
    } catch (const nlohmann::json::exception&) {
      BMC_FAIL(hp, " is not valid JSON; remove the run directory to start over");
    }
    BMC_CHECK(existing == hparams, dir.path_, " holds a run with different hyper-parameters (hash collision?)");
  } else {
    write_file_atomic(hp, hparams.dump(2) + "\n");
  }
  return dir;
}

bool RunDir::exists(const std::string& name) const { return std::filesystem::exists(file(name)); }

bool RunDir::finished() const {
  if (!exists("summary.json")) return false;
  try {
    return read_summary().value("finished", false);
  } catch (const std::exception&) {
    return false;
  }
}

nlohmann::json RunDir::read_summary() const { return nlohmann::json::parse(read_file(file("summary.json"))); }

void RunDir::write_summary(const nlohmann::json& summary) const {
  write_file_atomic(file("summary.json"), summary.dump(2) + "\n");
}

void RunDir::append_metrics(const nlohmann::json& row) const {
  std::ofstream out(file("metrics.jsonl"), std::ios::app);
  BMC_CHECK(out.good(), "cannot append to ", file("metrics.jsonl"));
  out << row.dump() << "\n";
  out.flush();
}

void RunDir::truncate_metrics_after(int64_t step) const {
  if (!exists("metrics.jsonl")) return;
  std::istringstream in(read_file(file("metrics.jsonl")));
  std::string line, kept;
  while (std::getline(in, line)) {
    try {
      const auto row = nlohmann::json::parse(line);
      if (row.value("step", int64_t{0}) <= step) kept += line + "\n";
    } catch (const nlohmann::json::exception&) {
      // a torn line from an interrupted write: drop it
    }
  }
  write_file_atomic(file("metrics.jsonl"), kept);
}

}  // namespace bmc::io
