#include "io/zip_reader.h"

#include <zlib.h>

#include <algorithm>
#include <limits>

#include "core/error.h"

namespace bmc::io {
namespace {

constexpr uint32_t kLocalSig = 0x04034b50, kCentralSig = 0x02014b50, kEocdSig = 0x06054b50;
constexpr uint32_t kZip64EocdSig = 0x06064b50, kZip64LocatorSig = 0x07064b50;
constexpr uint64_t kMaxEntries = 1000000;

uint16_t u16(const uint8_t* p) { return static_cast<uint16_t>(p[0] | (p[1] << 8)); }
uint32_t u32(const uint8_t* p) { return u16(p) | (static_cast<uint32_t>(u16(p + 2)) << 16); }
uint64_t u64(const uint8_t* p) { return u32(p) | (static_cast<uint64_t>(u32(p + 4)) << 32); }

}  // namespace

bool looks_like_zip(const uint8_t* data, size_t size) { return size >= 4 && u32(data) == kLocalSig; }

ZipArchive::ZipArchive(const uint8_t* data, size_t size, std::string what)
    : data_(data), size_(size), what_(std::move(what)) {
  // End of central directory: the last signature whose comment reaches exactly to the end.
  BMC_CHECK(size_ >= 22, what_, ": no end-of-central-directory record (truncated zip?)");
  int64_t eocd = -1;
  const size_t lowest = size_ > 22 + 65535 ? size_ - 22 - 65535 : 0;
  for (size_t pos = size_ - 22 + 1; pos-- > lowest;) {
    if (u32(data_ + pos) == kEocdSig && pos + 22 + u16(data_ + pos + 20) == size_) {
      eocd = static_cast<int64_t>(pos);
      break;
    }
  }
  BMC_CHECK(eocd >= 0, what_, ": no end-of-central-directory record (truncated zip?)");
  const uint8_t* e = data_ + eocd;
  BMC_CHECK(u16(e + 4) == 0 && u16(e + 6) == 0 && u16(e + 8) == u16(e + 10), what_, ": multi-disk zip archives are not supported");
  uint64_t entries = u16(e + 10), cd_size = u32(e + 12), cd_offset = u32(e + 16);
  uint64_t cd_limit = static_cast<uint64_t>(eocd);
  if (eocd >= 20 && u32(data_ + eocd - 20) == kZip64LocatorSig) {
    const uint64_t z = u64(data_ + eocd - 20 + 8);
    BMC_CHECK(z + 56 <= static_cast<uint64_t>(eocd) - 20 && u32(data_ + z) == kZip64EocdSig && u64(data_ + z + 4) >= 44,
              what_, ": bad ZIP64 end-of-central-directory record");
    const uint8_t* z64 = data_ + z;
    BMC_CHECK(u32(z64 + 16) == 0 && u32(z64 + 20) == 0 && u64(z64 + 24) == u64(z64 + 32), what_,
              ": multi-disk zip archives are not supported");
    entries = u64(z64 + 32);
    cd_size = u64(z64 + 40);
    cd_offset = u64(z64 + 48);
    cd_limit = z;
  }
  BMC_CHECK(cd_offset <= cd_limit && cd_size <= cd_limit - cd_offset, what_,
            ": the central directory lies outside the file (truncated zip?)");
  BMC_CHECK(entries <= cd_size / 46 && entries <= kMaxEntries, what_, ": ", entries, " entries do not fit the central directory");

  struct Located {
    std::string name;
    ZipRecord rec;
  };
  std::vector<Located> all;
  uint64_t pos = cd_offset;
  for (uint64_t i = 0; i < entries; ++i) {
    BMC_CHECK(pos + 46 <= cd_offset + cd_size && u32(data_ + pos) == kCentralSig, what_, ": bad central directory entry ", i);
    const uint8_t* c = data_ + pos;
    const uint16_t flags = u16(c + 8), method = u16(c + 10);
    const uint16_t name_len = u16(c + 28), extra_len = u16(c + 30), comment_len = u16(c + 32);
    BMC_CHECK(pos + 46 + name_len + extra_len + comment_len <= cd_offset + cd_size, what_, ": central directory entry ", i,
              " overruns the directory");
    std::string name(reinterpret_cast<const char*>(c + 46), name_len);
    BMC_CHECK((flags & 0x41) == 0, what_, ": ", name, " is encrypted");
    BMC_CHECK(method == 0 || method == 8, what_, ": ", name, " uses compression method ", method, " (stored or deflate expected)");
    ZipRecord r;
    r.method = method;
    r.crc = u32(c + 16);
    r.compressed_size = u32(c + 20);
    r.size = u32(c + 24);
    uint64_t local = u32(c + 42);
    // ZIP64 extra: only the saturated fields, in the order size, compressed size, offset.
    for (const uint8_t* x = c + 46 + name_len; x + 4 <= c + 46 + name_len + extra_len;) {
      const uint16_t id = u16(x), len = u16(x + 2);
      BMC_CHECK(x + 4 + len <= c + 46 + name_len + extra_len, what_, ": ", name, ": extra field overruns its entry");
      if (id == 0x0001) {
        const uint8_t* f = x + 4;
        const uint8_t* end = f + len;
        auto take = [&](uint64_t& v) {
          if (v != 0xFFFFFFFFu) return;
          BMC_CHECK(f + 8 <= end, what_, ": ", name, ": short ZIP64 extra field");
          v = u64(f);
          f += 8;
        };
        take(r.size);
        take(r.compressed_size);
        take(local);
      }
      x += 4 + len;
    }
    BMC_CHECK(method != 0 || r.size == r.compressed_size, what_, ": ", name, ": stored record with different sizes");
    BMC_CHECK(local + 30 <= cd_offset && u32(data_ + local) == kLocalSig, what_, ": ", name, ": bad local header");
    const uint8_t* l = data_ + local;
    const uint16_t lname = u16(l + 26), lextra = u16(l + 28);
    BMC_CHECK(local + 30 + lname <= cd_offset && std::string(reinterpret_cast<const char*>(l + 30), lname) == name, what_,
              ": ", name, ": local header names another record");
    r.data_offset = local + 30 + lname + lextra;
    BMC_CHECK(r.data_offset <= cd_offset && r.compressed_size <= cd_offset - r.data_offset, what_, ": ", name,
              " overruns the archive (truncated zip?)");
    BMC_CHECK(!name.empty() && name.back() != '/', what_, ": entry '", name, "' is not a file");
    all.push_back({std::move(name), r});
    pos += 46 + name_len + extra_len + comment_len;
  }
  BMC_CHECK(!all.empty(), what_, ": empty zip archive");
  const size_t slash = all.front().name.find('/');
  BMC_CHECK(slash != std::string::npos && slash > 0, what_, ": entry '", all.front().name, "' is not inside a root folder");
  root_ = all.front().name.substr(0, slash + 1);
  std::vector<std::pair<uint64_t, uint64_t>> spans;
  for (Located& a : all) {
    BMC_CHECK(a.name.compare(0, root_.size(), root_) == 0 && a.name.size() > root_.size(), what_, ": entry '", a.name,
              "' lies outside the root folder ", root_);
    const std::string local = a.name.substr(root_.size());
    BMC_CHECK(records_.emplace(local, a.rec).second, what_, ": duplicate entry '", a.name, "'");
    spans.push_back({a.rec.data_offset, a.rec.data_offset + a.rec.compressed_size});
  }
  std::sort(spans.begin(), spans.end());
  for (size_t i = 1; i < spans.size(); ++i)
    BMC_CHECK(spans[i].first >= spans[i - 1].second, what_, ": overlapping records");
}

const ZipRecord& ZipArchive::record(const std::string& name) const {
  const auto it = records_.find(name);
  BMC_CHECK(it != records_.end(), what_, ": missing record ", root_, name);
  return it->second;
}

std::vector<std::string> ZipArchive::names() const {
  std::vector<std::string> out;
  for (const auto& [name, r] : records_) out.push_back(name);
  return out;
}

const uint8_t* ZipArchive::view(const std::string& name) const {
  const ZipRecord& r = record(name);
  BMC_CHECK(r.method == 0, what_, ": ", name, " is compressed");
  const uint8_t* p = data_ + r.data_offset;
  if (r.crc != 0 || r.size == 0) {
    uLong crc = ::crc32(0L, Z_NULL, 0);
    for (uint64_t done = 0; done < r.size;) {
      const uInt chunk = static_cast<uInt>(std::min<uint64_t>(r.size - done, 1u << 30));
      crc = ::crc32(crc, p + done, chunk);
      done += chunk;
    }
    BMC_CHECK(crc == r.crc, what_, ": ", name, " fails its CRC-32 check (corrupt file)");
  }
  return p;
}

std::vector<uint8_t> ZipArchive::read(const std::string& name) const {
  const ZipRecord& r = record(name);
  if (r.method == 0) {
    const uint8_t* p = view(name);
    return {p, p + r.size};
  }
  BMC_CHECK(r.size <= (uint64_t{1} << 34), what_, ": ", name, " inflates to ", r.size, " bytes");
  std::vector<uint8_t> out(r.size);
  z_stream z{};
  BMC_CHECK(inflateInit2(&z, -MAX_WBITS) == Z_OK, what_, ": cannot start inflating ", name);
  z.next_in = const_cast<Bytef*>(data_ + r.data_offset);
  z.avail_in = static_cast<uInt>(std::min<uint64_t>(r.compressed_size, std::numeric_limits<uInt>::max()));
  z.next_out = out.data();
  z.avail_out = static_cast<uInt>(std::min<uint64_t>(out.size(), std::numeric_limits<uInt>::max()));
  const int rc = inflate(&z, Z_FINISH);
  const uint64_t produced = z.total_out;
  inflateEnd(&z);
  BMC_CHECK(rc == Z_STREAM_END && produced == r.size, what_, ": ", name, " does not inflate to its recorded size");
  BMC_CHECK(::crc32(::crc32(0L, Z_NULL, 0), out.data(), static_cast<uInt>(out.size())) == r.crc, what_, ": ", name,
            " fails its CRC-32 check (corrupt file)");
  return out;
}

}  // namespace bmc::io
