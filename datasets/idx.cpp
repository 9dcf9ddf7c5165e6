#include "datasets/idx.h"

#include "core/error.h"

namespace bmc::data {

IdxArray parse_idx_u8(const Bytes& bytes, int ndims, const std::string& what) {
  BMC_CHECK(bytes.size() >= 4, what, ": truncated IDX file: ", bytes.size(), " bytes, shorter than the 4-byte magic");
  BMC_CHECK(bytes[0] == 0 && bytes[1] == 0, what, ": not an IDX file (magic starts ", int(bytes[0]), " ",
            int(bytes[1]), ", expected 0 0)");
  BMC_CHECK(bytes[2] == 0x08, what, ": IDX element type 0x", std::hex, int(bytes[2]), std::dec,
            " unsupported (expected 0x08, unsigned byte)");
  BMC_CHECK(bytes[3] == ndims, what, ": IDX file has ", int(bytes[3]), " dimensions, expected ", ndims);
  const size_t header = 4 + 4 * static_cast<size_t>(ndims);
  BMC_CHECK(bytes.size() >= header, what, ": truncated IDX header: ", bytes.size(), " bytes, expected at least ",
            header);
  IdxArray out;
  uint64_t count = 1;
  for (int d = 0; d < ndims; ++d) {
    const uint32_t dim = load_be32(bytes.data() + 4 + 4 * d);
    BMC_CHECK(dim > 0, what, ": IDX dimension ", d, " is zero");
    out.dims.push_back(dim);
    count *= dim;
    BMC_CHECK(count <= (uint64_t(1) << 40), what, ": IDX dimensions too large");
  }
  BMC_CHECK(bytes.size() - header == count, what, ": IDX payload is ", bytes.size() - header,
            " bytes but the header's dimensions need ", count, bytes.size() - header < count ? " (truncated file)" : " (trailing bytes)");
  out.values.assign(bytes.begin() + static_cast<std::ptrdiff_t>(header), bytes.end());
  return out;
}

}  // namespace bmc::data
