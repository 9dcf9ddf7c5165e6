#include "compress/sparq/sparq_model.h"

#include <chrono>
#include <map>
#include <set>

#include "train/progress.h"

namespace bmc::compress {
namespace {

std::vector<std::pair<std::string, nn::Conv2d*>> quantized_convs(nn::Model& model) {
  std::vector<std::pair<std::string, nn::Conv2d*>> convs;
  for (const nn::GraphNode& node : model.graph().nodes()) {
    if (node.role != nn::NodeRole::ParamLayer || node.stem) continue;
    if (auto* conv = dynamic_cast<nn::Conv2d*>(node.module)) convs.emplace_back(node.name, conv);
  }
  return convs;
}

}  // namespace

std::vector<SparqConvKernel*> attach_sparq(nn::Model& model, int x_bits, int w_bits) {
  std::vector<SparqConvKernel*> kernels;
  for (auto& [name, conv] : quantized_convs(model)) {
    auto kernel = std::make_unique<SparqConvKernel>(*conv, name, x_bits, w_bits);
    kernels.push_back(kernel.get());
    conv->set_kernel(std::move(kernel));
  }
  BMC_CHECK(!kernels.empty(), model.arch(), ": SPARQ quantizes the convs after the stem, and this model has none");
  return kernels;
}

void detach_sparq(nn::Model& model) {
  for (auto& [name, conv] : quantized_convs(model)) conv->set_kernel(nullptr);
}

int64_t upstream_calibration_batches(int batch_size) {
  BMC_CHECK(batch_size > 0, "batch size must be positive");
  if (2048 % batch_size != 0) return -1;
  return 2048 / batch_size + 1;
}

void calibration_passes(nn::Model& model, const data::BatchSource& source, int64_t first, int64_t batches,
                        bool train_mode, const char* label) {
  const bool was_training = model.net().training();
  model.set_training(train_mode);
  train::Progress progress(label, batches, 0);
  const auto start = std::chrono::steady_clock::now();
  Tensor x, y;
  int64_t images = 0;
  for (int64_t i = 0; i < batches; ++i) {
    source.batch(first + i, x, y);
    model.forward(x);
    images += x.dim(0);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    progress.update(i + 1, 0.0, std::to_string(images) + " images", images / std::max(1e-9, seconds));
  }
  progress.finish();
  model.set_training(was_training);
}

nlohmann::json ranges_json(const std::vector<SparqConvKernel*>& kernels) {
  nlohmann::json layers = nlohmann::json::array();
  for (const SparqConvKernel* k : kernels)
    layers.push_back({{"name", k->name()}, {"range", k->range()}, {"images", k->range_images()}});
  return {{"x_bits", kernels.at(0)->x_bits()}, {"w_bits", kernels.at(0)->w_bits()}, {"layers", layers}};
}

void load_ranges(const nlohmann::json& ranges, const std::vector<SparqConvKernel*>& kernels) {
  BMC_CHECK(ranges.is_object() && ranges.contains("layers") && ranges["layers"].is_array(),
            "SPARQ ranges: expected an object with a \"layers\" array");
  std::map<std::string, std::pair<float, int64_t>> by_name;
  for (const auto& l : ranges["layers"]) {
    BMC_CHECK(l.is_object() && l.contains("name") && l["name"].is_string() && l.contains("range") &&
                  l["range"].is_number() && l.contains("images") && l["images"].is_number_integer(),
              "SPARQ ranges: every layer needs a string \"name\", a number \"range\" and an integer \"images\"");
    by_name[l["name"].get<std::string>()] = {l["range"].get<float>(), l["images"].get<int64_t>()};
  }
  std::set<std::string> unused;
  for (const auto& [name, value] : by_name) unused.insert(name);
  for (SparqConvKernel* k : kernels) {
    const auto it = by_name.find(k->name());
    BMC_CHECK(it != by_name.end(), "SPARQ ranges: no range for layer ", k->name(),
              " (the ranges come from another model)");
    k->set_range(it->second.first, it->second.second);
    unused.erase(k->name());
  }
  BMC_CHECK(unused.empty(), "SPARQ ranges: layer ", unused.empty() ? "" : *unused.begin(), " is not in this model");
}

int window_placements(const BitWindow& w) { return 1 + (8 - w.bits) / w.shift_step; }

SparqSize sparq_model_size(nn::Model& model, const std::vector<SparqConvKernel*>& kernels, bool compressed_2of4,
                           int placements) {
  SparqSize s;
  std::set<const nn::Parameter*> quantized;
  for (const SparqConvKernel* k : kernels) {
    const int64_t weights = k->out_channels() * k->reduction();
    if (compressed_2of4 && k->two_of_four() && k->reduction() % 4 == 0) {
      s.quantized_weight_bits += weights / 2 * k->w_bits();
      s.metadata_bits += weights / 4 * 4;
    } else {
      s.quantized_weight_bits += weights * k->w_bits();
    }
    s.scale_bits += 32 * (k->out_channels() + 1);
    s.activations_per_image += k->input_elements_per_image();
  }
  for (auto& [name, conv] : quantized_convs(model)) {
    quantized.insert(&conv->weight());
    if (nn::Parameter* b = conv->bias()) {
      quantized.insert(b);
      s.quantized_weight_bits += b->numel() * kernels.at(0)->w_bits();
      s.scale_bits += 32;
    }
  }
  for (const nn::Parameter* p : model.parameters())
    if (!quantized.count(p)) s.float_bits += p->numel() * 32;
  int bits = 0;
  while ((1 << bits) < placements) ++bits;
  s.shift_bits = bits;
  return s;
}

}  // namespace bmc::compress
