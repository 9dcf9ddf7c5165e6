#include "io/safetensors.h"

#include <zlib.h>

#include <algorithm>
#include <cstring>
#include <nlohmann/json.hpp>

#include "io/atomic_file.h"

namespace bmc::io {
namespace {

constexpr uint64_t kMaxHeaderBytes = 100u << 20;

const char* safetensors_dtype(DType t) {
  switch (t) {
    case DType::F32: return "F32";
    case DType::I8: return "I8";
    case DType::U8: return "U8";
    case DType::I32: return "I32";
    case DType::I64: return "I64";
  }
  return "?";
}

DType parse_dtype(const std::string& s, const std::string& path, const std::string& name) {
  if (s == "F32") return DType::F32;
  if (s == "I8") return DType::I8;
  if (s == "U8") return DType::U8;
  if (s == "I32") return DType::I32;
  if (s == "I64") return DType::I64;
  BMC_FAIL(path, ": tensor '", name, "' has dtype ", s, ", which bmc does not read (F32, I8, U8, I32, I64)");
}

}  // namespace

const Tensor& SafeTensors::at(const std::string& name) const {
  auto it = tensors.find(name);
  BMC_CHECK(it != tensors.end(), "safetensors: no tensor named '", name, "'");
  return it->second;
}

namespace {

// The checksum of bmc's files: zlib's CRC-32 of the data section, in 1 GiB pieces (zlib takes
// 32-bit lengths).
constexpr const char* kChecksumKey = "bmc_data_crc32";

uint32_t crc32_of(uint32_t crc, const char* data, uint64_t n) {
  while (n > 0) {
    const uInt piece = static_cast<uInt>(std::min<uint64_t>(n, uint64_t{1} << 30));
    crc = static_cast<uint32_t>(::crc32(crc, reinterpret_cast<const Bytef*>(data), piece));
    data += piece;
    n -= piece;
  }
  return crc;
}

std::string hex32(uint32_t v) {
  char buf[9];
  std::snprintf(buf, sizeof(buf), "%08x", v);
  return buf;
}

}  // namespace

SafeTensors load_safetensors(const std::string& path) { return parse_safetensors(read_file(path), path); }

SafeTensors parse_safetensors(const std::string& bytes, const std::string& path) {
  BMC_CHECK(bytes.size() >= 8, path, ": not a safetensors file (", bytes.size(), " bytes, need at least 8)");
  uint64_t header_len = 0;
  std::memcpy(&header_len, bytes.data(), 8);
  BMC_CHECK(header_len <= kMaxHeaderBytes && 8 + header_len <= bytes.size(), path,
            ": header length ", header_len, " does not fit a ", bytes.size(), "-byte file");
  nlohmann::json header;
  try {
    header = nlohmann::json::parse(bytes.substr(8, header_len));
  } catch (const nlohmann::json::exception& e) {
    BMC_FAIL(path, ": header is not valid JSON (", e.what(), ")");
  }
  BMC_CHECK(header.is_object(), path, ": header is not a JSON object");
  const uint64_t data_start = 8 + header_len;
  const uint64_t data_len = bytes.size() - data_start;
  SafeTensors out;
  std::vector<std::pair<uint64_t, uint64_t>> ranges;
  for (auto& [name, entry] : header.items()) {
    if (name == "__metadata__") {
      BMC_CHECK(entry.is_object(), path, ": __metadata__ is not a JSON object");
      for (auto& [k, v] : entry.items())
        out.metadata[k] = v.is_string() ? v.get<std::string>() : v.dump();
      continue;
    }
    BMC_CHECK(entry.is_object() && entry.contains("dtype") && entry.contains("shape") && entry.contains("data_offsets"),
              path, ": tensor '", name, "' lacks dtype, shape or data_offsets");
    const auto& dims = entry["shape"];
    const auto& offs = entry["data_offsets"];
    BMC_CHECK(entry["dtype"].is_string(), path, ": tensor '", name, "': dtype is not a string");
    BMC_CHECK(dims.is_array() && std::all_of(dims.begin(), dims.end(), [](const auto& d) {
                return d.is_number_unsigned() || (d.is_number_integer() && d.template get<int64_t>() >= 0);
              }),
              path, ": tensor '", name, "': shape is not a list of non-negative integers");
    BMC_CHECK(offs.is_array() && offs.size() == 2 && offs[0].is_number_unsigned() && offs[1].is_number_unsigned(), path,
              ": tensor '", name, "': data_offsets is not a pair of non-negative integers");
    const DType dtype = parse_dtype(entry["dtype"].get<std::string>(), path, name);
    uint64_t elements = 1;
    for (const auto& d : dims) {
      const uint64_t v = d.template get<uint64_t>();
      BMC_CHECK(v == 0 || elements <= (uint64_t{1} << 62) / v, path, ": tensor '", name, "': shape is too large");
      elements *= v;
    }
    const Shape shape(dims.get<std::vector<int64_t>>());
    const auto offsets = offs.get<std::vector<uint64_t>>();
    BMC_CHECK(offsets[0] <= offsets[1] && offsets[1] <= data_len, path,
              ": tensor '", name, "' has data_offsets outside the ", data_len, "-byte data section");
    const uint64_t expected = elements * dtype_size(dtype);
    BMC_CHECK(offsets[1] - offsets[0] == expected, path, ": tensor '", name, "' of shape ",
              shape.str(), " needs ", expected, " bytes, the file gives ", offsets[1] - offsets[0]);
    if (expected) ranges.emplace_back(offsets[0], offsets[1]);
    Tensor t(shape, dtype);
    if (expected) std::memcpy(t.raw(), bytes.data() + data_start + offsets[0], expected);
    out.tensors.emplace(name, std::move(t));
  }
  std::sort(ranges.begin(), ranges.end());
  for (size_t i = 1; i < ranges.size(); ++i)
    BMC_CHECK(ranges[i].first >= ranges[i - 1].second, path, ": tensors overlap in the data section (bytes ",
              ranges[i].first, "..", ranges[i - 1].second, " belong to two tensors)");
  // Files bmc wrote carry a checksum of their data (a flipped byte would otherwise load silently);
  // files from elsewhere have none.
  if (const auto it = out.metadata.find(kChecksumKey); it != out.metadata.end()) {
    const std::string actual = hex32(crc32_of(0, bytes.data() + data_start, data_len));
    BMC_CHECK(actual == it->second, path, ": the data does not match its checksum (crc32 ", actual, ", recorded ",
              it->second, "): the file is corrupt; restore it, or remove it and rerun the command that wrote it");
    out.metadata.erase(it);
  }
  return out;
}

void save_safetensors(const std::string& path,
                      const std::vector<std::pair<std::string, const Tensor*>>& tensors,
                      const std::map<std::string, std::string>& metadata) {
  // Device tensors come to the host once: for the checksum and for writing.
  std::vector<Tensor> host_copies;
  std::vector<const Tensor*> hosts;
  for (const auto& [name, t] : tensors) {
    BMC_CHECK(t && t->defined(), "save_safetensors: tensor '", name, "' is undefined");
    if (t->device().is_cpu()) {
      hosts.push_back(t);
    } else {
      host_copies.push_back(t->to(Device::cpu()));
      hosts.push_back(nullptr);
    }
  }
  for (size_t i = 0, copy = 0; i < hosts.size(); ++i)
    if (!hosts[i]) hosts[i] = &host_copies[copy++];
  uint32_t crc = 0;
  for (const Tensor* h : hosts) crc = crc32_of(crc, static_cast<const char*>(h->raw()), h->nbytes());
  std::map<std::string, std::string> with_checksum = metadata;
  with_checksum[kChecksumKey] = hex32(crc);
  nlohmann::json header = nlohmann::json::object();
  header["__metadata__"] = with_checksum;
  uint64_t offset = 0;
  for (const auto& [name, t] : tensors) {
    BMC_CHECK(t && t->defined(), "save_safetensors: tensor '", name, "' is undefined");
    BMC_CHECK(!header.contains(name), "save_safetensors: duplicate tensor name '", name, "'");
    header[name] = {{"dtype", safetensors_dtype(t->dtype())},
                    {"shape", t->shape().to_vector()},
                    {"data_offsets", {offset, offset + t->nbytes()}}};
    offset += t->nbytes();
  }
  std::string text = header.dump();
  text.append((8 - text.size() % 8) % 8, ' ');  // align the data section to 8 bytes
  const uint64_t header_len = text.size();
  AtomicFileWriter writer(path);
  writer.write(&header_len, 8);
  writer.write(text);
  for (const Tensor* h : hosts) writer.write(h->raw(), h->nbytes());
  writer.commit();
}

}  // namespace bmc::io
