#include "datasets/jpeg_decode.h"

#include <csetjmp>
#include <cstdio>

#include <jpeglib.h>

#include "core/error.h"
#include "datasets/image.h"

namespace bmc::data {
namespace {

struct ErrorManager {
  jpeg_error_mgr base;
  std::jmp_buf jump;
  char message[JMSG_LENGTH_MAX];
};

void on_error(j_common_ptr cinfo) {
  auto* err = reinterpret_cast<ErrorManager*>(cinfo->err);
  (*cinfo->err->format_message)(cinfo, err->message);
  std::longjmp(err->jump, 1);
}

void on_message(j_common_ptr, int) {}  // warnings (corrupt-data recoveries) are not printed

// Fills `img`; returns false with err.message set on failure. Only trivially destructible locals
// live across the setjmp.
bool decode(const Bytes& bytes, int max_side, Image& img, ErrorManager& err, bool& too_large) {
  jpeg_decompress_struct cinfo;
  cinfo.err = jpeg_std_error(&err.base);
  err.base.error_exit = on_error;
  err.base.emit_message = on_message;
  if (setjmp(err.jump)) {
    jpeg_destroy_decompress(&cinfo);
    return false;
  }
  jpeg_create_decompress(&cinfo);
  jpeg_mem_src(&cinfo, bytes.data(), static_cast<unsigned long>(bytes.size()));
  jpeg_read_header(&cinfo, TRUE);
  if (static_cast<int>(cinfo.image_width) > max_side || static_cast<int>(cinfo.image_height) > max_side ||
      cinfo.image_width == 0 || cinfo.image_height == 0) {
    too_large = true;
    img.width = static_cast<int>(cinfo.image_width);
    img.height = static_cast<int>(cinfo.image_height);
    jpeg_destroy_decompress(&cinfo);
    return false;
  }
  cinfo.out_color_space = JCS_RGB;
  jpeg_start_decompress(&cinfo);
  img.width = static_cast<int>(cinfo.output_width);
  img.height = static_cast<int>(cinfo.output_height);
  img.channels = 3;
  img.pixels.resize(size_t(img.width) * img.height * 3);
  while (cinfo.output_scanline < cinfo.output_height) {
    JSAMPROW row = img.pixels.data() + size_t(cinfo.output_scanline) * img.width * 3;
    jpeg_read_scanlines(&cinfo, &row, 1);
  }
  jpeg_finish_decompress(&cinfo);
  jpeg_destroy_decompress(&cinfo);
  return true;
}

}  // namespace

Image decode_jpeg(const Bytes& bytes, const std::string& what, int max_side) {
  Image img;
  ErrorManager err{};
  bool too_large = false;
  if (!decode(bytes, max_side, img, err, too_large)) {
    BMC_CHECK(!too_large, what, ": image size ", img.width, "x", img.height, " outside 1..", max_side);
    BMC_FAIL(what, ": corrupt JPEG (", err.message, ")");
  }
  return img;
}

}  // namespace bmc::data
