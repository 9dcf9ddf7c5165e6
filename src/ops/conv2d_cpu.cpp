// conv2d on the CPU, built once per instruction set (core/cpu_isa.h).
//
// CPU strategy: OpenMP splits the batch across threads; each thread turns one image at a time
// into a column matrix in its own scratch buffer (from the memory pool) and runs single-threaded
// GEMMs on it (see ops/blas_threads.h for why not threaded BLAS inside OpenMP). One image's
// column matrix is at most a few hundred KiB for ResNet-sized layers, so it stays in L2 between
// im2col and the GEMM. 1x1 convolutions with stride 1 and no padding use the image itself as the
// column matrix. With fewer images than threads the loop runs serially and BLAS keeps its threads.
// The forward and input-gradient GEMMs (few output rows, many pixels) run on our register-blocked
// kernel with the filter packed once per call (ops/small_gemm.h); stride-1 convolutions read the
// taps straight from a padded image, and their input gradient is itself such a convolution (no
// col2im). 3x3 stride-1 convolutions with padding 1 and enough channels run both as Winograd's
// F(4x4, 3x3) or F(2x2, 3x3) instead (ops/winograd.h: 4x and 2.25x fewer multiplies; which one
// by channels and row length); their filter gradient runs in F(2x2, 3x3)'s domain too. The input
// gradient of 3x3 stride-2 layers is four stride-1 products, one per parity of the input pixel
// (ops/parity_input_gradient.h). Other filter gradients, whose inner dimension is the pixels,
// read the rows of each filter row's taps in place from a channels-last copy of the image.
#include "ops/conv2d_cpu.h"

#include <cblas.h>
#include <omp.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include "core/isa_target.h"
#include "ops/blas_threads.h"
#include "ops/im2col.h"
#include "ops/narrow_filter_gradient.h"
#include "ops/parity_input_gradient.h"
#include "ops/small_gemm.h"
#include "ops/winograd.h"

