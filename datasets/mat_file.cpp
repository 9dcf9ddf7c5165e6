#include "datasets/mat_file.h"

#include <zlib.h>

#include <cstring>

#include "core/error.h"
#include "datasets/byte_source.h"

namespace bmc::data {
namespace {

enum : uint32_t {
  miINT8 = 1, miUINT8 = 2, miINT16 = 3, miUINT16 = 4, miINT32 = 5, miUINT32 = 6, miSINGLE = 7, miDOUBLE = 9,
  miINT64 = 12, miUINT64 = 13, miMATRIX = 14, miCOMPRESSED = 15, miUTF8 = 16, miUTF16 = 17, miUTF32 = 18,
};
enum : uint8_t { mxCELL = 1, mxSTRUCT = 2, mxOBJECT = 3, mxCHAR = 4, mxSPARSE = 5 };
constexpr int kMaxDepth = 32;
constexpr uint64_t kMaxInflated = uint64_t{1} << 30;

struct Element {
  uint32_t type = 0;
  const uint8_t* data = nullptr;
  uint64_t bytes = 0;
};

class Reader {
 public:
  Reader(const uint8_t* p, uint64_t n, const std::string& what) : p_(p), n_(n), what_(what) {}
  bool done() const { return pos_ >= n_; }

  Element next() {
    BMC_CHECK(n_ - pos_ >= 8, what_, ": truncated data element");
    uint32_t type, bytes;
    std::memcpy(&type, p_ + pos_, 4);
    std::memcpy(&bytes, p_ + pos_ + 4, 4);
    Element e;
    if (type >> 16) {  // small data element: 2-byte size, 2-byte type, 4 bytes of data
      e.type = type & 0xFFFF;
      e.bytes = type >> 16;
      BMC_CHECK(e.bytes <= 4, what_, ": small data element of ", e.bytes, " bytes");
      e.data = p_ + pos_ + 4;
      pos_ += 8;
      return e;
    }
    e.type = type;
    e.bytes = bytes;
    BMC_CHECK(e.bytes <= n_ - pos_ - 8, what_, ": a data element of ", e.bytes, " bytes overruns the file");
    e.data = p_ + pos_ + 8;
    pos_ += 8 + (type == miCOMPRESSED ? e.bytes : (e.bytes + 7) / 8 * 8);
    if (pos_ > n_) pos_ = n_;
    return e;
  }

