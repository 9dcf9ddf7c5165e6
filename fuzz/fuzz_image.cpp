// libFuzzer target: image decoding (stb_image behind bmc's checks: CMYK sniffing, size limits)
// plus the eval transform on whatever decodes.
#include <cstddef>
#include <cstdint>

#include "core/error.h"
#include "datasets/image.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    const bmc::data::Image img = bmc::data::decode_image_rgb(bmc::data::Bytes(data, data + size), "fuzz");
    if (img.pixels.size() != size_t(img.width) * img.height * 3) __builtin_trap();
    if (size_t(img.width) * img.height <= (size_t(1) << 20)) {
      const bmc::data::Image r = bmc::data::resize_shorter_side(img, 8);
      bmc::data::center_crop(r, 8);
    }
  } catch (const bmc::Error&) {
  }
  return 0;
}