BMC_ISA_BEGIN
namespace bmc::ops::BMC_ISA_NS {

namespace {

// The fewest columns one GEMM of a convolution should have, so that its register tiles are not
// mostly tails and the per-call work is amortised.
constexpr int64_t kMinBlockColumns = 192;

// Stride-1 convolutions with our GEMM read their taps in place: if each output row is computed
// Wp = W + 2 pad_w wide, row (c, r, s) of the column matrix is the padded image's plane c shifted
// by r * Wp + s, so the GEMM reads the padded image directly (the last Wp - Q columns of every
// output row are discarded) instead of a column matrix nine times the image. On narrow images the
// discarded columns cost more than im2col saves (8x8 with padding 1: 25% more multiply-adds,
// measured slower; 16x16: 12.5%, faster), so only outputs at most 20% wider take this path.
bool reads_padded_image(const ConvGeometry& g) {
  const int wp = g.w + 2 * g.pad_w;
  return g.stride_h == 1 && g.stride_w == 1 && (g.r > 1 || g.s > 1 || g.pad_h > 0 || g.pad_w > 0) &&
         5 * wp <= 6 * g.q;
}

struct PaddedTaps {
  std::vector<int64_t> offsets;  // per tap (c, r, s), into the padded image
  int64_t wide_columns;          // (P - 1) * Wp + Q: the output rows at Wp apart
};

PaddedTaps padded_taps(const ConvGeometry& g) {
  const int64_t wp = g.w + 2 * g.pad_w, plane = (g.h + 2 * g.pad_h) * wp;
  PaddedTaps t;
  t.offsets.reserve(static_cast<size_t>(g.col_rows()));
  for (int c = 0; c < g.c; ++c)
    for (int r = 0; r < g.r; ++r)
      for (int s = 0; s < g.s; ++s) t.offsets.push_back(c * plane + r * wp + s);
  t.wide_columns = int64_t{g.p - 1} * wp + g.q;
  return t;
}

// out (K, P, Q) from the GEMM's wide output rows: channel o's row p at wide + o * columns + p * row.
void copy_wide_rows(float* out, const float* wide, int k, const ConvGeometry& g, int64_t columns, int64_t row) {
  for (int o = 0; o < k; ++o)
    for (int p = 0; p < g.p; ++p)
      std::memcpy(out + (int64_t{o} * g.p + p) * g.q, wide + o * columns + p * row, sizeof(float) * g.q);
}

// out (K, P, Q) = the stride-1 convolution of one image x (C, H, W) by the filter in `panels`.
void convolve_padded(float* out, const float* x, const float* panels, int k, const PaddedTaps& taps,
                     const ConvGeometry& g) {
  thread_local std::vector<float> wide;
  wide.resize(static_cast<size_t>(k * taps.wide_columns));
  small_gemm_rows(k, taps.wide_columns, g.col_rows(), panels, padded_image(x, g), taps.offsets.data(), wide.data(),
                  taps.wide_columns, false);
  copy_wide_rows(out, wide.data(), k, g, taps.wide_columns, g.w + 2 * g.pad_w);
}

// The input gradient of a stride-1 convolution is the stride-1 convolution of dy by the filter
// flipped in space with K and C swapped, padded R - 1 - pad (valid when pad <= R - 1).
bool input_gradient_as_convolution(const ConvGeometry& g) {
  return reads_padded_image(g) && g.pad_h <= g.r - 1 && g.pad_w <= g.s - 1;
}

ConvGeometry input_gradient_geometry(const ConvGeometry& g, int k) {
  return {k, g.p, g.q, g.r, g.s, g.h, g.w, 1, 1, g.r - 1 - g.pad_h, g.s - 1 - g.pad_w};
}

// w (K, C, R, S) -> w' (C, K, R, S) with w'[c][k][r][s] = w[k][c][R-1-r][S-1-s].
std::vector<float> flipped_filter(const float* w, int k, const ConvGeometry& g) {
  const int64_t rs = int64_t{g.r} * g.s, taps = int64_t{k} * rs;
  std::vector<float> flipped(static_cast<size_t>(g.c * taps));
#pragma omp parallel for schedule(static) if (g.c * taps >= (int64_t{1} << 16))
  for (int c = 0; c < g.c; ++c)
    for (int o = 0; o < k; ++o)
      for (int r = 0; r < g.r; ++r)
        for (int s = 0; s < g.s; ++s)
          flipped[c * taps + o * rs + r * g.s + s] = w[(int64_t{o} * g.c + c) * rs + (g.r - 1 - r) * g.s + (g.s - 1 - s)];
  return flipped;
}

// The filter gradient on our GEMM. In the padded channels-last image (Hp, Wp, C) the S*C taps
// (s, c) of filter row r that output pixel (p, q) reads are contiguous, at
// ((p stride_h + r) Wp + q stride_w) C; so for each filter row r,
//   dw_r (K, S*C) += dy_n (K, P*Q) * B_r (P*Q, S*C)
// is one GEMM over the pixels that reads the rows of B_r in place (no column matrix). dy_n is
// packed into 8-row panels per image. A thread's partial is kept (R, K, S, C) and permuted into
// (K, C, R, S) when the partials are summed. Below two vectors of taps per filter row (the 3-channel
// stem) the kernel would run mostly masked lanes: there ops/narrow_filter_gradient.h vectorizes
// over the pixels instead, and im2col + OpenBLAS is left for what that does not fit.
bool filter_gradient_in_place(const ConvGeometry& g) { return int64_t{g.s} * g.c >= 16; }

// Images per filter-gradient GEMM: one, unless the partial outgrows L2 (ImageNet ResNets' later
// layers: 4.7 MB at 512 x 256 x 3 x 3) while an image has few pixels (49 at 7x7). Each GEMM loads
// and stores the partial once, so with one image at a time the partial's traffic, not the
// multiply-adds, bound it; side by side, enough images to fill one inner block of the GEMM.
// The pixels still run image by image in order: the same chains of multiply-adds.
constexpr int64_t kPartialInCacheFloats = 256 * 1024;
constexpr int64_t kGroupPixels = 256;

int filter_gradient_group(const ConvGeometry& g, int64_t w_size) {
  if (w_size <= kPartialInCacheFloats || g.col_cols() >= kGroupPixels) return 1;
  return static_cast<int>(kGroupPixels / g.col_cols());
}

// Per filter row r, the channels-last offset of pixel j of image i of a group: (R, group * PQ),
// the images' padded channels-last copies `image_size` apart.
std::vector<int64_t> filter_row_offsets(const ConvGeometry& g, int group, int64_t image_size) {
  const int64_t wp = g.w + 2 * g.pad_w, pq = g.col_cols(), columns = group * pq;
  std::vector<int64_t> offsets(static_cast<size_t>(g.r * columns));
  for (int r = 0; r < g.r; ++r)
    for (int i = 0; i < group; ++i)
      for (int p = 0; p < g.p; ++p)
        for (int q = 0; q < g.q; ++q)
          offsets[r * columns + i * pq + int64_t{p} * g.q + q] =
              i * image_size + ((int64_t{p} * g.stride_h + r) * wp + int64_t{q} * g.stride_w) * g.c;
  return offsets;
}

// A 1x1 filter without padding at a stride reads its pixels from a channels-last copy of only
// those (sampled_channels_last): copying the whole image was a third of the 32 -> 64 shortcut's
// filter gradient. As the filter gradient of a 1x1 stride-1 convolution of that copy.
bool samples_pixels(const ConvGeometry& g) {
  return g.r == 1 && g.s == 1 && g.pad_h == 0 && g.pad_w == 0 && (g.stride_h > 1 || g.stride_w > 1);
}

ConvGeometry sampled_geometry(const ConvGeometry& g) { return {g.c, g.p, g.q, 1, 1, g.p, g.q, 1, 1, 0, 0}; }

// partial (R, K, S*C) += the filter gradient of `images` consecutive images (at most the group
// the offsets were made for), their dy side by side packed into `dy_panels`.
void accumulate_filter_gradient(float* partial, const float* x, const float* dy, int images, float* dy_panels, int k,
                                const std::vector<int64_t>& offsets, int group, const ConvGeometry& g) {
  const int64_t pq = g.col_cols(), row_taps = int64_t{g.s} * g.c, columns = images * pq;
  const int64_t x_image = int64_t{g.c} * g.h * g.w, y_image = int64_t{k} * pq;
  if (images == 1) {
    pack_gemm_panels(dy_panels, dy, k, pq, pq, 1);
  } else {
    // Image i's dy is columns [i PQ, (i + 1) PQ) of each panel.
    thread_local std::vector<float> one;
    one.resize(static_cast<size_t>(gemm_panels_size(k, pq)));
    for (int i = 0; i < images; ++i) {
      pack_gemm_panels(one.data(), dy + i * y_image, k, pq, pq, 1);
      for (int64_t p = 0; p * kGemmPanelRows < k; ++p)
        std::memcpy(dy_panels + (p * columns + i * pq) * kGemmPanelRows, one.data() + p * pq * kGemmPanelRows,
                    sizeof(float) * pq * kGemmPanelRows);
    }
  }
  const float* image = samples_pixels(g) ? sampled_channels_last(x, images, x_image, g)
                                        : padded_channels_last(x, images, x_image, g);
  for (int r = 0; r < g.r; ++r)
    small_gemm_rows(k, row_taps, columns, dy_panels, image, offsets.data() + r * group * pq, partial + r * k * row_taps,
                    row_taps, true);
}

// The backward pass splits the batch into chunks of consecutive images, each with its own
// filter-gradient partial, and hands them to the threads as they come free: a thread slowed by
// its neighbours on the machine no longer holds the other at the end. The partials are added in
// chunk order, so the result depends on the batch size and the thread count only, not on which
// thread ran what. Up to kMostChunks, as long as their partials stay within kPartialFloats (the
// last layers of ImageNet ResNets have 2.4 M weights), and never fewer than the threads.
constexpr int kMostChunks = 8;
constexpr int64_t kPartialFloats = int64_t{4} << 20;

int backward_chunks(int n, int threads, int64_t w_size) {
  const int64_t by_memory = std::clamp<int64_t>(kPartialFloats / std::max<int64_t>(w_size, 1), 1, kMostChunks);
  const int most = static_cast<int>(std::min<int64_t>(n, std::max<int64_t>(threads, by_memory)));
  // The most chunks of equal size: 8 images with room for 7 partials run as 4 chunks of 2, where
  // 7 chunks (one of 2 images) left one thread 5 images and the other 3 (a fifth of the time
  // waiting, at ImageNet ResNets' 256 channels).
  for (int chunks = most; chunks > 1; --chunks)
    if (n % chunks == 0) return chunks;
  return most;
}

// The first image of chunk i of n images in `chunks`.
int chunk_begin(int i, int chunks, int n) { return static_cast<int>(int64_t{i} * n / chunks); }

// Threads for the per-image loop: all OpenMP threads when there are enough images, else one.
int image_threads(int n) {
  const int threads = omp_get_max_threads();
  return n >= threads ? threads : 1;
}

void add_bias_rows(float* y, const float* b, int k, int pq) {
  for (int o = 0; o < k; ++o) {
    float* row = y + int64_t{o} * pq;
    for (int i = 0; i < pq; ++i) row[i] += b[o];
  }
}

// The bias, then the epilogue, on `images` consecutive outputs of k channels of pq pixels, the
// first being image n0 of the batch.
void finish_outputs(float* y, int n0, int images, const float* b, const ConvEpilogue* epilogue, int k, int pq) {
  for (int i = 0; i < images; ++i) {
    float* yi = y + int64_t{i} * k * pq;
    if (b) add_bias_rows(yi, b, k, pq);
    if (!epilogue) continue;
    const float* ri = epilogue->residual ? epilogue->residual + (int64_t{n0} + i) * k * pq : nullptr;
    for (int o = 0; o < k; ++o) {
      float* row = yi + int64_t{o} * pq;
      const ChannelAffine& t = epilogue->affine[static_cast<size_t>(o)];
      if (ri)
        batch_norm_affine_add_relu_row(row, ri + int64_t{o} * pq, pq, t);
      else
        batch_norm_affine_row(row, row, pq, t, epilogue->relu);
    }
  }
}

// The im2col path multiplies column blocks: small images (ResNet's 7x7 stage) side by side, at
// least kMinBlockColumns columns (defined above), so the tiles are not mostly tails and
// per-call work; large images in bands of output rows whose column matrix stays in L2 (the 7x7
// stem's is 7 MiB an image). On our GEMM an image whose pixels fill whole vectors of either
// width (8x8) has no tails: it is multiplied on its own, straight into y, where side by side its
// outputs were copied out after (8% of ResNet-20's 8x8 stride-2 layer). Every output element is
// the same chain of multiply-adds whatever the blocking.
constexpr int64_t kBandBytes = 256 * 1024;
constexpr int64_t kWidestVector = 16;

struct ColumnBlocking {
  int images;  // side by side in one block
  int rows;    // output rows per band (of one image)
};

// Images of pq pixels to put side by side: enough for kMinBlockColumns, at most a thread's share.
int images_side_by_side(int64_t pq, int n, int threads) {
  return static_cast<int>(std::min<int64_t>((kMinBlockColumns + pq - 1) / pq, std::max(1, n / threads)));
}

ColumnBlocking column_blocking(const ConvDims& d, int threads, ConvGemm gemm) {
  const int64_t pq = d.g.col_cols();
  const bool whole_vectors = gemm == ConvGemm::Own && pq % kWidestVector == 0;
  if (pq < kMinBlockColumns && !whole_vectors) return {images_side_by_side(pq, d.n, threads), d.g.p};
  const int64_t row_bytes = d.taps() * d.g.q * int64_t{sizeof(float)};
  return {1, static_cast<int>(std::clamp<int64_t>(kBandBytes / row_bytes, 1, d.g.p))};
}

// Images per Winograd call (ops/winograd.h): as many as its buffers hold, at most a thread's share.
int winograd_images(const ConvGeometry& g, int k, int n, int threads, int tile) {
  return std::min(winograd_images_per_call(g.c, k, g.h, g.w, tile), std::max(1, n / threads));
}

void conv2d_forward_winograd(float* y, const float* x, const float* w, const float* b, const ConvDims& d,
                             const ConvEpilogue* epilogue, int tile) {
  const int threads = image_threads(d.n);
  const WinogradFilter filter = winograd_filter(w, d.k, d.g.c, tile);
  const int group = winograd_images(d.g, d.k, d.n, threads, tile), blocks = (d.n + group - 1) / group;
#pragma omp parallel for num_threads(threads) schedule(dynamic)
  for (int block = 0; block < blocks; ++block) {
    const int n0 = block * group, images = std::min(group, d.n - n0);
    float* yn = y + n0 * d.y_image();
    winograd_convolve(yn, x + n0 * d.x_image(), images, filter, d.g.h, d.g.w);
    finish_outputs(yn, n0, images, b, epilogue, d.k, static_cast<int>(d.g.col_cols()));
  }
}

void conv2d_forward_cpu(float* y, const float* x, const float* w, const float* b, const ConvDims& d,
                        const ConvEpilogue* epilogue, ConvGemm gemm) {
  if (const int tile = gemm == ConvGemm::Own ? winograd_tile(d.g, d.k) : 0)
    return conv2d_forward_winograd(y, x, w, b, d, epilogue, tile);
  const int threads = image_threads(d.n);
  const int k = d.k, pq = static_cast<int>(d.g.col_cols()), taps = static_cast<int>(d.taps());
  const bool own_gemm = gemm == ConvGemm::Own;
  const std::vector<float> panels = own_gemm ? pack_gemm_panels(w, k, taps, taps, 1) : std::vector<float>();
  const bool in_place = own_gemm && reads_padded_image(d.g);
  const PaddedTaps padded = in_place ? padded_taps(d.g) : PaddedTaps{};
  const bool columns = !in_place && !d.pointwise();
  const ColumnBlocking blocking = columns ? column_blocking(d, threads, gemm) : ColumnBlocking{1, d.g.p};
  // Per thread: the column block and, for several images, their outputs side by side.
  const int64_t block_columns = int64_t{blocking.images} * blocking.rows * d.g.q;
  const int64_t col_size = columns ? d.taps() * block_columns : 0;
  const int64_t out_size = blocking.images > 1 ? int64_t{k} * block_columns : 0;
  Tensor scratch({threads * (col_size + out_size)});
  const BlasThreadLimit blas_limit(threads > 1 ? 1 : openblas_get_num_threads());
  // c (k x n, ldc) = w * col (taps x n, ldb)
  auto multiply = [&](int64_t n, const float* col, int64_t ldb, float* c, int64_t ldc) {
    if (own_gemm)
      small_gemm(k, n, taps, panels.data(), col, ldb, c, ldc, false);
    else
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, k, static_cast<int>(n), taps, 1.0f, w, taps, col,
                  static_cast<int>(ldb), 0.0f, c, static_cast<int>(ldc));
  };
  const int blocks = (d.n + blocking.images - 1) / blocking.images;
#pragma omp parallel for num_threads(threads) schedule(dynamic)
  for (int block = 0; block < blocks; ++block) {
    const int n0 = block * blocking.images, images = std::min(blocking.images, d.n - n0);
    const float* xn = x + n0 * d.x_image();
    float* yn = y + n0 * d.y_image();
    float* col = scratch.data<float>() + omp_get_thread_num() * (col_size + out_size);
    if (in_place) {
      convolve_padded(yn, xn, panels.data(), k, padded, d.g);
    } else if (d.pointwise()) {
      multiply(pq, xn, pq, yn, pq);
    } else if (images == 1) {
      const Im2colImage image = im2col_image(xn, d.g);
      for (int p0 = 0; p0 < d.g.p; p0 += blocking.rows) {
        const int p1 = std::min(d.g.p, p0 + blocking.rows);
        const int64_t n = int64_t{p1 - p0} * d.g.q;
        im2col_rows(col, n, image, d.g, p0, p1);
        multiply(n, col, n, yn + int64_t{p0} * d.g.q, pq);
      }
    } else {
      const int64_t n = int64_t{images} * pq;
      for (int i = 0; i < images; ++i) im2col_rows(col + i * pq, n, im2col_image(xn + i * d.x_image(), d.g), d.g, 0, d.g.p);
      float* out = col + col_size;
      multiply(n, col, n, out, n);
      for (int i = 0; i < images; ++i)
        for (int o = 0; o < k; ++o)
          std::memcpy(yn + i * d.y_image() + int64_t{o} * pq, out + o * n + i * pq, sizeof(float) * pq);
    }
    finish_outputs(yn, n0, images, b, epilogue, k, pq);
  }
}

// db[k] += sum over images and pixels of dy[n, k, :], one channel per iteration (deterministic).
void conv2d_bias_grad_cpu(float* db, const float* dy, const ConvDims& d) {
  const int64_t pq = d.g.col_cols();
#pragma omp parallel for schedule(static) if (int64_t{d.n} * d.k * pq > 65536)
  for (int o = 0; o < d.k; ++o) {
    float sum = 0.0f;
    for (int n = 0; n < d.n; ++n) {
      const float* row = dy + n * d.y_image() + o * pq;
      float image_sum = 0.0f;
      for (int64_t i = 0; i < pq; ++i) image_sum += row[i];
      sum += image_sum;
    }
    db[o] += sum;
  }
}

// dx overwritten and dw accumulated, each skipped when null. On our GEMM dw is computed filter
// row by filter row in place (accumulate_filter_gradient); on OpenBLAS transposed,
// dw^T (CRS, K) += col (CRS, PQ) * dy_n^T (PQ, K): with few output channels (16 in ResNet's
// first stage) OpenBLAS runs this shape about twice as fast as dw (K, CRS) += dy_n * col^T.
// Each chunk of images (backward_chunks) accumulates into its own partial; the partials are added
// into dw in chunk order, so the result does not depend on scheduling.
void conv2d_backward_cpu(float* dx, float* dw, const float* dy, const float* x, const float* w,
                         const ConvDims& d, ConvGemm gemm) {
  const int threads = image_threads(d.n);
  const int64_t col_size = d.taps() * d.g.col_cols(), w_size = int64_t{d.k} * d.taps();
  const int k = d.k, pq = static_cast<int>(d.g.col_cols()), taps = static_cast<int>(d.taps());
  // The input gradient of a stride-1 convolution is a convolution of dy by the flipped filter:
  // Winograd's where it suits (3x3, padding 1, enough channels), else on our GEMM from a padded
  // dy. Otherwise w^T (C*R*S, K) in panels times dy, through col2im.
  const bool own_gemm = gemm == ConvGemm::Own && dx;
  const ConvGeometry dx_geometry = input_gradient_geometry(d.g, k);
  const bool stride_one = d.g.stride_h == 1 && d.g.stride_w == 1;
  const int dx_tile = own_gemm && stride_one ? winograd_tile(dx_geometry, d.g.c) : 0;
  const bool dx_by_winograd = dx_tile > 0;
  const bool dx_by_convolution = own_gemm && !dx_by_winograd && input_gradient_as_convolution(d.g);
  const bool dx_by_parity = own_gemm && parity_input_gradient_fits(d.g);
  const ParityInputGradient parity_dx = dx_by_parity ? parity_input_gradient(w, k, d.g) : ParityInputGradient{};
  const std::vector<float> flipped =
      dx_by_convolution || dx_by_winograd ? flipped_filter(w, k, d.g) : std::vector<float>();
  const WinogradFilter dx_filter = dx_by_winograd ? winograd_filter(flipped.data(), d.g.c, k, dx_tile) : WinogradFilter{};
  const int dx_group = dx_by_winograd ? winograd_images(dx_geometry, d.g.c, d.n, threads, dx_tile) : 1;
  // The flipped filter (C, K*R*S) in panels, or w^T (C*R*S, K).
  const int64_t flipped_taps = int64_t{k} * d.g.r * d.g.s;
  const std::vector<float> panels_t =
      !own_gemm || dx_by_winograd || dx_by_parity ? std::vector<float>()
      : dx_by_convolution         ? pack_gemm_panels(flipped.data(), d.g.c, flipped_taps, flipped_taps, 1)
                                  : pack_gemm_panels(w, taps, k, 1, taps);
  const PaddedTaps dx_taps = dx_by_convolution ? padded_taps(dx_geometry) : PaddedTaps{};
  const bool dw_by_winograd = dw && gemm == ConvGemm::Own && winograd_filter_gradient_fits(d.g, k);
  const bool dw_in_place = dw && gemm == ConvGemm::Own && !dw_by_winograd && filter_gradient_in_place(d.g);
  const bool dw_narrow = dw && gemm == ConvGemm::Own && !dw_by_winograd && !dw_in_place && !d.pointwise() &&
                         narrow_filter_gradient_fits(d.g);
  const int dw_group = dw_in_place ? filter_gradient_group(d.g, w_size) : 1;
  const std::vector<int64_t> dw_offsets =
      !dw_in_place         ? std::vector<int64_t>()
      : samples_pixels(d.g) ? filter_row_offsets(sampled_geometry(d.g), dw_group, d.g.col_cols() * d.g.c)
                            : filter_row_offsets(d.g, dw_group, padded_channels_last_size(d.g));
  // dx through col2im: on small images the column gradients of several images are one product
  // (as in the forward), their dy gathered side by side.
  const bool dx_by_col2im = dx && !d.pointwise() && !dx_by_convolution && !dx_by_winograd && !dx_by_parity;
  const int dx_images = dx_by_col2im && pq < kMinBlockColumns ? images_side_by_side(pq, d.n, threads) : 1;

  const int64_t dx_columns = int64_t{dx_images} * pq;
  // Per thread: the column matrix of x (dw on OpenBLAS) or dy_n in panels (dw in place), then the
  // column gradient and the gathered dy (dx through col2im).
  const int64_t dw_buffer = !dw || dw_by_winograd ? 0
                            : dw_in_place          ? gemm_panels_size(k, int64_t{dw_group} * pq)
                            : d.pointwise() || dw_narrow ? 0
                                                         : col_size;
  const int64_t dcol_buffer = dx_by_col2im ? d.taps() * dx_columns + (dx_images > 1 ? k * dx_columns : 0) : 0;
  const int64_t per_thread = dw_buffer + dcol_buffer;
  // A chunk's partial: dw's shape, or Winograd's transformed filter gradient.
  const int64_t partial_size = dw_by_winograd ? winograd_filter_gradient_size(d.g.c, k) : w_size;
  const int chunks = backward_chunks(d.n, threads, partial_size);
  const int64_t partial_count = dw ? chunks : 0;
  Tensor scratch({threads * per_thread + partial_count * partial_size});
  float* partials = scratch.data<float>() + threads * per_thread;
  const BlasThreadLimit blas_limit(threads > 1 ? 1 : openblas_get_num_threads());
  // out (C*R*S, n) = w^T * g (K, n), both with row stride n.
  auto input_gradient_gemm = [&](const float* g, int64_t n, float* out) {
    if (own_gemm)
      small_gemm(taps, n, k, panels_t.data(), g, n, out, n, false);
    else
      cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, taps, static_cast<int>(n), k, 1.0f, w, taps, g,
                  static_cast<int>(n), 0.0f, out, static_cast<int>(n));
  };
  // dx of images [n0, n0 + images) through their column gradients.
  auto input_gradient_col2im = [&](int n0, int images, float* dcol) {
    const float* g = dy + n0 * d.y_image();
    const int64_t n = int64_t{images} * pq;
    if (images > 1) {
      float* gathered = dcol + d.taps() * dx_columns;
      for (int i = 0; i < images; ++i)
        for (int o = 0; o < k; ++o)
          std::memcpy(gathered + o * n + i * pq, g + i * d.y_image() + int64_t{o} * pq, sizeof(float) * pq);
      g = gathered;
    }
    input_gradient_gemm(g, n, dcol);
    for (int i = 0; i < images; ++i) {
      float* dxn = dx + (n0 + i) * d.x_image();
      if (samples_pixels(d.g)) {
        col2im_pointwise(dxn, dcol + i * pq, n, d.g);
        continue;
      }
      std::memset(dxn, 0, sizeof(float) * d.x_image());
      col2im_add(dxn, dcol + i * pq, n, d.g);
    }
  };
  // dx_n overwritten (but through col2im) and dw_share += the filter gradient of image n, with
  // the calling thread's buffers.
  auto backward_image = [&](int n, float* col_x, float* dw_share) {
    const float* xn = x + n * d.x_image();
    const float* dyn = dy + n * d.y_image();
    if (dx_by_convolution)
      convolve_padded(dx + n * d.x_image(), dyn, panels_t.data(), d.g.c, dx_taps, dx_geometry);
    else if (dx_by_parity)
      parity_input_gradient_image(dx + n * d.x_image(), dyn, parity_dx);
    else if (dx && d.pointwise())  // dx_n (C, HW) = w^T (C, K) * dy_n (K, HW)
      input_gradient_gemm(dyn, pq, dx + n * d.x_image());
    if (dw_narrow) {
      accumulate_narrow_filter_gradient(dw_share, padded_image(xn, d.g), dyn, k, d.g);
    } else if (dw_share && !dw_in_place) {  // in place, it is the chunk loop's, by groups of images
      const float* col = xn;
      if (!d.pointwise()) {
        im2col(col_x, xn, d.g);
        col = col_x;
      }
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, taps, k, pq, 1.0f, col, pq, dyn, pq, 1.0f, dw_share, k);
    }
  };