 private:
  const uint8_t* p_;
  uint64_t n_;
  const std::string& what_;
  uint64_t pos_ = 0;
};

size_t element_size(uint32_t type) {
  switch (type) {
    case miINT8: case miUINT8: case miUTF8: return 1;
    case miINT16: case miUINT16: case miUTF16: return 2;
    case miINT32: case miUINT32: case miSINGLE: case miUTF32: return 4;
    case miDOUBLE: case miINT64: case miUINT64: return 8;
    default: return 0;
  }
}

double number_at(const Element& e, uint64_t i) {
  const uint8_t* q = e.data + i * element_size(e.type);
  switch (e.type) {
    case miINT8: return static_cast<int8_t>(*q);
    case miUINT8: case miUTF8: return *q;
    case miINT16: { int16_t v; std::memcpy(&v, q, 2); return v; }
    case miUINT16: case miUTF16: { uint16_t v; std::memcpy(&v, q, 2); return v; }
    case miINT32: { int32_t v; std::memcpy(&v, q, 4); return v; }
    case miUINT32: case miUTF32: { uint32_t v; std::memcpy(&v, q, 4); return v; }
    case miSINGLE: { float v; std::memcpy(&v, q, 4); return v; }
    case miDOUBLE: { double v; std::memcpy(&v, q, 8); return v; }
    case miINT64: { int64_t v; std::memcpy(&v, q, 8); return static_cast<double>(v); }
    case miUINT64: { uint64_t v; std::memcpy(&v, q, 8); return static_cast<double>(v); }
    default: return 0;
  }
}

std::vector<uint8_t> inflate_element(const Element& e, const std::string& what) {
  std::vector<uint8_t> out(std::min<uint64_t>(e.bytes * 4 + 1024, kMaxInflated));
  z_stream z{};
  BMC_CHECK(inflateInit(&z) == Z_OK, what, ": cannot start inflating a compressed variable");
  z.next_in = const_cast<Bytef*>(e.data);
  z.avail_in = static_cast<uInt>(e.bytes);
  int rc = Z_OK;
  while (rc == Z_OK) {
    if (z.total_out == out.size()) {
      if (out.size() >= kMaxInflated) break;
      out.resize(std::min<uint64_t>(out.size() * 2, kMaxInflated));
    }
    z.next_out = out.data() + z.total_out;
    z.avail_out = static_cast<uInt>(out.size() - z.total_out);
    rc = inflate(&z, Z_NO_FLUSH);
  }
  const uint64_t produced = z.total_out;
  inflateEnd(&z);
  BMC_CHECK(rc == Z_STREAM_END, what, ": a compressed variable does not inflate (corrupt file?)");
  out.resize(produced);
  return out;
}

MatValue parse_matrix(const Element& m, std::string* name, const std::string& what, int depth);

MatValue parse_matrix(const Element& m, std::string* name, const std::string& what, int depth) {
  BMC_CHECK(depth < kMaxDepth, what, ": variables nested deeper than ", kMaxDepth);
  MatValue v;
  if (m.bytes == 0) return v;  // an empty matrix
  Reader r(m.data, m.bytes, what);
  const Element flags = r.next();
  BMC_CHECK(flags.type == miUINT32 && flags.bytes >= 8, what, ": a matrix without array flags");
  const uint8_t cls = flags.data[0];
  const Element dims = r.next();
  BMC_CHECK(dims.type == miINT32 && dims.bytes % 4 == 0 && dims.bytes >= 8, what, ": a matrix without dimensions");
  int64_t count = 1;
  for (uint64_t i = 0; i < dims.bytes / 4; ++i) {
    const int64_t d = static_cast<int64_t>(number_at(dims, i));
    BMC_CHECK(d >= 0 && d < (int64_t{1} << 31), what, ": bad dimension ", d);
    v.dims.push_back(d);
    BMC_CHECK(!__builtin_mul_overflow(count, d, &count) && count <= (int64_t{1} << 31), what, ": too many elements");
  }
  const Element nm = r.next();
  BMC_CHECK(nm.type == miINT8, what, ": a matrix without a name element");
  if (name) *name = std::string(reinterpret_cast<const char*>(nm.data), nm.bytes);
  if (cls == mxSTRUCT || cls == mxOBJECT) {
    v.kind = MatValue::Kind::Struct;
    if (cls == mxOBJECT) r.next();  // class name
    const Element len = r.next();
    BMC_CHECK(len.type == miINT32 && len.bytes == 4, what, ": a struct without its field-name length");
    const int64_t flen = static_cast<int64_t>(number_at(len, 0));
    const Element names = r.next();
    BMC_CHECK(names.type == miINT8 && flen > 0 && names.bytes % static_cast<uint64_t>(flen) == 0, what,
              ": bad struct field names");
    for (uint64_t off = 0; off < names.bytes; off += static_cast<uint64_t>(flen)) {
      const char* f = reinterpret_cast<const char*>(names.data + off);
      v.fields.emplace_back(f, strnlen(f, static_cast<size_t>(flen)));
    }
    for (int64_t e = 0; e < count; ++e) {
      std::vector<MatValue> values;
      for (size_t f = 0; f < v.fields.size(); ++f) {
        const Element sub = r.next();
        BMC_CHECK(sub.type == miMATRIX, what, ": struct field ", v.fields[f], " is not a matrix");
        values.push_back(parse_matrix(sub, nullptr, what, depth + 1));
      }
      v.elements.push_back(std::move(values));
    }
    return v;
  }
  if (cls == mxCELL) {
    v.kind = MatValue::Kind::Cell;
    for (int64_t e = 0; e < count; ++e) {
      const Element sub = r.next();
      BMC_CHECK(sub.type == miMATRIX, what, ": a cell that is not a matrix");
      v.cells.push_back(parse_matrix(sub, nullptr, what, depth + 1));
    }
    return v;
  }
  if (cls == mxSPARSE || cls > 15) return v;  // not needed here
  const Element real = r.next();
  const size_t es = element_size(real.type);
  BMC_CHECK(es > 0 && real.bytes % es == 0 && real.bytes / es == static_cast<uint64_t>(count), what,
            ": array data of ", real.bytes, " bytes for ", count, " elements");
  if (cls == mxCHAR) {
    v.kind = MatValue::Kind::Char;
    for (int64_t i = 0; i < count; ++i) {
      const double c = number_at(real, static_cast<uint64_t>(i));
      v.text.push_back(c >= 0 && c < 128 ? static_cast<char>(c) : '?');
    }
    return v;
  }
  v.kind = MatValue::Kind::Numeric;
  for (int64_t i = 0; i < count; ++i) v.numbers.push_back(number_at(real, static_cast<uint64_t>(i)));
  return v;
}

}  // namespace

const MatValue& MatValue::field(size_t element, const std::string& name) const {
  BMC_CHECK(kind == Kind::Struct && element < elements.size(), "MAT struct: no element ", element);
  for (size_t f = 0; f < fields.size(); ++f)
    if (fields[f] == name) return elements[element][f];
  BMC_FAIL("MAT struct: no field '", name, "'");
}

std::map<std::string, MatValue> read_mat_file(const std::string& path) {
  const Bytes bytes = read_file_bytes(path);
  BMC_CHECK(bytes.size() >= 128, path, ": too short for a MAT-file");
  BMC_CHECK(bytes[126] == 'I' && bytes[127] == 'M', path, ": not a little-endian level-5 MAT-file (MATLAB 7.3 "
            "HDF5 files are not supported)");
  std::map<std::string, MatValue> out;
  Reader r(bytes.data() + 128, bytes.size() - 128, path);
  while (!r.done()) {
    const Element e = r.next();
    std::vector<uint8_t> inflated;
    Element m = e;
    if (e.type == miCOMPRESSED) {
      inflated = inflate_element(e, path);
      Reader inner(inflated.data(), inflated.size(), path);
      m = inner.next();
    }
    if (m.type != miMATRIX) continue;
    std::string name;
    MatValue v = parse_matrix(m, &name, path, 0);
    out[name] = std::move(v);
  }
  return out;
}

}  // namespace bmc::data
