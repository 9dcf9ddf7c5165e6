// A compact decoded-u8 cache for image-folder datasets of small images: one file holding the
// header, class names, labels and CHW pixels, written atomically. Its key hashes the sorted file
// list with each file's size and mtime plus the decode options, so any change to the source
// (a file added, removed, replaced or touched) invalidates it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "datasets/dataset.h"
#include "datasets/image_folder.h"

namespace bmc::data {

uint64_t image_cache_key(const ImageList& list, const ImageFolderOptions& options);
// The cached dataset when the file exists, is well-formed (labels in range included) and carries
// `key`; nullopt otherwise, so a damaged cache is rebuilt rather than failing the run.
std::optional<Dataset> read_image_cache(const std::string& path, uint64_t key);
void write_image_cache(const std::string& path, uint64_t key, const Dataset& d);

}  // namespace bmc::data