#pragma omp parallel for num_threads(threads) schedule(dynamic, 1)
  for (int chunk = 0; chunk < chunks; ++chunk) {
    float* col_x = scratch.data<float>() + omp_get_thread_num() * per_thread;  // or dy_n's panels
    float* dcol = col_x + dw_buffer;
    const int first = chunk_begin(chunk, chunks, d.n), end = chunk_begin(chunk + 1, chunks, d.n);
    if (dx_by_col2im)
      for (int n0 = first; n0 < end; n0 += dx_images) input_gradient_col2im(n0, std::min(dx_images, end - n0), dcol);
    if (dx_by_winograd)
      for (int n0 = first; n0 < end; n0 += dx_group)
        winograd_convolve(dx + n0 * d.x_image(), dy + n0 * d.y_image(), std::min(dx_group, end - n0), dx_filter,
                          d.g.h, d.g.w);
    float* partial = dw ? partials + chunk * partial_size : nullptr;
    if (partial) std::memset(partial, 0, sizeof(float) * partial_size);  // by the chunk's thread, while it is hot
    if (dw_by_winograd)
      winograd_filter_gradient_accumulate(partial, x + first * d.x_image(), dy + first * d.y_image(), end - first,
                                          d.g.c, k, d.g.h, d.g.w);
    for (int n0 = first; n0 < end; n0 += dw_group) {
      const int images = std::min(dw_group, end - n0);
      for (int n = n0; n < n0 + images; ++n) backward_image(n, col_x, dw_by_winograd ? nullptr : partial);
      if (dw_in_place)
        accumulate_filter_gradient(partial, x + n0 * d.x_image(), dy + n0 * d.y_image(), images, col_x, k, dw_offsets,
                                   dw_group, d.g);
    }
  }
  if (!dw) return;
  if (dw_by_winograd) {
    std::vector<float> du(static_cast<size_t>(partial_size));
#pragma omp parallel for schedule(static) if (partial_size > 65536 / 4)
    for (int64_t i = 0; i < partial_size; ++i) {
      float sum = 0.0f;
      for (int64_t t = 0; t < partial_count; ++t) sum += partials[t * partial_size + i];
      du[static_cast<size_t>(i)] = sum;
    }
    winograd_filter_gradient_finish(dw, du.data(), d.g.c, k);
    return;
  }
  // Where tap j = (c, r, s) of output channel o lies in a partial: (R, K, S, C) in place, else
  // (C*R*S, K).
  const int rs = d.g.r * d.g.s, row_taps = d.g.s * d.g.c;
  auto partial_index = [&](int o, int j) -> int64_t {
    if (!dw_in_place) return int64_t{j} * k + o;
    const int c = j / rs, r = j % rs / d.g.s, s = j % d.g.s;
    return (int64_t{r} * k + o) * row_taps + s * d.g.c + c;
  };
#pragma omp parallel for schedule(static) if (w_size > 65536)
  for (int o = 0; o < k; ++o)
    for (int j = 0; j < taps; ++j) {
      const int64_t at = partial_index(o, j);
      float sum = 0.0f;
      for (int64_t t = 0; t < partial_count; ++t) sum += partials[t * w_size + at];
      dw[int64_t{o} * taps + j] += sum;
    }
}

}  // namespace

extern const Conv2dCpu conv2d_cpu = {conv2d_forward_cpu, conv2d_backward_cpu, conv2d_bias_grad_cpu};

}  // namespace bmc::ops::BMC_ISA_NS
BMC_ISA_END
