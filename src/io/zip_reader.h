// The zip archives torch.save writes (since PyTorch 1.6): stored records under one root folder,
// ZIP64 when large. The reader validates the whole directory before anything is read (single
// disk, stored or deflated records, sizes from the central directory, no overlaps, one root,
// CRC-32 when recorded) and never writes to disk. Layout details:
// ../shared/docs/formats/pth.md section 1.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace bmc::io {

struct ZipRecord {
  uint64_t data_offset = 0;  // into the archive bytes
  uint64_t size = 0;         // uncompressed
  uint64_t compressed_size = 0;
  uint16_t method = 0;       // 0 stored, 8 deflate
  uint32_t crc = 0;
};

class ZipArchive {
 public:
  // `what` names the file in errors. Throws bmc::Error on any inconsistency.
  ZipArchive(const uint8_t* data, size_t size, std::string what);

  const std::string& root() const { return root_; }  // "name/" of the first entry
  // Records by name below the root ("data.pkl", "data/0", "version").
  bool has(const std::string& name) const { return records_.count(name) > 0; }
  const ZipRecord& record(const std::string& name) const;
  std::vector<std::string> names() const;
  // The bytes of a record: a view into the archive for stored records, inflated for deflated ones.
  std::vector<uint8_t> read(const std::string& name) const;
  const uint8_t* view(const std::string& name) const;  // stored records only

 private:
  const uint8_t* data_;
  size_t size_;
  std::string what_;
  std::string root_;
  std::map<std::string, ZipRecord> records_;
};

// True when the bytes start like a zip archive.
bool looks_like_zip(const uint8_t* data, size_t size);

}  // namespace bmc::io
