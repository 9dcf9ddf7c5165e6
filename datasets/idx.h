// The IDX format of MNIST and Fashion-MNIST: magic 0x00 0x00 <type> <ndims>, then ndims
// big-endian u32 dimensions, then the row-major data. bmc reads only unsigned-byte data (type 0x08).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "datasets/byte_source.h"

namespace bmc::data {

struct IdxArray {
  std::vector<int64_t> dims;
  Bytes values;  // u8, product(dims) of them
};

// Parses an (already decompressed) IDX buffer expected to have `ndims` dimensions. Checks the
// magic, the type, the header length and that the payload length is exactly product(dims);
// errors name `what` (the file).
IdxArray parse_idx_u8(const Bytes& bytes, int ndims, const std::string& what);

}  // namespace bmc::data
