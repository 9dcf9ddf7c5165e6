#include "io/atomic_file.h"

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/error.h"

namespace bmc::io {

namespace {
bool process_writes = true;
}  // namespace

bool writes_files() { return process_writes; }
void set_writes_files(bool on) { process_writes = on; }

AtomicFileWriter::AtomicFileWriter(std::string path)
    : path_(std::move(path)), temp_path_(path_ + ".tmp." + std::to_string(::getpid())) {
  if (!process_writes) return;
  const auto parent = std::filesystem::path(path_).parent_path();
  if (!parent.empty()) std::filesystem::create_directories(parent);
  file_ = std::fopen(temp_path_.c_str(), "wb");
  BMC_CHECK(file_ != nullptr, "cannot create ", temp_path_, ": ", std::strerror(errno));
}

AtomicFileWriter::~AtomicFileWriter() {
  if (file_) std::fclose(file_);
  if (!committed_ && process_writes) std::remove(temp_path_.c_str());
}

void AtomicFileWriter::write(const void* data, size_t bytes) {
  if (!process_writes) return;
  BMC_CHECK(file_ && !committed_, "write to a closed file ", path_);
  if (bytes == 0) return;
  BMC_CHECK(std::fwrite(data, 1, bytes, file_) == bytes, "short write to ", temp_path_, ": ",
            std::strerror(errno));
}

void AtomicFileWriter::commit() {
  if (!process_writes) return;
  BMC_CHECK(file_ && !committed_, "commit of a closed file ", path_);
  BMC_CHECK(std::fflush(file_) == 0 && ::fsync(::fileno(file_)) == 0, "cannot flush ", temp_path_,
            ": ", std::strerror(errno));
  std::fclose(file_);
  file_ = nullptr;
  BMC_CHECK(std::rename(temp_path_.c_str(), path_.c_str()) == 0, "cannot rename ", temp_path_,
            " to ", path_, ": ", std::strerror(errno));
  committed_ = true;
}

void write_file_atomic(const std::string& path, const std::string& contents) {
  AtomicFileWriter writer(path);
  writer.write(contents);
  writer.commit();
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  BMC_CHECK(in.good(), "cannot open ", path, ": ", std::strerror(errno));
  std::ostringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

}  // namespace bmc::io
