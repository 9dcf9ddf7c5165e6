#include "compress/sparq/sparse_storage.h"

#include "compress/sparq/sparq_gemm.h"
#include "core/error.h"
#include "kernels/sparq.cuh"

namespace bmc::compress {

TwoOfFourRows compress_two_of_four(const int8_t* b, int64_t rows, int64_t k) {
  BMC_CHECK(k % 4 == 0, "2:4 storage needs K a multiple of 4, got ", k);
  check_two_of_four(b, rows, k, "2:4 storage");
  TwoOfFourRows s;
  s.rows = rows;
  s.k = k;
  s.values.resize(static_cast<size_t>(rows * k / 2));
  s.metadata.assign(static_cast<size_t>(rows * s.words_per_row()), 0u);
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t g = 0; g < k / 4; ++g) {
      const int8_t* group = b + r * k + 4 * g;
      const int nibble = sparse_group_nibble(group);
      s.values[(r * k + 4 * g) / 2] = group[sparse_meta_lo(nibble)];
      s.values[(r * k + 4 * g) / 2 + 1] = group[sparse_meta_hi(nibble)];
      s.metadata[r * s.words_per_row() + g / 8] |= static_cast<uint32_t>(nibble) << (4 * (g % 8));
    }
  return s;
}

std::vector<int8_t> decompress_two_of_four(const TwoOfFourRows& s) {
  std::vector<int8_t> b(static_cast<size_t>(s.rows * s.k), 0);
  for (int64_t r = 0; r < s.rows; ++r)
    for (int64_t g = 0; g < s.k / 4; ++g) {
      const int nibble = static_cast<int>((s.metadata[r * s.words_per_row() + g / 8] >> (4 * (g % 8))) & 0xF);
      b[r * s.k + 4 * g + sparse_meta_lo(nibble)] = s.values[(r * s.k + 4 * g) / 2];
      b[r * s.k + 4 * g + sparse_meta_hi(nibble)] = s.values[(r * s.k + 4 * g) / 2 + 1];
    }
  return b;
}

}  // namespace bmc::compress
