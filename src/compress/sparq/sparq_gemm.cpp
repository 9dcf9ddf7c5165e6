#include "compress/sparq/sparq_gemm.h"

#include <algorithm>
#include <array>
#include <cstring>

#include "core/error.h"
#include "core/vector_loops.h"
#include "kernels/sparq.cuh"

namespace bmc::compress {
namespace {

using Lut = std::array<uint8_t, 256>;

Lut window_lut(const BitWindow& w) {
  Lut lut{};
  for (int a = 0; a < 256; ++a) lut[a] = static_cast<uint8_t>(bit_window_value_masked(a, w));
  return lut;
}

// The pair rule through the tables: both non-zero -> n-bit windows, else the survivor's 2n-bit one
// (lone[0] == 0). One 512-entry table indexed by [both non-zero][code] keeps it branch-free.
struct PairLuts {
  Lut solo, lone;
  std::array<uint8_t, 512> pair{};
  explicit PairLuts(const BitWindow& w) : solo(window_lut(w)), lone(window_lut(sparq_survivor_window(w))) {
    for (int a = 0; a < 256; ++a) {
      pair[a] = lone[a];
      pair[256 + a] = solo[a];
    }
  }
  void apply(uint8_t a1, uint8_t a2, uint8_t& h1, uint8_t& h2) const {
    const int both = (a1 != 0) & (a2 != 0);
    h1 = pair[both * 256 + a1];
    h2 = pair[both * 256 + a2];
  }
};

// The 6 two-position patterns of a group of 4, in slot order; slots 12..15 hold the lone values.
constexpr int kPairs[6][2] = {{0, 1}, {0, 2}, {0, 3}, {1, 2}, {1, 3}, {2, 3}};
constexpr int kStcSlots = 16;

int pattern_of(int lo, int hi) {
  for (int p = 0; p < 6; ++p)
    if (kPairs[p][0] == lo && kPairs[p][1] == hi) return p;
  return -1;
}

// Rows of A transformed by `mode` into `out` (k_out columns per row).
BMC_VECTOR_LOOPS void transform_rows(const uint8_t* a, int64_t rows, int64_t k, SparqMode mode, const PairLuts& luts, uint8_t* out) {
  switch (mode) {
    case SparqMode::Exact: std::copy(a, a + rows * k, out); return;
    case SparqMode::Window:
#pragma omp parallel for schedule(static)
      for (int64_t i = 0; i < rows * k; ++i) out[i] = luts.solo[a[i]];
      return;
    case SparqMode::Pairs:
#pragma omp parallel for schedule(static)
      for (int64_t r = 0; r < rows; ++r) {
        const uint8_t* ar = a + r * k;
        uint8_t* orow = out + r * k;
        for (int64_t t = 0; t + 1 < k; t += 2) luts.apply(ar[t], ar[t + 1], orow[t], orow[t + 1]);
        if (k % 2) orow[k - 1] = luts.lone[ar[k - 1]];
      }
      return;
    case SparqMode::Stc: {
      const int64_t groups = (k + 3) / 4;
#pragma omp parallel for schedule(static)
      for (int64_t r = 0; r < rows; ++r) {
        const uint8_t* ar = a + r * k;
        uint8_t* orow = out + r * groups * kStcSlots;
        for (int64_t g = 0; g < groups; ++g) {
          uint8_t v[4] = {0, 0, 0, 0};
          for (int q = 0; q < 4 && 4 * g + q < k; ++q) v[q] = ar[4 * g + q];
          uint8_t* slots = orow + g * kStcSlots;
          for (int p = 0; p < 6; ++p) luts.apply(v[kPairs[p][0]], v[kPairs[p][1]], slots[2 * p], slots[2 * p + 1]);
          for (int q = 0; q < 4; ++q) slots[12 + q] = luts.lone[v[q]];
        }
      }
      return;
    }
  }
}

// Each weight group's codes at the slots of its pattern (the first two non-zero positions).
BMC_VECTOR_LOOPS std::vector<int8_t> expand_stc_weights(const int8_t* b, int64_t o, int64_t k) {
  const int64_t groups = (k + 3) / 4;
  std::vector<int8_t> out(static_cast<size_t>(o * groups * kStcSlots), 0);
  for (int64_t j = 0; j < o; ++j)
    for (int64_t g = 0; g < groups; ++g) {
      int pos[2] = {-1, -1}, n = 0;
      for (int q = 0; q < 4 && 4 * g + q < k; ++q)
        if (b[j * k + 4 * g + q] != 0 && n < 2) pos[n++] = q;
      int8_t* slots = out.data() + (j * groups + g) * kStcSlots;
      if (n == 2) {
        const int p = pattern_of(pos[0], pos[1]);
        slots[2 * p] = b[j * k + 4 * g + pos[0]];
        slots[2 * p + 1] = b[j * k + 4 * g + pos[1]];
      } else if (n == 1) {
        slots[12 + pos[0]] = b[j * k + 4 * g + pos[0]];
      }
    }
  return out;
}

}  // namespace

const char* sparq_mode_name(SparqMode mode) {
  switch (mode) {
    case SparqMode::Exact: return "exact";
    case SparqMode::Window: return "bsparq";
    case SparqMode::Pairs: return "vsparq";
    case SparqMode::Stc: return "vsparq-stc";
  }
  return "?";
}

namespace {

int group_nonzeros(const int8_t* row, int64_t k, int64_t g) {
  int nonzero = 0;
  for (int q = 0; q < 4 && 4 * g + q < k; ++q) nonzero += row[4 * g + q] != 0;
  return nonzero;
}

}  // namespace

bool two_of_four(const int8_t* b, int64_t o, int64_t k) {
  for (int64_t j = 0; j < o; ++j)
    for (int64_t g = 0; 4 * g < k; ++g)
      if (group_nonzeros(b + j * k, k, g) > 2) return false;
  return true;
}

void check_two_of_four(const int8_t* b, int64_t o, int64_t k, const std::string& what) {
  for (int64_t j = 0; j < o; ++j)
    for (int64_t g = 0; 4 * g < k; ++g) {
      const int nonzero = group_nonzeros(b + j * k, k, g);
      BMC_CHECK(nonzero <= 2, what, ": STC needs at most 2 non-zero weights in every group of 4 along K; output ", j,
                ", K positions ", 4 * g, "..", std::min(4 * g + 3, k - 1), " hold ", nonzero,
                " (prune the checkpoint with bmc prune --pattern 2:4 first)");
    }
}

void sparq_gemm_reference(const uint8_t* a, const int8_t* b, int32_t* c, int64_t m, int64_t k, int64_t o,
                          SparqMode mode, const BitWindow& window) {
  if (mode == SparqMode::Stc) check_two_of_four(b, o, k, "sparq_gemm_reference");
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < m; ++i) {
    const uint8_t* ar = a + i * k;
    for (int64_t j = 0; j < o; ++j) {
      const int8_t* br = b + j * k;
      int32_t acc = 0;
      switch (mode) {
        case SparqMode::Exact:
          for (int64_t t = 0; t < k; ++t) acc += ar[t] * br[t];
          break;
        case SparqMode::Window:
          for (int64_t t = 0; t < k; ++t) acc += bit_window_value(ar[t], window) * br[t];
          break;
        case SparqMode::Pairs:
          for (int64_t t = 0; t < k; t += 2)
            acc += t + 1 < k ? sparq_pair_dot(ar[t], ar[t + 1], br[t], br[t + 1], window)
                             : sparq_pair_dot(ar[t], 0, br[t], 0, window);
          break;
        case SparqMode::Stc:
          for (int64_t t = 0; t < k; t += 4) {
            uint8_t ga[4] = {0, 0, 0, 0};
            int8_t gb[4] = {0, 0, 0, 0};
            for (int q = 0; q < 4 && t + q < k; ++q) {
              ga[q] = ar[t + q];
              gb[q] = br[t + q];
            }
            sparq_stc_group(ga, gb, window, acc);
          }
          break;
      }
      c[i * o + j] = acc;
    }
  }
}

