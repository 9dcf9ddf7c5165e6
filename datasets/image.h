// Decoded 8-bit images and the geometric transforms of the ImageNet pipelines, on the host:
// decode (JPEG with libjpeg-turbo as PIL does, datasets/jpeg_decode.h; PNG, BMP, PPM/PGM with
// stb_image), resize (separable triangle filter widened when
// downscaling, i.e. antialiased bilinear like PIL), crops and the horizontal flip.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "datasets/byte_source.h"

namespace bmc::data {

// Interleaved HWC u8 pixels.
struct Image {
  int width = 0, height = 0, channels = 0;
  std::vector<uint8_t> pixels;
};

// Decodes an image file's bytes to 3-channel RGB. Grayscale (and grayscale + alpha) become RGB by
// replication; RGBA drops alpha. CMYK/YCCK JPEGs, 16-bit and HDR images and anything stb cannot
// read are refused with a bmc::Error naming `what` and the reason, as are images with a side above
// max_side (checked before any pixel memory is allocated).
constexpr int kMaxImageSide = 1 << 15;
Image decode_image_rgb(const Bytes& bytes, const std::string& what, int max_side = kMaxImageSide);
Image load_image_rgb(const std::string& path);

// Resizes to exactly (width, height).
Image resize(const Image& src, int width, int height);
// Scales so the shorter side is `shorter` (the longer side rounded down, as torchvision does).
Image resize_shorter_side(const Image& src, int shorter);
// The window [x, x+w) x [y, y+h) of src (must lie inside).
Image crop(const Image& src, int x, int y, int w, int h);
Image center_crop(const Image& src, int size);
void flip_horizontal(Image& img);

// Writes an image as u8 CHW planes at dst (channels * height * width bytes).
void to_chw(const Image& img, uint8_t* dst);

// RandomResizedCrop's window (torchvision's algorithm: up to 10 tries of scale in [0.08, 1] and
// log-uniform ratio in [3/4, 4/3], else a center crop with the ratio clamped), with its uniform
// draws taken from Philox(seed, sample, stream, epoch) so it is reproducible everywhere.
struct CropWindow {
  int x = 0, y = 0, w = 0, h = 0;
  bool flip = false;
};
CropWindow random_resized_crop_window(int width, int height, uint64_t seed, uint64_t epoch, uint64_t sample);

}  // namespace bmc::data
