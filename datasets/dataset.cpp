#include "datasets/dataset.h"

#include <cstring>

namespace bmc::data {

const char* split_name(Split split) { return split == Split::Train ? "train" : "test"; }

Dataset Dataset::subset(int64_t begin, int64_t end) const {
  BMC_CHECK(0 <= begin && begin <= end && end <= size(), "Dataset::subset of '", name, "': range [", begin, ", ",
            end, ") outside [0, ", size(), ")");
  const int64_t per_image = images.numel() / (size() > 0 ? size() : 1);
  Dataset out;
  out.name = name;
  out.num_classes = num_classes;
  out.class_names = class_names;
  out.images = Tensor({end - begin, images.dim(1), images.dim(2), images.dim(3)}, DType::U8);
  out.labels = Tensor({end - begin}, DType::I32);
  std::memcpy(out.images.raw(), images.data<uint8_t>() + begin * per_image, static_cast<size_t>((end - begin) * per_image));
  std::memcpy(out.labels.raw(), labels.data<int32_t>() + begin, static_cast<size_t>(end - begin) * sizeof(int32_t));
  return out;
}

void validate_dataset(const Dataset& d, const std::string& what) {
  BMC_CHECK(d.images.defined() && d.labels.defined(), what, ": dataset has no images or labels");
  BMC_CHECK(d.images.dtype() == DType::U8 && d.images.rank() == 4, what, ": images must be u8 (N, C, H, W), got ",
            d.images.describe());
  BMC_CHECK(d.labels.dtype() == DType::I32 && d.labels.rank() == 1, what, ": labels must be i32 (N), got ",
            d.labels.describe());
  BMC_CHECK(d.images.dim(0) == d.labels.dim(0), what, ": ", d.images.dim(0), " images but ", d.labels.dim(0),
            " labels");
  BMC_CHECK(d.images.device().is_cpu() && d.labels.device().is_cpu(), what, ": dataset must be on the CPU");
  const int32_t* y = d.labels.data<int32_t>();
  for (int64_t i = 0; i < d.labels.numel(); ++i)
    BMC_CHECK(y[i] >= 0 && y[i] < d.num_classes, what, ": label ", y[i], " of sample ", i, " outside [0, ",
              d.num_classes, ")");
}

}  // namespace bmc::data