void sparq_gemm(const uint8_t* a, const int8_t* b, int32_t* c, int64_t m, int64_t k, int64_t o, SparqMode mode,
                const BitWindow& window, IntGemmPath path) {
  const PairLuts luts(window);
  std::vector<int8_t> b_stc;
  int64_t k_out = k;
  const int8_t* bw = b;
  if (mode == SparqMode::Stc) {
    check_two_of_four(b, o, k, "sparq_gemm");
    b_stc = expand_stc_weights(b, o, k);
    k_out = (k + 3) / 4 * kStcSlots;
    bw = b_stc.data();
  }
  if (mode == SparqMode::Exact) return int_gemm_u8s8(a, bw, c, m, k, o, path);
  // Chunks of rows bound the transformed copy of A (Stc makes it 4x larger).
  const int64_t chunk = std::max<int64_t>(64, (int64_t{16} << 20) / std::max<int64_t>(1, k_out));
  std::vector<uint8_t> buf(static_cast<size_t>(std::min(m, chunk) * k_out));
  for (int64_t r0 = 0; r0 < m; r0 += chunk) {
    const int64_t rows = std::min(chunk, m - r0);
    transform_rows(a + r0 * k, rows, k, mode, luts, buf.data());
    int_gemm_u8s8(buf.data(), bw, c + r0 * o, rows, k_out, o, path);
  }
}

