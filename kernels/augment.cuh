// Batch augmentation + normalisation for in-memory u8 datasets (MNIST, CIFAR), shared by the CPU
// loader loop and the CUDA gather kernel so both give bit-identical batches for the same seed.
// Per sample: a random crop with `pad` pixels of zero padding on each side (torchvision
// RandomCrop(size, padding=pad)) followed by a horizontal flip with probability 1/2, then
// out = (v / 255 - mean[c]) / std[c] (ToTensor + Normalize; no multiply-add, so no FMA contraction).
#pragma once

#include <cstdint>

#include "kernels/compat.cuh"
#include "kernels/philox.cuh"

namespace bmc {

constexpr int kAugmentMaxChannels = 4;
constexpr uint32_t kAugmentStream = 0x41554731u;  // "AUG1": Philox stream id of the crop/flip draws
constexpr uint32_t kShuffleStream = 0x53484631u;  // "SHF1": Philox stream id of epoch permutations

struct AugmentNorm {
  float mean[kAugmentMaxChannels];
  float std[kAugmentMaxChannels];
};

// Crop offset (dy, dx) in [-pad, pad] relative to the unpadded image, and the flip.
struct SampleTransform {
  int dy = 0, dx = 0;
  bool flip = false;
};

// The draws of the sample at `position` in epoch `epoch`: one Philox block per sample, so they
// depend only on (seed, epoch, position), never on the worker count, the grid or the device.
BMC_HD SampleTransform sample_transform(uint64_t seed, uint32_t epoch, uint64_t position, int pad, bool crop_flip) {
  SampleTransform t;
  if (!crop_flip) return t;
  const PhiloxBlock r = philox_at(seed, position, kAugmentStream, epoch);
  const uint32_t choices = static_cast<uint32_t>(2 * pad + 1);
  t.dy = static_cast<int>(u32_to_range(r.v[0], choices)) - pad;
  t.dx = static_cast<int>(u32_to_range(r.v[1], choices)) - pad;
  t.flip = (r.v[2] >> 31) != 0;
  return t;
}

// Output pixel (c, y, x) of one sample; `image` is that sample's (C, H, W) u8 source. Pixels
// taken from the padding are 0 before normalisation, as torchvision pads the u8/[0,1] image.
BMC_HD float augmented_pixel(const uint8_t* image, int64_t c, int64_t y, int64_t x, int64_t height, int64_t width,
                             SampleTransform t, const AugmentNorm& norm) {
  const int64_t sx = (t.flip ? width - 1 - x : x) + t.dx;
  const int64_t sy = y + t.dy;
  const bool inside = sy >= 0 && sy < height && sx >= 0 && sx < width;
  const uint8_t v = inside ? image[(c * height + sy) * width + sx] : static_cast<uint8_t>(0);
  return (static_cast<float>(v) / 255.0f - norm.mean[c]) / norm.std[c];
}

}  // namespace bmc
