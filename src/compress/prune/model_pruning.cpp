#include "compress/prune/model_pruning.h"

#include <algorithm>
#include <cmath>

#include "compress/prune/magnitude.h"
#include "io/pth_import.h"
#include "io/safetensors.h"
#include "kernels/philox.cuh"

namespace bmc::compress {
namespace {

constexpr uint32_t kRandomMaskStream = 0x5EED;

std::vector<PruneSegment> segments_of(nn::Model& model, const std::vector<nn::Parameter*>& params) {
  std::vector<PruneSegment> segments;
  for (size_t i = 0; i < model.parameters().size(); ++i) {
    nn::Parameter* p = model.parameters()[i];
    for (nn::Parameter* q : params)
      if (q == p) segments.push_back({p->value.view(p->shape), p->mask.view(p->shape), model.offset(i)});
  }
  return segments;
}

}  // namespace

PruningStrategy parse_pruning_strategy(const std::string& name) {
  if (name == "sparse_global") return PruningStrategy::SparseGlobal;
  if (name == "layerwise" || name == "sparse_layerwise") return PruningStrategy::Layerwise;
  BMC_FAIL("unknown pruning strategy '", name, "': expected sparse_global or layerwise");
}

std::vector<nn::Parameter*> prunable_parameters(nn::Model& model, const std::set<std::string>& ignore) {
  std::set<std::string> unknown = ignore;
  std::vector<nn::Parameter*> out;
  for (nn::Parameter* p : model.parameters()) {
    unknown.erase(p->name);
    if (p->prunable() && !ignore.count(p->name)) out.push_back(p);
  }
  BMC_CHECK(unknown.empty(), model.arch(), " has no parameter named '", *unknown.begin(),
            "' (given in the pruning ignore list)");
  BMC_CHECK(!out.empty(), model.arch(), ": no prunable parameters left after the ignore list");
  return out;
}

int64_t weights_to_prune(int64_t remaining, double fraction) {
  BMC_CHECK(fraction >= 0.0 && fraction <= 1.0, "pruning fraction must be in [0, 1], got ", fraction);
  return std::min<int64_t>(remaining, static_cast<int64_t>(std::ceil(fraction * static_cast<double>(remaining))));
}

int64_t prune_by_magnitude(nn::Model& model, const PruningOptions& options) {
  const std::vector<nn::Parameter*> params = prunable_parameters(model, options.ignore);
  int64_t removed = 0;
  if (options.strategy == PruningStrategy::SparseGlobal) {
    std::vector<PruneSegment> segments = segments_of(model, params);
    const int64_t count = weights_to_prune(count_unpruned(segments), options.fraction);
    prune_smallest(segments, count);
    model.masks_changed();
    return count;
  }
  for (nn::Parameter* p : params) {
    std::vector<PruneSegment> segments = segments_of(model, {p});
    const int64_t count = weights_to_prune(count_unpruned(segments), options.fraction);
    prune_smallest(segments, count);
    removed += count;
  }
  model.masks_changed();
  return removed;
}

std::vector<LayerDensity> layer_densities(nn::Model& model, const std::set<std::string>& ignore) {
  std::vector<LayerDensity> out;
  for (nn::Parameter* p : prunable_parameters(model, ignore)) {
    std::vector<PruneSegment> segments;
    segments.push_back({p->value.view(p->shape), p->mask.view(p->shape), 0});
    out.push_back({p->name, p->numel(), count_unpruned(segments)});
  }
  return out;
}

void apply_random_masks(nn::Model& model, const std::vector<LayerDensity>& densities, uint64_t seed) {
  for (size_t layer = 0; layer < densities.size(); ++layer) {
    const LayerDensity& d = densities[layer];
    nn::Parameter& p = model.parameter(d.name);
    BMC_CHECK(d.total == p.numel() && d.remaining <= d.total, "random mask for ", d.name, ": ", d.remaining, " of ",
              d.total, " does not fit a parameter of ", p.numel());
    // Keep the `remaining` positions with the largest random keys: radix selection on random
    // "magnitudes" gives an exact, seed-determined uniform subset.
    Tensor keys(p.shape), mask = Tensor::full(p.shape, 1.0f);
    float* k = keys.data<float>();
    for (int64_t i = 0; i < p.numel(); ++i)
      k[i] = u32_to_unit_float(philox_u32(seed, i, kRandomMaskStream, static_cast<uint32_t>(layer)));
    std::vector<PruneSegment> segments;
    segments.push_back({keys.view(p.shape), mask.view(p.shape), 0});
    prune_smallest(segments, d.total - d.remaining);
    p.mask.copy_from(mask);
  }
  zero_masked_state(model);
}

namespace {

void zero_where_masked(Tensor& flat, const Tensor& host_masks) {
  Tensor host = flat.to(Device::cpu());
  float* v = host.data<float>();
  const float* m = host_masks.data<float>();
  for (int64_t i = 0; i < host.numel(); ++i)
    if (m[i] == 0.0f) v[i] = 0.0f;
  flat.copy_from(host);
}

}  // namespace

void zero_masked_state(nn::Model& model) {
  model.masks_changed();
  const Tensor masks = model.masks().to(Device::cpu());
  zero_where_masked(model.values(), masks);
  zero_where_masked(model.momentum(), masks);
}

void save_mask(const std::string& path, nn::Model& model, const std::set<std::string>& ignore) {
  std::vector<Tensor> owned;
  const auto params = prunable_parameters(model, ignore);
  owned.reserve(params.size());
  for (nn::Parameter* p : params) {
    const Tensor m = p->mask.to(Device::cpu());
    Tensor u8(p->shape, DType::U8);
    for (int64_t i = 0; i < m.numel(); ++i) u8.data<uint8_t>()[i] = m.data<float>()[i] != 0.0f ? 1 : 0;
    owned.push_back(std::move(u8));
  }
  std::vector<std::pair<std::string, const Tensor*>> entries;
  for (size_t i = 0; i < params.size(); ++i) entries.push_back({params[i]->name, &owned[i]});
  io::save_safetensors(path, entries, {{"arch", model.arch()}});
}

namespace {

// A mask file: safetensors, or a PyTorch file holding a dict of 0/1 tensors (OpenLTH's mask.pth).
io::SafeTensors read_mask_file(const std::string& path) {
  if (!io::is_pth_file(path)) return io::load_safetensors(path);
  io::PthStateDict pth = io::load_pth(path);
  io::strip_wrapper_prefixes(pth.tensors);
  io::SafeTensors file;
  for (auto& [name, t] : pth.tensors) file.tensors.emplace(name, std::move(t));
  return file;
}

float mask_value(const Tensor& t, int64_t i) {
  switch (t.dtype()) {
    case DType::U8: return t.data<uint8_t>()[i];
    case DType::F32: return t.data<float>()[i];
    case DType::I32: return static_cast<float>(t.data<int32_t>()[i]);
    case DType::I64: return static_cast<float>(t.data<int64_t>()[i]);
    case DType::I8: return t.data<int8_t>()[i];
  }
  return -1.0f;
}

}  // namespace

void load_mask(const std::string& path, nn::Model& model) {
  const io::SafeTensors file = read_mask_file(path);
  if (auto it = file.metadata.find("arch"); it != file.metadata.end())
    BMC_CHECK(it->second == model.arch(), path, " is a mask for ", it->second, ", not ", model.arch());
  for (const auto& [name, t] : file.tensors) {
    nn::Parameter& p = model.parameter(name);
    BMC_CHECK(p.kind == nn::ParamKind::Weight, path, ": mask '", name,
              "' is not for a conv or linear weight; only those are pruned");
    BMC_CHECK(t.shape() == p.shape, path, ": mask '", name, "' has shape ", t.shape().str(), ", the parameter ",
              p.shape.str());
    Tensor m(p.shape);
    for (int64_t i = 0; i < m.numel(); ++i) {
      const float v = mask_value(t, i);
      BMC_CHECK(v == 0.0f || v == 1.0f, path, ": mask '", name, "' must hold only 0 and 1");
      m.data<float>()[i] = v;
    }
    p.mask.copy_from(m);
  }
  zero_masked_state(model);
}

void check_ignored_layers_dense(nn::Model& model, const std::set<std::string>& ignore, const std::string& source) {
  for (nn::Parameter* p : model.parameters()) {
    if (!ignore.count(p->name)) continue;
    const std::vector<float> m = p->mask.to_vector<float>();
    const auto pruned = std::count(m.begin(), m.end(), 0.0f);
    BMC_CHECK(pruned == 0, source, " prunes ", pruned, " weights of ", p->name,
              ", a layer the pruning ignores (--pruning-layers-to-ignore); drop it from the list or use another mask");
  }
}

std::vector<std::string> layers_without_mask(const std::string& path, nn::Model& model) {
  const io::SafeTensors file = read_mask_file(path);
  std::vector<std::string> out;
  for (nn::Parameter* p : model.parameters())
    if (p->prunable() && !file.contains(p->name)) out.push_back(p->name);
  return out;
}

double mask_file_density(const std::string& path) {
  int64_t ones = 0, total = 0;
  for (const auto& [name, t] : read_mask_file(path).tensors) {
    for (int64_t i = 0; i < t.numel(); ++i) ones += mask_value(t, i) != 0.0f ? 1 : 0;
    total += t.numel();
  }
  BMC_CHECK(total > 0, path, " holds no mask tensors");
  return static_cast<double>(ones) / static_cast<double>(total);
}

}  // namespace bmc::compress