BMC_VECTOR_LOOPS std::vector<uint8_t> act_codes_nhwc(const float* x, int64_t n, int64_t c, int64_t h, int64_t w, float step, int bits) {
  std::vector<uint8_t> out(static_cast<size_t>(n * c * h * w));
#pragma omp parallel for collapse(2) schedule(static)
  for (int64_t img = 0; img < n; ++img)
    for (int64_t ch = 0; ch < c; ++ch) {
      const float* src = x + (img * c + ch) * h * w;
      uint8_t* dst = out.data() + img * h * w * c + ch;
      for (int64_t p = 0; p < h * w; ++p) dst[p * c] = static_cast<uint8_t>(sparq_act_code(src[p], step, bits));
    }
  return out;
}

BMC_VECTOR_LOOPS std::vector<uint8_t> im2col_tap_major(const uint8_t* x, int64_t n, int64_t c, int64_t h, int64_t w, int64_t kh,
                                      int64_t kw, const ops::Conv2dParams& p, int64_t& oh, int64_t& ow) {
  oh = (h + 2 * p.pad_h - kh) / p.stride_h + 1;
  ow = (w + 2 * p.pad_w - kw) / p.stride_w + 1;
  const int64_t k = kh * kw * c;
  std::vector<uint8_t> a(static_cast<size_t>(n * oh * ow * k), 0);
#pragma omp parallel for collapse(2) schedule(static)
  for (int64_t img = 0; img < n; ++img)
    for (int64_t y = 0; y < oh; ++y)
      for (int64_t xo = 0; xo < ow; ++xo) {
        uint8_t* row = a.data() + ((img * oh + y) * ow + xo) * k;
        for (int64_t r = 0; r < kh; ++r) {
          const int64_t iy = y * p.stride_h - p.pad_h + r;
          if (iy < 0 || iy >= h) continue;
          for (int64_t s = 0; s < kw; ++s) {
            const int64_t ix = xo * p.stride_w - p.pad_w + s;
            if (ix < 0 || ix >= w) continue;
            std::memcpy(row + (r * kw + s) * c, x + ((img * h + iy) * w + ix) * c, static_cast<size_t>(c));
          }
        }
      }
  return a;
}

std::vector<int8_t> weights_tap_major(const std::vector<int8_t>& codes, int64_t o, int64_t c, int64_t r, int64_t s) {
  BMC_CHECK(static_cast<int64_t>(codes.size()) == o * c * r * s, "weights_tap_major: size mismatch");
  std::vector<int8_t> out(codes.size());
  for (int64_t j = 0; j < o; ++j)
    for (int64_t ch = 0; ch < c; ++ch)
      for (int64_t y = 0; y < r; ++y)
        for (int64_t x = 0; x < s; ++x) out[j * c * r * s + (y * s + x) * c + ch] = codes[((j * c + ch) * r + y) * s + x];
  return out;
}

}  // namespace bmc::compress
