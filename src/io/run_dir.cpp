#include "io/run_dir.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <vector>
#include <map>
#include <mutex>
#include <sstream>

#include "core/error.h"
#include "dist/communicator.h"
#include "io/provenance.h"
#include "core/log.h"
#include "io/atomic_file.h"
#include "io/json_file.h"

namespace bmc::io {

// The flock of one run directory, shared by every RunDir of this process that opened it.
class RunDir::Lock {
 public:
  explicit Lock(const std::string& dir) : path_(dir + "/.lock") {
    fd_ = ::open(path_.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    BMC_CHECK(fd_ >= 0, "cannot create the lock file ", path_, ": ", std::strerror(errno));
    if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
      char pid[32] = {0};
      const ssize_t n = ::pread(fd_, pid, sizeof(pid) - 1, 0);
      ::close(fd_);
      BMC_FAIL("another bmc process", n > 0 ? std::string(" (pid ") + pid + ")" : std::string(),
               " is running in ", dir, "; wait for it to finish or use another --out");
    }
    const std::string me = std::to_string(::getpid());
    if (::ftruncate(fd_, 0) != 0 || ::pwrite(fd_, me.data(), me.size(), 0) != static_cast<ssize_t>(me.size()))
      log_warning("could not record the pid in " + path_);
  }
  ~Lock() { ::close(fd_); }
  Lock(const Lock&) = delete;
  Lock& operator=(const Lock&) = delete;

 private:
  std::string path_;
  int fd_ = -1;
};

namespace {

// Locks held by this process, so opening a directory again shares its lock.
std::shared_ptr<const RunDir::Lock> lock_directory(const std::string& dir) {
  static std::mutex mutex;
  static std::map<std::string, std::weak_ptr<const RunDir::Lock>> held;
  const std::lock_guard<std::mutex> guard(mutex);
  const std::string key = std::filesystem::weakly_canonical(dir).string();
  if (auto lock = held[key].lock()) return lock;
  auto lock = std::make_shared<const RunDir::Lock>(dir);
  held[key] = lock;
  return lock;
}

// Temporary files of atomic writes (<name>.tmp.<pid>) whose writer died: under the lock, no live
// writer can own one.
void remove_stale_temp_files(const std::string& dir) {
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    const std::string name = entry.path().filename().string();
    const size_t at = name.rfind(".tmp.");
    if (at == std::string::npos || at + 5 >= name.size()) continue;
    if (name.find_first_not_of("0123456789", at + 5) != std::string::npos) continue;
    std::filesystem::remove(entry.path(), ec);
  }
}

}  // namespace

namespace {

std::vector<std::string>& created_run_dirs() {
  static std::vector<std::string> dirs;
  return dirs;
}

}  // namespace

void RunDir::remove_unused_created() {
  for (const std::string& path : created_run_dirs()) {
    std::error_code ec;
    bool unused = std::filesystem::is_directory(path, ec);
    for (auto it = std::filesystem::directory_iterator(path, ec); unused && !ec && it != std::filesystem::directory_iterator();
         it.increment(ec)) {
      const std::string name = it->path().filename().string();
      unused = name == "hparams.json" || name == "provenance.json" || name == ".lock";
    }
    if (unused && !ec) std::filesystem::remove_all(path, ec);
  }
  created_run_dirs().clear();
}

namespace {

// provenance.json: what created the run; a reopening (a resume, a rerun) by another build or on
// another machine is appended under "reopened_by" and announced on stderr.
void record_provenance(const RunDir& dir) {
  const std::string path = dir.file("provenance.json");
  const nlohmann::json now = provenance();
  if (!std::filesystem::exists(path)) {
    write_file_atomic(path, now.dump(2) + "\n");
    return;
  }
  nlohmann::json recorded = read_json_file(path);
  const nlohmann::json latest =
      recorded.contains("reopened_by") && !recorded["reopened_by"].empty() ? recorded["reopened_by"].back() : recorded;
  const std::vector<std::string> diff = provenance_differences(latest, now);
  if (diff.empty()) return;
  std::fprintf(stderr, "bmc: %s was made by another build or machine (%s%s); bitwise resumes need the same one\n",
               dir.path().c_str(), diff.front().c_str(), diff.size() > 1 ? ", ..." : "");
  recorded["reopened_by"].push_back(now);
  write_file_atomic(path, recorded.dump(2) + "\n");
}

}  // namespace

RunDir RunDir::open(const std::string& root, const std::string& kind, const std::string& hash,
                    const nlohmann::json& hparams) {
  BMC_CHECK(!root.empty(), "the output folder (--out) is empty");
  BMC_CHECK(!std::filesystem::exists(root) || std::filesystem::is_directory(root), "the output folder ", root,
            " exists and is not a folder");
  RunDir dir(root + "/" + kind + "_" + hash);
  if (!writes_files()) {  // a data-parallel rank other than 0: rank 0 creates and locks it
    dist::world().barrier();
    return dir;
  }
  std::error_code ec;
  const bool created = std::filesystem::create_directories(dir.path_, ec);
  BMC_CHECK(!ec, "cannot create the run directory ", dir.path_, ": ", ec.message());
  if (created) created_run_dirs().push_back(dir.path_);
  dir.lock_ = lock_directory(dir.path_);
  remove_stale_temp_files(dir.path_);
  const std::string hp = dir.file("hparams.json");
  if (std::filesystem::exists(hp)) {
    const nlohmann::json existing = read_json_file(hp);
    BMC_CHECK(existing == hparams, dir.path_, " holds a run with different hyper-parameters (hash collision?)");
  } else {
    write_file_atomic(hp, hparams.dump(2) + "\n");
  }
  record_provenance(dir);
  dist::world().barrier();  // the other ranks of a data-parallel run read it from here on
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

nlohmann::json RunDir::read_summary() const { return read_json_file(file("summary.json")); }

void RunDir::write_summary(const nlohmann::json& summary) const {
  write_file_atomic(file("summary.json"), summary.dump(2) + "\n");
}

void RunDir::append_metrics(const nlohmann::json& row) const {
  if (!writes_files()) return;
  std::ofstream out(file("metrics.jsonl"), std::ios::app);
  BMC_CHECK(out.good(), "cannot append to ", file("metrics.jsonl"));
  out << row.dump() << "\n";
  out.flush();
  BMC_CHECK(out.good(), "cannot append to ", file("metrics.jsonl"), ": ", std::strerror(errno), " (disk full?)");
}

void RunDir::truncate_metrics_after(int64_t step) const {
  if (!writes_files()) return;
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
