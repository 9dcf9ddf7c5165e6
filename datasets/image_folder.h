// ImageNet-style image folders: <root>/<split>/<class>/*.{JPEG,jpg,jpeg,png,bmp,ppm,pgm} with
// classes sorted by name (torchvision ImageFolder's order and labels), or the flat validation
// layout <root>/<split>/*.JPEG plus a labels file of "<file name> <class name or index>" lines.
// load_image_folder decodes everything into an in-memory Dataset (for small images, or eval-size
// crops), optionally through a decoded u8 cache file (image_cache.h); image_stream_loader.h
// streams large training images with RandomResizedCrop instead.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "datasets/dataset.h"

namespace bmc::data {

// None: images are kept as they are and must all have the same size. ResizeCenterCrop: the eval
// transform, shorter side to resize_size then a crop_size x crop_size center crop.
enum class ImageTransform { None, ResizeCenterCrop };

struct ImageFolderOptions {
  std::string split = "train";  // subfolder of root; "" when root itself holds the class folders
  std::string labels_file;      // set for the flat layout: "<file> <class>" per line
  std::vector<std::string> class_names;  // flat layout: class order (default: root/train's folders)
  ImageTransform transform = ImageTransform::None;
  int resize_size = 256, crop_size = 224;
  bool skip_bad_images = false;  // skip undecodable images with a warning (and count) instead of failing
  int workers = 0;               // decode threads; 0 = all OpenMP threads
  std::string cache_file;        // decoded u8 cache (reused while the source is unchanged); "" = none
  std::string name = "imagefolder";
};

struct ImageEntry {
  std::string path;
  int32_t label = 0;
};

struct ImageList {
  std::string dir;  // the folder the listing came from
  std::vector<std::string> class_names;
  std::vector<ImageEntry> entries;  // class folders: by class, then by file name
};

// Lists the images (no decoding). Errors: missing/unreadable folders, an empty class folder,
// no classes, labels-file lines naming unknown files or classes.
ImageList list_image_folder(const std::string& root, const ImageFolderOptions& options);

struct ImageFolderStats {
  int64_t skipped = 0;   // bad images skipped (skip_bad_images)
  bool from_cache = false;
};

Dataset load_image_folder(const std::string& root, const ImageFolderOptions& options,
                          ImageFolderStats* stats = nullptr);

bool has_image_extension(const std::string& file_name);

}  // namespace bmc::data
