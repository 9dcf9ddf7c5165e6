#include "io/pth.h"

#include <cstring>
#include <fstream>
#include <map>
#include <set>

#include "core/error.h"
#include "io/mapped_file.h"
#include "io/pickle.h"
#include "io/zip_reader.h"

namespace bmc::io {
namespace {

using Kind = PickleValue::Kind;

constexpr uint8_t kLegacyMagic[] = {0x80, 0x02, 0x8A, 0x0A, 0x6C, 0xFC, 0x9C, 0x46, 0xF9, 0x20, 0x6A, 0xA8, 0x50, 0x19, 0x2E};

struct Storage {
  StorageKind kind;
  std::string key;
  int64_t numel = 0;
  const uint8_t* bytes = nullptr;  // set once the payload is located
};

int64_t checked_mul(int64_t a, int64_t b, const std::string& what) {
  int64_t r = 0;
  BMC_CHECK(!__builtin_mul_overflow(a, b, &r), what, ": size arithmetic overflows");
  return r;
}
int64_t checked_add(int64_t a, int64_t b, const std::string& what) {
  int64_t r = 0;
  BMC_CHECK(!__builtin_add_overflow(a, b, &r), what, ": size arithmetic overflows");
  return r;
}

float half_to_float(uint16_t h) {
  const uint32_t sign = (h & 0x8000u) << 16, exp = (h >> 10) & 0x1F, man = h & 0x3FF;
  uint32_t bits;
  if (exp == 0) {
    if (man == 0) {
      bits = sign;
    } else {  // subnormal: normalise
      int e = -1;
      uint32_t m = man;
      do {
        ++e;
        m <<= 1;
      } while ((m & 0x400) == 0);
      bits = sign | ((127 - 15 - e) << 23) | ((m & 0x3FF) << 13);
    }
  } else if (exp == 31) {
    bits = sign | 0x7F800000u | (man << 13);
  } else {
    bits = sign | ((exp + 127 - 15) << 23) | (man << 13);
  }
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

DType bmc_dtype(StorageKind k) {
  switch (k) {
    case StorageKind::F32: case StorageKind::F64: case StorageKind::F16: case StorageKind::BF16: return DType::F32;
    case StorageKind::I64: return DType::I64;
    case StorageKind::I32: case StorageKind::I16: return DType::I32;
    case StorageKind::I8: return DType::I8;
    case StorageKind::U8: case StorageKind::Bool: return DType::U8;
    case StorageKind::Untyped: return DType::U8;
  }
  return DType::F32;
}

class Loader {
 public:
  Loader(const uint8_t* data, size_t size, const std::string& path, const PthOptions& options)
      : d_(data), n_(size), options_(options), path_(path) {}
  PthStateDict run();

 private:
  int add_storage(const PersistentId& id, uint64_t at, const std::string& where);
  Tensor materialise(const PickleTensor& t, const std::string& name) const;
  int find_state_dict(const Unpickled& u, std::string& key) const;
  bool tensor_dict(const Unpickled& u, int node) const;

  const uint8_t* d_;
  size_t n_;
  PthOptions options_;
  std::string path_;
  std::vector<Storage> storages_;
  std::map<std::string, int> by_key_;
  bool big_endian_ = false;
};

int Loader::add_storage(const PersistentId& id, uint64_t at, const std::string& where) {
  BMC_CHECK(!id.key.empty() && id.key.size() <= 20 && id.key.find_first_not_of("0123456789") == std::string::npos,
            where, "+", at, ": storage key '", id.key, "' is not a decimal number");
  BMC_CHECK(id.location != "meta", where, "+", at, ": storage '", id.key, "' lives on the meta device (no data)");
  BMC_CHECK(id.numel >= 0 && id.numel <= (int64_t{1} << 50), where, "+", at, ": storage '", id.key, "' claims ", id.numel, " elements");
  if (const auto it = by_key_.find(id.key); it != by_key_.end()) {
    const Storage& s = storages_[static_cast<size_t>(it->second)];
    BMC_CHECK(s.kind == id.kind && s.numel == id.numel, where, "+", at, ": storage '", id.key,
              "' is used with two types or sizes");
    return it->second;
  }
  storages_.push_back({id.kind, id.key, id.numel, nullptr});
  by_key_[id.key] = static_cast<int>(storages_.size()) - 1;
  return static_cast<int>(storages_.size()) - 1;
}

Tensor Loader::materialise(const PickleTensor& t, const std::string& name) const {
  const std::string what = path_ + ": tensor '" + name + "'";
  const Storage& s = storages_.at(static_cast<size_t>(t.storage));
  const StorageKind kind = t.has_dtype ? t.dtype : s.kind;
  BMC_CHECK(!t.has_dtype || s.kind == StorageKind::Untyped, what, ": a typed storage with a v3 dtype");
  const int64_t elsize = static_cast<int64_t>(storage_element_size(kind));
  const int64_t storage_bytes = checked_mul(s.numel, static_cast<int64_t>(storage_element_size(s.kind)), what);
  BMC_CHECK(storage_bytes % elsize == 0, what, ": storage of ", storage_bytes, " bytes does not hold ", storage_kind_name(kind));
  const int64_t storage_numel = storage_bytes / elsize;
  BMC_CHECK(t.offset >= 0, what, ": negative storage offset");
  int64_t numel = 1, last = 0;
  for (size_t i = 0; i < t.sizes.size(); ++i) {
    BMC_CHECK(t.sizes[i] >= 0, what, ": negative size");
    BMC_CHECK(t.strides[i] >= 0, what, ": negative stride");
    numel = checked_mul(numel, t.sizes[i], what);
    if (t.sizes[i] > 0) last = checked_add(last, checked_mul(t.sizes[i] - 1, t.strides[i], what), what);
  }
  BMC_CHECK(t.sizes.size() <= static_cast<size_t>(Shape::kMaxRank), what, ": ", t.sizes.size(), " dimensions (bmc holds at most ",
            Shape::kMaxRank, ")");
  const int64_t need = numel == 0 ? t.offset : checked_add(checked_add(t.offset, last, what), 1, what);
  BMC_CHECK(need <= storage_numel, what, " needs ", need, " elements, its storage '", s.key, "' has ", storage_numel);
  const DType out_type = bmc_dtype(kind);
  Tensor out(Shape(t.sizes), out_type);
  if (numel == 0) return out;
  const uint8_t* base = s.bytes;
  std::vector<int64_t> index(t.sizes.size(), 0);
  uint8_t* dst = static_cast<uint8_t*>(out.raw());
  const size_t out_size = dtype_size(out_type);
  int64_t src = t.offset;
  for (int64_t e = 0; e < numel; ++e) {
    uint8_t raw[8];
    std::memcpy(raw, base + src * elsize, static_cast<size_t>(elsize));
    if (big_endian_)
      for (int64_t b = 0; b < elsize / 2; ++b) std::swap(raw[b], raw[elsize - 1 - b]);
    uint8_t* o = dst + static_cast<size_t>(e) * out_size;
    switch (kind) {
      case StorageKind::F32: case StorageKind::I32: case StorageKind::I64: case StorageKind::I8: case StorageKind::U8:
        std::memcpy(o, raw, out_size);
        break;
      case StorageKind::F64: {
        double d;
        std::memcpy(&d, raw, 8);
        const float f = static_cast<float>(d);
        std::memcpy(o, &f, 4);
        break;
      }
      case StorageKind::F16: {
        uint16_t h;
        std::memcpy(&h, raw, 2);
        const float f = half_to_float(h);
        std::memcpy(o, &f, 4);
        break;
      }
      case StorageKind::BF16: {
        uint16_t h;
        std::memcpy(&h, raw, 2);
        const uint32_t bits = static_cast<uint32_t>(h) << 16;
        std::memcpy(o, &bits, 4);
        break;
      }
      case StorageKind::I16: {
        int16_t v;
        std::memcpy(&v, raw, 2);
        const int32_t w = v;
        std::memcpy(o, &w, 4);
        break;
      }
      case StorageKind::Bool:
        BMC_CHECK(raw[0] <= 1, what, ": a bool byte is ", int(raw[0]));
        *o = raw[0];
        break;
      case StorageKind::Untyped:
        BMC_FAIL(what, ": an untyped storage without a dtype");
    }
    // Next source element: odometer over the sizes, last dimension fastest.
    for (size_t d = t.sizes.size(); d-- > 0;) {
      src += t.strides[d];
      if (++index[d] < t.sizes[d]) break;
      src -= t.strides[d] * t.sizes[d];
      index[d] = 0;
    }
  }
  return out;
}

bool Loader::tensor_dict(const Unpickled& u, int node) const {
  const PickleValue& v = u.at(node);
  if (v.kind != Kind::Dict || v.items.empty()) return false;
  for (size_t i = 1; i < v.items.size(); i += 2)
    if (u.at(v.items[i]).kind == Kind::Tensor) return true;
  return false;
}

int Loader::find_state_dict(const Unpickled& u, std::string& key) const {
  auto child = [&](int dict, const std::string& name) -> int {
    const PickleValue& d = u.at(dict);
    if (d.kind != Kind::Dict) return -1;
    for (size_t i = 0; i + 1 < d.items.size(); i += 2)
      if (u.at(d.items[i]).kind == Kind::Str && u.at(d.items[i]).s == name) return d.items[i + 1];
    return -1;
  };
  if (!options_.key.empty()) {
    int node = u.root;
    size_t start = 0;
    while (start <= options_.key.size()) {
      const size_t slash = options_.key.find('/', start);
      const std::string part = options_.key.substr(start, slash == std::string::npos ? std::string::npos : slash - start);
      node = child(node, part);
      BMC_CHECK(node >= 0, path_, ": no dict entry '", part, "' on the path --key ", options_.key);
      if (slash == std::string::npos) break;
      start = slash + 1;
    }
    BMC_CHECK(tensor_dict(u, node), path_, ": --key ", options_.key, " is a ", u.describe(node), ", not a dict of tensors");
    key = options_.key;
    return node;
  }
  const PickleValue& root = u.at(u.root);
  BMC_CHECK(root.kind == Kind::Dict, path_, ": the checkpoint holds a ", u.describe(u.root), ", not a dict");
  bool all_tensors = !root.items.empty();
  for (size_t i = 1; i < root.items.size(); i += 2) all_tensors = all_tensors && u.at(root.items[i]).kind == Kind::Tensor;
  if (all_tensors) return u.root;
  for (const char* name : {"state_dict", "model_state_dict", "model"}) {
    const int c = child(u.root, name);
    if (c >= 0 && tensor_dict(u, c)) {
      key = name;
      return c;
    }
  }
  std::string listing;
  for (size_t i = 0; i + 1 < root.items.size(); i += 2) {
    const PickleValue& k = u.at(root.items[i]);
    listing += (i ? ", " : "") + (k.kind == Kind::Str ? k.s : u.describe(root.items[i])) + ": " + u.describe(root.items[i + 1]);
  }
  BMC_FAIL(path_, ": no state dict found (top-level keys: ", listing, "); give its path with --key");
}

PthStateDict Loader::run() {
  const uint8_t* d = d_;
  const size_t n = n_;
  BMC_CHECK(n > 0, path_, ": empty file, not a torch.save checkpoint");
  BMC_CHECK(!(n > 262 && std::memcmp(d + 257, "ustar", 5) == 0), path_,
            ": an old tar-format PyTorch checkpoint; load it in PyTorch and save it again");
  PthStateDict out;
  UnpickleOptions uo;
  uo.lenient_globals = options_.lenient_globals;
  Unpickled u;
  if (looks_like_zip(d, n)) {
    out.format = "zip";
    const ZipArchive zip(d, n, path_);
    BMC_CHECK(!zip.has("constants.pkl"), path_, ": a TorchScript archive, not a torch.save checkpoint");
    BMC_CHECK(zip.has("data.pkl"), path_, ": no ", zip.root(), "data.pkl record (not a torch.save checkpoint)");
    const std::string vname = zip.has(".data/version") ? ".data/version" : "version";
    BMC_CHECK(zip.has(vname), path_, ": missing version record");
    std::vector<uint8_t> v = zip.read(vname);
    std::string version(v.begin(), v.end());
    if (!version.empty() && version.back() == '\n') version.pop_back();
    BMC_CHECK(!version.empty() && version.size() <= 2 && version.find_first_not_of("0123456789") == std::string::npos &&
                  std::stoi(version) >= 1 && std::stoi(version) <= 10,
              path_, ": unsupported archive version '", version, "'");
    if (zip.has("byteorder")) {
      const std::vector<uint8_t> b = zip.read("byteorder");
      const std::string order(b.begin(), b.end());
      BMC_CHECK(order == "little" || order == "big", path_, ": byteorder record holds '", order, "'");
      big_endian_ = order == "big";
    }
    const std::vector<uint8_t> pkl = zip.read("data.pkl");
    const std::string where = path_ + ": " + zip.root() + "data.pkl";
    u = unpickle(pkl.data(), pkl.size(), where,
                 [&](const PersistentId& id, uint64_t at) { return add_storage(id, at, where); }, uo);
    for (Storage& s : storages_) {
      const std::string rec = "data/" + s.key;
      BMC_CHECK(zip.has(rec), path_, ": missing record ", zip.root(), rec, " for storage '", s.key, "'");
      const uint64_t want = static_cast<uint64_t>(checked_mul(s.numel, static_cast<int64_t>(storage_element_size(s.kind)), path_));
      BMC_CHECK(zip.record(rec).size == want, path_, ": ", rec, " has ", zip.record(rec).size, " bytes, expected ", want);
      BMC_CHECK(zip.record(rec).method == 0, path_, ": ", rec, " is compressed (torch stores storages uncompressed)");
      s.bytes = zip.view(rec);
    }
  } else {
    BMC_CHECK(n >= sizeof(kLegacyMagic) && std::memcmp(d, kLegacyMagic, sizeof(kLegacyMagic)) == 0, path_,
              ": not a torch.save checkpoint (neither a zip archive nor a pickle stream with PyTorch's magic number)");
    out.format = "legacy";
    size_t pos = sizeof(kLegacyMagic);
    const auto no_storage = [&](const PersistentId&, uint64_t at) -> int {
      BMC_FAIL(path_, "+", at, ": a storage outside the main pickle");
    };
    const Unpickled protocol = unpickle(d + pos, n - pos, path_ + ": protocol pickle", no_storage);
    BMC_CHECK(protocol.at(protocol.root).kind == Kind::Int && protocol.at(protocol.root).i == 1001, path_,
              ": legacy protocol version is not 1001");
    pos += protocol.end;
    pos += unpickle(d + pos, n - pos, path_ + ": system-info pickle", no_storage).end;
    uo.legacy_pids = true;
    const std::string where = path_ + ": main pickle";
    const size_t main_at = pos;
    u = unpickle(d + pos, n - pos, where, [&](const PersistentId& id, uint64_t at) { return add_storage(id, at + main_at, where); },
                 uo);
    pos += u.end;
    const Unpickled keys = unpickle(d + pos, n - pos, path_ + ": storage key list", no_storage);
    pos += keys.end;
    const PickleValue& list = keys.at(keys.root);
    BMC_CHECK(list.kind == Kind::List, path_, ": the storage key list is not a list");
    for (const int k : list.items) {
      BMC_CHECK(keys.at(k).kind == Kind::Str, path_, ": a storage key is not a string");
      const auto it = by_key_.find(keys.at(k).s);
      BMC_CHECK(it != by_key_.end(), path_, ": storage '", keys.at(k).s, "' is listed but never used");
      Storage& s = storages_[static_cast<size_t>(it->second)];
      BMC_CHECK(n - pos >= 8, path_, ": truncated before storage '", s.key, "'");
      int64_t count;
      std::memcpy(&count, d + pos, 8);
      pos += 8;
      BMC_CHECK(count == s.numel, path_, ": storage '", s.key, "' holds ", count, " elements, its id says ", s.numel);
      const uint64_t bytes = static_cast<uint64_t>(checked_mul(s.numel, static_cast<int64_t>(storage_element_size(s.kind)), path_));
      BMC_CHECK(bytes <= n - pos, path_, ": storage '", s.key, "' runs past the end of the file (truncated?)");
      s.bytes = d + pos;
      pos += bytes;
    }
    for (const Storage& s : storages_) BMC_CHECK(s.bytes != nullptr, path_, ": storage '", s.key, "' has no data");
  }
  const int sd = find_state_dict(u, out.key);
  const PickleValue& dict = u.at(sd);
  std::set<std::string> seen;
  for (size_t i = 0; i + 1 < dict.items.size(); i += 2) {
    const PickleValue& k = u.at(dict.items[i]);
    const PickleValue& v = u.at(dict.items[i + 1]);
    BMC_CHECK(k.kind == Kind::Str, path_, ": a state dict key is a ", u.describe(dict.items[i]));
    BMC_CHECK(v.kind != Kind::Opaque, path_, ": state dict entry '", k.s, "' is ", v.s, " (not a tensor)");
    if (v.kind != Kind::Tensor) {
      out.notes.push_back("skipped '" + k.s + "' (" + u.describe(dict.items[i + 1]) + ")");
      continue;
    }
    BMC_CHECK(seen.insert(k.s).second, path_, ": duplicate state dict key '", k.s, "'");
    out.tensors.emplace_back(k.s, materialise(u.tensors.at(static_cast<size_t>(v.i)), k.s));
  }
  BMC_CHECK(!out.tensors.empty(), path_, ": the state dict holds no tensors");
  return out;
}

}  // namespace

bool is_pth_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  uint8_t head[4] = {};
  in.read(reinterpret_cast<char*>(head), 4);
  if (in.gcount() < 4) return false;
  return looks_like_zip(head, 4) || (head[0] == 0x80 && head[1] == 0x02 && head[2] == 0x8A);
}

PthStateDict load_pth(const std::string& path, const PthOptions& options) {
  const MappedFile file(path);
  return load_pth_bytes(file.data(), file.size(), path, options);
}

PthStateDict load_pth_bytes(const uint8_t* data, size_t size, const std::string& what, const PthOptions& options) {
  return Loader(data, size, what, options).run();
}

}  // namespace bmc::io
