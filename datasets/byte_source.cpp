#include "datasets/byte_source.h"

#include <zlib.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>

#include "core/error.h"

namespace bmc::data {
namespace {

struct FileCloser {
  void operator()(std::FILE* f) const { std::fclose(f); }
};

}  // namespace

Bytes read_file_bytes(const std::string& path) {
  std::unique_ptr<std::FILE, FileCloser> file(std::fopen(path.c_str(), "rb"));
  BMC_CHECK(file != nullptr, path, ": cannot open: ", std::strerror(errno));
  Bytes out;
  uint8_t chunk[1 << 16];
  for (;;) {
    const size_t got = std::fread(chunk, 1, sizeof chunk, file.get());
    out.insert(out.end(), chunk, chunk + got);
    if (got < sizeof chunk) break;
  }
  BMC_CHECK(!std::ferror(file.get()), path, ": read error: ", std::strerror(errno));
  return out;
}

bool is_gzip(const Bytes& bytes) { return bytes.size() >= 2 && bytes[0] == 0x1f && bytes[1] == 0x8b; }

Bytes gunzip(const Bytes& compressed, const std::string& what) {
  Bytes out;
  out.reserve(compressed.size() * 4);
  z_stream zs{};
  BMC_CHECK(inflateInit2(&zs, 16 + MAX_WBITS) == Z_OK, what, ": zlib initialisation failed");
  zs.next_in = const_cast<Bytef*>(compressed.data());
  zs.avail_in = static_cast<uInt>(compressed.size());
  uint8_t chunk[1 << 16];
  int status = Z_OK;
  while (true) {
    zs.next_out = chunk;
    zs.avail_out = sizeof chunk;
    status = inflate(&zs, Z_NO_FLUSH);
    out.insert(out.end(), chunk, chunk + (sizeof chunk - zs.avail_out));
    if (status == Z_STREAM_END) {
      if (zs.avail_in == 0) break;
      inflateReset(&zs);  // concatenated gzip members
      continue;
    }
    if (status != Z_OK) break;
    if (zs.avail_in == 0 && zs.avail_out != 0) {
      status = Z_BUF_ERROR;  // input ended inside the stream
      break;
    }
  }
  const std::string detail = zs.msg ? zs.msg : "";
  inflateEnd(&zs);
  BMC_CHECK(status == Z_STREAM_END, what, ": corrupt or truncated gzip data (zlib status ", status,
            detail.empty() ? "" : ": ", detail, ")");
  return out;
}

Bytes read_maybe_gzip(const std::string& path) {
  Bytes raw = read_file_bytes(path);
  return is_gzip(raw) ? gunzip(raw, path) : raw;
}

}  // namespace bmc::data
