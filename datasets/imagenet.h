// ImageNet's folder layouts, listed (not decoded) for the streaming loader:
//   <root>/train/<wnid>/*.JPEG and <root>/val/<wnid>/*.JPEG (the common re-sorted layout);
//   <root>/train/<wnid>/... with the flat ILSVRC2012 <root>/val/*.JPEG and a labels source:
//     LOC_val_solution.csv (ImageId,PredictionString starting with the wnid; in <root> or its
//     parent), the devkit (ILSVRC2012_devkit_t12/data/ or <root>: the ground-truth IDs and
//     meta.mat's synsets), or val_labels.txt ("<file> <wnid or class index>" lines) in <root>;
//   a folder of class folders given directly (torchvision's ImageFolder): both splits.
// Classes are the train folders sorted by name, as torchvision's ImageFolder orders them.
#pragma once

#include <string>

#include "datasets/image_folder.h"

namespace bmc::data {

struct ImagenetLists {
  ImageList train, val;
  std::string layout;  // "class folders", "flat val + LOC_val_solution.csv", ...
};

ImagenetLists list_imagenet(const std::string& root);

}  // namespace bmc::data
