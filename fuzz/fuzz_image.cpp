// libFuzzer target: image decoding (libjpeg-turbo and stb_image behind bmc's checks: CMYK sniffing,
// Huffman tables, size limits) plus the eval transform on whatever decodes. The side limit is
// 2048 here instead of 32768: the same checks, but a 64 KB input declaring a 32768 x 32768 image
// would spend the run decoding gigabytes of pixels (about 260 executions/s) instead of exploring.
#include <cstddef>
#include <cstdint>

#include "core/error.h"
#include "datasets/image.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    const bmc::data::Image img = bmc::data::decode_image_rgb(bmc::data::Bytes(data, data + size), "fuzz", 2048);
    if (img.pixels.size() != size_t(img.width) * img.height * 3) __builtin_trap();
    if (size_t(img.width) * img.height <= (size_t(1) << 20)) {
      const bmc::data::Image r = bmc::data::resize_shorter_side(img, 8);
      bmc::data::center_crop(r, 8);
    }
  } catch (const bmc::Error&) {
  }
  return 0;
}
