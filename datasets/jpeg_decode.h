// JPEG decoding with libjpeg-turbo, the decoder PIL (and so torchvision's ImageFolder) uses, with
// PIL's defaults (accurate integer IDCT, fancy chroma upsampling): decoded pixels match PIL's
// exactly, which stb_image's decoder does not (its chroma upsampling and IDCT differ by a level
// on a few percent of pixels). Errors become bmc::Error naming the image.
#pragma once

#include <string>

#include "datasets/byte_source.h"

namespace bmc::data {

struct Image;

// RGB pixels of a baseline or progressive JPEG (grayscale converted to RGB); `max_side` bounds
// both sides before any pixel memory is allocated.
Image decode_jpeg(const Bytes& bytes, const std::string& what, int max_side);

}  // namespace bmc::data
