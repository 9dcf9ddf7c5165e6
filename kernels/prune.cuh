// Magnitude-pruning selection cores. Each prunable weight gets a unique 64-bit key
//   key = (bits(|w|) << 32) | arena_index
// where bits(|w|) is the IEEE-754 bit pattern of |w| (monotone in |w| for non-negative floats).
// Removing the `count` smallest keys among the unpruned weights removes exactly `count` weights:
// smallest |w| first, ties broken by the lower arena index, NaN counting as largest (its bits
// exceed +inf's). The k-th smallest key is found by radix selection over four 16-bit digits; the
// result is an integer, so every backend and grid shape finds the same one.
#pragma once

#include <cstdint>
#include <cstring>

#include "kernels/compat.cuh"

namespace bmc {

constexpr int kPruneDigitBits = 16;
constexpr uint32_t kPruneBins = 1u << kPruneDigitBits;
constexpr int kPrunePasses = 4;

struct PruneKey {
  uint32_t hi = 0;  // bits(|w|)
  uint32_t lo = 0;  // arena index
};

BMC_HD uint32_t magnitude_bits(float w) {
  uint32_t bits;
  memcpy(&bits, &w, sizeof(bits));
  return bits & 0x7fffffffu;  // clear the sign: the bits of |w|
}

BMC_HD bool key_less_equal(PruneKey a, PruneKey b) { return a.hi < b.hi || (a.hi == b.hi && a.lo <= b.lo); }

// Digit `pass` (0 = most significant) of a key.
BMC_HD uint32_t key_digit(PruneKey k, int pass) {
  const uint32_t word = pass < 2 ? k.hi : k.lo;
  return (pass % 2 == 0) ? (word >> kPruneDigitBits) : (word & (kPruneBins - 1));
}

// True when the digits before `pass` equal those of `prefix` (the digits selected so far).
BMC_HD bool key_has_prefix(PruneKey k, PruneKey prefix, int pass) {
  switch (pass) {
    case 0: return true;
    case 1: return (k.hi >> kPruneDigitBits) == (prefix.hi >> kPruneDigitBits);
    case 2: return k.hi == prefix.hi;
    default: return k.hi == prefix.hi && (k.lo >> kPruneDigitBits) == (prefix.lo >> kPruneDigitBits);
  }
}

// Writes digit d into position `pass` of prefix.
BMC_HD PruneKey key_with_digit(PruneKey prefix, int pass, uint32_t d) {
  if (pass == 0) prefix.hi = (prefix.hi & (kPruneBins - 1)) | (d << kPruneDigitBits);
  if (pass == 1) prefix.hi = (prefix.hi & ~(kPruneBins - 1)) | d;
  if (pass == 2) prefix.lo = (prefix.lo & (kPruneBins - 1)) | (d << kPruneDigitBits);
  if (pass == 3) prefix.lo = (prefix.lo & ~(kPruneBins - 1)) | d;
  return prefix;
}

// The new mask value: pruned weights never come back; unpruned ones survive when their key is
// above the threshold key (the largest key removed).
BMC_HD float pruned_mask(float mask, float w, uint32_t index, PruneKey threshold) {
  if (mask == 0.0f) return 0.0f;
  return key_less_equal(PruneKey{magnitude_bits(w), index}, threshold) ? 0.0f : 1.0f;
}

}  // namespace bmc
