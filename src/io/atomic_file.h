// Atomic file writes: bytes go to a temporary file in the destination's directory, are flushed
// to disk, then renamed over the destination, so a reader (or a crash) never sees half a file.
#pragma once

#include <cstdio>
#include <string>

namespace bmc::io {

class AtomicFileWriter {
 public:
  explicit AtomicFileWriter(std::string path);
  ~AtomicFileWriter();  // removes the temporary file unless commit() succeeded
  AtomicFileWriter(const AtomicFileWriter&) = delete;
  AtomicFileWriter& operator=(const AtomicFileWriter&) = delete;

  void write(const void* data, size_t bytes);
  void write(const std::string& text) { write(text.data(), text.size()); }
  void commit();

 private:
  std::string path_;
  std::string temp_path_;
  std::FILE* file_ = nullptr;
  bool committed_ = false;
};

void write_file_atomic(const std::string& path, const std::string& contents);

// Whether this process writes files. The ranks of a data-parallel run other than 0 compute all
// that rank 0 computes but leave every file to it: their writers accept bytes and drop them.
bool writes_files();
void set_writes_files(bool on);
std::string read_file(const std::string& path);

}  // namespace bmc::io
