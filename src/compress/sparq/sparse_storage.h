// The 2:4 compressed storage of sparse tensor-core operands (PTX ISA, "sparse matrix storage";
// ../shared/docs/algorithms/sparq.md, section 9.1): each row of an O x K matrix of 8-bit codes
// with at most two non-zeros in every aligned group of 4 keeps two values per group (K / 2 per
// row, in ascending position order) and a 4-bit metadata nibble per group (kernels/sparq.cuh's
// sparse_group_nibble: the lower kept position in the low 2 bits). Eight nibbles make one 32-bit
// metadata word, group g of a word at bits 4g..4g+3, the word size of int8 mma.sp operands.
#pragma once

#include <cstdint>
#include <vector>

namespace bmc::compress {

struct TwoOfFourRows {
  int64_t rows = 0, k = 0;          // k % 4 == 0
  std::vector<int8_t> values;       // rows x k / 2
  std::vector<uint32_t> metadata;   // rows x ceil(k / 32)
  int64_t words_per_row() const { return (k + 31) / 32; }
};

// Throws when k % 4 != 0 or a group holds more than two non-zero codes.
TwoOfFourRows compress_two_of_four(const int8_t* b, int64_t rows, int64_t k);
std::vector<int8_t> decompress_two_of_four(const TwoOfFourRows& s);

}  // namespace bmc::compress
