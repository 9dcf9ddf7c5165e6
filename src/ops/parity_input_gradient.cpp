#include "ops/parity_input_gradient.h"

#include <omp.h>

#include <algorithm>
#include <cstring>

#include "core/isa_target.h"
#include "ops/pairs.h"
#include "ops/small_gemm.h"

BMC_ISA_BEGIN
namespace bmc::ops::BMC_ISA_NS {

namespace {

// The filter rows (columns) parity a of the input takes, with the output-row shift each reads.
struct Taps {
  int count, r[2], shift[2];
};

Taps parity_taps(int a) { return a == 0 ? Taps{1, {1, 0}, {0, 0}} : Taps{2, {0, 2}, {1, 0}}; }

}  // namespace

bool parity_input_gradient_fits(const ConvGeometry& g) {
  return g.r == 3 && g.s == 3 && g.stride_h == 2 && g.stride_w == 2 && g.pad_h == 1 && g.pad_w == 1 &&
         5 * (int64_t{g.q} + 1) <= 6 * int64_t{g.q};
}

ParityInputGradient parity_input_gradient(const float* w, int k, const ConvGeometry& g) {
  ParityInputGradient pg;
  pg.k = k;
  pg.g = g;
  pg.wide = g.q + 1;
  pg.plane = (int64_t{g.p} + 1) * pg.wide;
  for (int a = 0; a < 2; ++a) {
    pg.rows[a] = (g.h - a + 1) / 2;
    pg.cols[a] = (g.w - a + 1) / 2;
  }
  for (int a = 0; a < 2; ++a)
    for (int b = 0; b < 2; ++b) {
      const int ab = 2 * a + b;
      const Taps rt = parity_taps(a), st = parity_taps(b);
      const int taps = k * rt.count * st.count;
      std::vector<int64_t>& offsets = pg.offsets[ab];
      for (int o = 0; o < k; ++o)
        for (int i = 0; i < rt.count; ++i)
          for (int j = 0; j < st.count; ++j) offsets.push_back(o * pg.plane + rt.shift[i] * pg.wide + st.shift[j]);
      // The filter (C, taps) straight into panels of 8 channels (ops/small_gemm.h's layout): a
      // panel's taps of one output channel read 8 x 9 consecutive weights. By all threads for
      // large filters: built by one, with the other waiting, it was 40% of ImageNet ResNets'
      // 256 -> 512 input gradient at batch 8.
      pg.panels[ab].assign(static_cast<size_t>(gemm_panels_size(g.c, taps)), 0.0f);
      float* panels = pg.panels[ab].data();
      const int panel_count = (g.c + kGemmPanelRows - 1) / kGemmPanelRows;
#pragma omp parallel for schedule(static) if (int64_t{g.c} * taps >= (int64_t{1} << 16) && !omp_in_parallel())
      for (int p = 0; p < panel_count; ++p) {
        const int c0 = p * kGemmPanelRows, lanes = std::min(kGemmPanelRows, g.c - c0);
        for (int o = 0; o < k; ++o)
          for (int i = 0; i < rt.count; ++i)
            for (int j = 0; j < st.count; ++j) {
              float* out = panels + (int64_t{p} * taps + (o * rt.count + i) * st.count + j) * kGemmPanelRows;
              const float* in = w + (int64_t{o} * g.c + c0) * 9 + rt.r[i] * 3 + st.r[j];
              for (int lane = 0; lane < lanes; ++lane) out[lane] = in[lane * 9];
            }
      }
      // Row i of the parity at column i * wide.
      pg.columns[ab] = pg.rows[a] > 0 && pg.cols[b] > 0 ? (pg.rows[a] - 1) * pg.wide + pg.cols[b] : 0;
    }
  return pg;
}

void parity_input_gradient_image(float* dx, const float* dy, const ParityInputGradient& pg) {
  const ConvGeometry& g = pg.g;
  thread_local std::vector<float> padded, products;
  padded.assign(static_cast<size_t>(pg.k * pg.plane), 0.0f);
  for (int o = 0; o < pg.k; ++o)
    for (int p = 0; p < g.p; ++p)
      std::memcpy(padded.data() + o * pg.plane + p * pg.wide, dy + (int64_t{o} * g.p + p) * g.q, sizeof(float) * g.q);
  int64_t at[4], size = 0;
  for (int ab = 0; ab < 4; ++ab) {
    at[ab] = size;
    size += int64_t{g.c} * pg.columns[ab];
  }
  products.resize(static_cast<size_t>(size));
  for (int ab = 0; ab < 4; ++ab)
    if (pg.columns[ab] > 0)
      small_gemm_rows(g.c, pg.columns[ab], static_cast<int64_t>(pg.offsets[ab].size()), pg.panels[ab].data(),
                      padded.data(), pg.offsets[ab].data(), products.data() + at[ab], pg.columns[ab], false);
  // Row h = 2i + a of channel c: its even pixels from parity (a, 0), its odd ones from (a, 1).
  for (int c = 0; c < g.c; ++c)
    for (int h = 0; h < g.h; ++h) {
      const int a = h % 2;
      const int64_t row = (h / 2) * pg.wide;
      merge_pairs(dx + (int64_t{c} * g.h + h) * g.w, products.data() + at[2 * a] + c * pg.columns[2 * a] + row,
                  products.data() + at[2 * a + 1] + c * pg.columns[2 * a + 1] + row, g.w);
    }
}

}  // namespace bmc::ops::BMC_ISA_NS
BMC_ISA_END
