// Whole-file reads for the dataset loaders: the exact bytes of a file, transparently gunzipped
// when it starts with the gzip magic, with errors that name the file and the problem
// (missing, unreadable, truncated gzip stream).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace bmc::data {

using Bytes = std::vector<uint8_t>;

// Raw bytes of `path`; throws bmc::Error naming the file when it cannot be opened or read.
Bytes read_file_bytes(const std::string& path);
// Decompresses a gzip stream (possibly several members); `what` names the source in errors.
Bytes gunzip(const Bytes& compressed, const std::string& what);
bool is_gzip(const Bytes& bytes);
// read_file_bytes, then gunzip when the content is gzip-compressed.
Bytes read_maybe_gzip(const std::string& path);

// Big-endian u32 at offset (caller checks bounds).
inline uint32_t load_be32(const uint8_t* p) {
  return (uint32_t(p[0]) << 24) | (uint32_t(p[1]) << 16) | (uint32_t(p[2]) << 8) | uint32_t(p[3]);
}

}  // namespace bmc::data
