// Run directories, kept as OpenLTH keeps them: <root>/<kind>_<hash>/ with hparams.json,
// metrics.jsonl (one JSON object per line), checkpoints and summary.json. Running the same
// command again finds the same directory: finished work is reused, unfinished work resumed.
// An opened run directory is locked (flock on <dir>/.lock) while any copy of it lives, so a second
// process running the same command is refused instead of interleaving its files; the temporary
// files of writers killed mid-write are removed when the lock is taken.
#pragma once

#include <memory>
#include <string>

#include <nlohmann/json.hpp>

namespace bmc::io {

class RunDir {
 public:
  // Opens or creates <root>/<kind>_<hash> and locks it. An existing directory must hold the same
  // hparams (a different hparams.json under the same hash is refused rather than mixed); one
  // another process holds is refused with its pid. A process that writes no files (io/atomic_file.h)
  // only names it.
  static RunDir open(const std::string& root, const std::string& kind, const std::string& hash,
                     const nlohmann::json& hparams);
  // A directory to read (no lock).
  explicit RunDir(std::string path) : path_(std::move(path)) {}

  const std::string& path() const { return path_; }
  std::string file(const std::string& name) const { return path_ + "/" + name; }
  bool exists(const std::string& name) const;

  bool finished() const;  // summary.json exists and says "finished": true
  nlohmann::json read_summary() const;
  void write_summary(const nlohmann::json& summary) const;  // atomic

  void append_metrics(const nlohmann::json& row) const;
  // Drops metric rows with "step" > step (and any torn last line): called when resuming from a
  // checkpoint at `step` so metrics.jsonl never holds rows from work that is being redone.
  void truncate_metrics_after(int64_t step) const;

  class Lock;  // the flock, shared by this process's RunDirs of one directory

  // Removes the run directories this process created that still hold nothing but their
  // hparams.json (a command that failed before doing any work leaves no debris). Called on the
  // error paths of the command line.
  static void remove_unused_created();

 private:
  std::string path_;
  std::shared_ptr<const Lock> lock_;
};

}  // namespace bmc::io
