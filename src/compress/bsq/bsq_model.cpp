#include "compress/bsq/bsq_model.h"

#include <algorithm>
#include <cstdio>
#include <set>
#include <sstream>

#include "io/json_file.h"
#include "io/pth.h"
#include "io/safetensors.h"
#include "io/state_dict.h"
#include "kernels/bit_planes.cuh"
#include "nn/param_layer.h"
#include "ops/bsq.h"

namespace bmc::compress {
namespace {

constexpr const char* kFormat = "bmc-bsq-bits-1";

std::string pos_key(const std::string& p) { return p + ".bsq_pos"; }
std::string neg_key(const std::string& p) { return p + ".bsq_neg"; }
std::string scale_key(const std::string& p) { return p + ".bsq_scale"; }
std::string mask_key(const std::string& p) { return p + ".bsq_mask"; }
std::string alpha_key(const std::string& site) { return site + ".bsq_pact_alpha"; }

bool pruned(const nn::Parameter& p) {
  const std::vector<float> m = p.mask.to_vector<float>();
  return std::find(m.begin(), m.end(), 0.0f) != m.end();
}

// The float weight a layer computes with.
Tensor float_weight(const BsqLayer& l) {
  if (l.planes) return l.planes->dequantized();
  Tensor w = Tensor::zeros(l.param->shape, DType::F32, l.param->value.device());
  if (l.latent->bits() > 0) {
    Tensor scale = Tensor::full({1}, l.latent->scale(), l.param->value.device());
    ops::bsq_latent_forward(w, l.param->value, scale, l.latent->bits());
  }
  return w;
}

// The state_dict with each quantized parameter replaced by its float weight (owned in `keep`).
std::vector<std::pair<std::string, const Tensor*>> float_state_dict(nn::Model& model, const std::vector<BsqLayer>& layers,
                                                                    std::vector<std::unique_ptr<Tensor>>& keep) {
  std::map<const Tensor*, const BsqLayer*> by_value;
  for (const BsqLayer& l : layers) by_value[&l.param->value] = &l;
  auto entries = io::state_dict(model);
  for (auto& [name, tensor] : entries) {
    const auto it = by_value.find(tensor);
    if (it == by_value.end()) continue;
    keep.push_back(std::make_unique<Tensor>(float_weight(*it->second)));
    tensor = keep.back().get();
  }
  return entries;
}

nlohmann::json pact_clips(const std::map<std::string, BsqActivation*>& acts) {
  nlohmann::json clips = nlohmann::json::object();
  for (const auto& [site, a] : acts)
    if (a->pact()) clips[site] = a->clip();
  return clips;
}

}  // namespace

int BsqLayer::bits(bool exported) const {
  if (planes) return exported && planes->zero() ? 0 : planes->bits();
  return latent->bits();
}

int64_t BsqLayer::count() const {
  const std::vector<float> m = param->mask.to_vector<float>();
  return std::count_if(m.begin(), m.end(), [](float v) { return v != 0.0f; });
}

std::vector<nn::Parameter*> bsq_parameters(nn::Model& model) {
  std::vector<nn::Parameter*> out;
  for (const nn::GraphNode& n : model.graph().nodes()) {
    if (n.role != nn::NodeRole::ParamLayer || n.shortcut) continue;
    auto& layer = dynamic_cast<nn::ParamLayer&>(*n.module);
    out.push_back(&layer.weight());
    if (layer.bias()) out.push_back(layer.bias());
  }
  return out;
}

std::vector<nn::Parameter*> bsq_upstream_clamped(nn::Model& model) {
  std::vector<nn::Parameter*> out;
  for (const nn::GraphNode& n : model.graph().nodes())
    if (n.shortcut && n.module) n.module->visit_parameters([&](const std::string&, nn::Parameter& p) { out.push_back(&p); });
  return out;
}

std::vector<BsqLayer> attach_bit_planes(nn::Model& model, int bits, const BsqScheme& scheme) {
  std::vector<BsqLayer> layers;
  std::set<std::string> used;
  for (nn::Parameter* p : bsq_parameters(model)) {
    for (const auto& link : p->parametrizations.links())
      BMC_CHECK(link->passthrough(), "BSQ: ", p->name, " already has the parametrization ", link->describe());
    int b = bits;
    if (const auto it = scheme.find(p->name); it != scheme.end()) {
      b = it->second;
      used.insert(p->name);
    }
    BMC_CHECK(b >= 0 && b <= 16, "BSQ: precision of ", p->name, " must be 0..16 bits, got ", b);
    const Tensor zeros = Tensor::zeros(p->shape, DType::F32, p->value.device());
    auto planes = std::make_unique<BitPlanes>(b == 0 ? zeros : p->value, std::max(b, 1), p->mask);
    BsqLayer l;
    l.param = p;
    l.planes = planes.get();
    p->parametrizations.append(std::move(planes));
    layers.push_back(l);
  }
  for (const auto& [name, b] : scheme)
    BMC_CHECK(used.count(name), "BSQ: the scheme names ", name, ", which ", model.arch(), " does not quantize");
  return layers;
}

std::vector<BsqLayer> planes_to_latent(nn::Model& /*model*/, std::vector<BsqLayer>& layers) {
  std::vector<BsqLayer> out;
  for (BsqLayer& l : layers) {
    BMC_CHECK(l.planes, "BSQ: ", l.param->name, " has no bit planes to fine-tune");
    const int bits = l.bits(true);
    const float scale = l.planes->scale();
    const int64_t n = l.planes->numel();
    const std::vector<float> p = l.planes->positive().to_vector<float>(), q = l.planes->negative().to_vector<float>();
    std::vector<float> u(static_cast<size_t>(n), 0.0f);
    for (int64_t j = 0; j < n && bits > 0; ++j) u[j] = bit_plane_sum(p.data() + j, q.data() + j, bits, n);
    l.param->parametrizations.remove(BitPlanes::kKind);
    l.param->value.copy_from(Tensor::from_vector(u, l.param->shape));
    auto latent = std::make_unique<BsqLatent>(bits, scale, l.param->value.device());
    BsqLayer f;
    f.param = l.param;
    f.latent = latent.get();
    l.param->parametrizations.append(std::move(latent));
    out.push_back(f);
  }
  layers.clear();
  return out;
}

BsqAccounting bsq_accounting(const std::vector<BsqLayer>& layers, bool exported) {
  BsqAccounting a;
  for (const BsqLayer& l : layers) {
    const int64_t c = l.count();
    a.params += c;
    a.bits += c * l.bits(exported);
  }
  return a;
}

void set_bsq_regularizer(std::vector<BsqLayer>& layers, float alpha) {
  const double tp = static_cast<double>(bsq_accounting(layers, false).params);
  for (BsqLayer& l : layers)
    if (l.planes)
      l.planes->set_regularizer_weight(alpha > 0 && tp > 0 ? static_cast<float>(alpha * l.planes->bits() * l.count() / tp) : 0.0f);
}

double bsq_regularizer_value(const std::vector<BsqLayer>& layers) {
  double sum = 0;
  for (const BsqLayer& l : layers)
    if (l.planes && l.planes->regularizer_weight() > 0) sum += l.planes->regularizer_value().to_vector<float>()[0];
  return sum;
}

std::vector<PrecisionChange> requantize_and_adjust(std::vector<BsqLayer>& layers, int max_bits, double threshold) {
  std::vector<PrecisionChange> out;
  for (BsqLayer& l : layers) {
    const PrecisionChange r = l.planes->requantize(max_bits);
    PrecisionChange a = l.planes->adjust(threshold);
    a.before = r.before;
    a.grew = r.grew;
    a.clamped = r.clamped;
    out.push_back(a);
  }
  return out;
}

std::vector<PrecisionChange> adjust_precisions(std::vector<BsqLayer>& layers, double threshold) {
  std::vector<PrecisionChange> out;
  for (BsqLayer& l : layers) out.push_back(l.planes->adjust(threshold));
  return out;
}

void store_dequantized(std::vector<BsqLayer>& layers) {
  for (BsqLayer& l : layers)
    if (l.planes) l.param->value.copy_from(l.planes->dequantized());
}

BsqScheme bsq_scheme(const std::vector<BsqLayer>& layers, bool exported) {
  BsqScheme s;
  for (const BsqLayer& l : layers) s[l.param->name] = l.bits(exported);
  return s;
}

nlohmann::json bsq_report(const std::vector<BsqLayer>& layers, const std::map<std::string, BsqActivation*>& acts) {
  nlohmann::json rows = nlohmann::json::array();
  for (const BsqLayer& l : layers) {
    nlohmann::json row = {{"name", l.param->name}, {"bits", l.bits(true)}, {"params", l.count()}};
    if (l.planes) {
      row["scale"] = l.planes->scale();
      row["ones_percent"] = l.planes->ones_percent();
      row["zero"] = l.planes->zero();
    } else {
      row["scale"] = l.latent->scale();
    }
    rows.push_back(row);
  }
  const BsqAccounting bit_mode = bsq_accounting(layers, false), exported = bsq_accounting(layers, true);
  return {{"layers", rows},
          {"total_params", exported.params},
          {"total_bits", exported.bits},
          {"total_bits_bit_mode", bit_mode.bits},
          {"compression", exported.compression()},
          {"average_bits", exported.average_bits()},
          {"pact_alpha", pact_clips(acts)}};
}

std::string bsq_plane_table(const std::vector<BsqLayer>& layers) {
  std::ostringstream out;
  for (const BsqLayer& l : layers) {
    if (!l.planes) continue;
    out << "  " << l.param->name << " (" << l.bits(true) << " bit" << (l.bits(true) == 1 ? "" : "s") << "):";
    const std::vector<double> ones = l.planes->ones_percent();
    for (size_t i = 0; i < ones.size(); ++i) {
      char buf[32];
      std::snprintf(buf, sizeof(buf), "%s %.2f%%", i ? "," : "", ones[i]);
      out << buf;
    }
    out << "\n";
  }
  return out.str();
}

void save_bsq_bits(const std::string& path, nn::Model& model, const std::vector<BsqLayer>& layers, int act_bits,
                   const std::map<std::string, BsqActivation*>& acts) {
  std::vector<std::unique_ptr<Tensor>> keep;
  auto entries = float_state_dict(model, layers, keep);
  nlohmann::json bits = nlohmann::json::object();
  auto own = [&](Tensor t) {
    keep.push_back(std::make_unique<Tensor>(std::move(t)));
    return keep.back().get();
  };
  for (const BsqLayer& l : layers) {
    const std::string& name = l.param->name;
    if (l.planes) {
      entries.emplace_back(pos_key(name), &l.planes->positive());
      entries.emplace_back(neg_key(name), &l.planes->negative());
      entries.emplace_back(scale_key(name), own(Tensor::full({1}, l.planes->scale())));
      bits[name] = l.planes->bits();
    } else {  // the binary planes of the latent (a 0-bit layer: one all-zero plane)
      const int b = std::max(1, l.latent->bits());
      const std::vector<int32_t> codes = l.latent->codes(l.param->value);
      const int64_t n = static_cast<int64_t>(codes.size());
      std::vector<float> p(static_cast<size_t>(b * n)), q(p.size());
      for (int64_t j = 0; j < n; ++j) bit_plane_write_code(p.data(), q.data(), codes[j], j, n, b);
      entries.emplace_back(pos_key(name), own(Tensor::from_vector(p, {b, n})));
      entries.emplace_back(neg_key(name), own(Tensor::from_vector(q, {b, n})));
      entries.emplace_back(scale_key(name), own(Tensor::full({1}, l.latent->scale())));
      bits[name] = b;
    }
    if (pruned(*l.param)) entries.emplace_back(mask_key(name), &l.param->mask);
  }
  for (const auto& [site, a] : acts)
    if (a->pact()) entries.emplace_back(alpha_key(site), own(Tensor::full({1}, a->clip())));
  io::save_safetensors(path, entries,
                       {{"arch", model.arch()}, {"format", kFormat}, {"bsq_bits", bits.dump()},
                        {"bsq_act", std::to_string(act_bits)}});
}

void save_bsq_float(const std::string& path, nn::Model& model, std::vector<BsqLayer>& layers, int act_bits,
                    const std::map<std::string, BsqActivation*>& acts) {
  std::vector<std::unique_ptr<Tensor>> keep;
  const auto entries = float_state_dict(model, layers, keep);
  std::map<std::string, std::string> metadata = {{"arch", model.arch()}};
  if (!acts.empty()) {
    metadata["bsq_act"] = std::to_string(act_bits);
    metadata["bsq_pact_alpha"] = pact_clips(acts).dump();
  }
  io::save_safetensors(path, entries, metadata);
}

BsqBitsFile read_bsq_bits_header(const std::string& path) {
  const io::SafeTensors file = io::load_safetensors(path);
  const auto format = file.metadata.find("format");
  BMC_CHECK(format != file.metadata.end() && format->second == kFormat, path,
            " is not a BSQ bit-form file (write one with bmc bsq convert, train or finetune)");
  BsqBitsFile h;
  const nlohmann::json bits = io::parse_json_text(file.metadata.at("bsq_bits"), path + ": metadata 'bsq_bits'");
  BMC_CHECK(bits.is_object(), path, ": metadata 'bsq_bits' is not an object");
  for (const auto& [name, b] : bits.items()) {
    BMC_CHECK(b.is_number_integer() && b.get<int>() >= 1 && b.get<int>() <= 16, path, ": precision of ", name,
              " is ", b.dump(), ", not 1..16");
    h.bits[name] = b.get<int>();
  }
  const auto act = file.metadata.find("bsq_act");
  BMC_CHECK(act != file.metadata.end(), path, " lacks the metadata 'bsq_act'");
  try {
    h.act_bits = std::stoi(act->second);
  } catch (const std::exception&) {
    BMC_FAIL(path, ": metadata 'bsq_act' is '", act->second, "', not a bit count");
  }
  return h;
}

LoadedBsq load_bsq_bits(const std::string& path, nn::Model& model, bool upstream_clamp) {
  const BsqBitsFile header = read_bsq_bits_header(path);
  io::SafeTensors file = io::load_safetensors(path);
  if (const auto it = file.metadata.find("arch"); it != file.metadata.end())
    BMC_CHECK(it->second == model.arch(), path, " holds a ", it->second, " model, not ", model.arch());
  io::SafeTensors weights;
  for (auto& [name, t] : file.tensors)
    if (name.find(".bsq_") == std::string::npos) weights.tensors.emplace(name, std::move(t));
  io::load_state_dict(model, weights);
  for (nn::Parameter* p : bsq_parameters(model)) {
    BMC_CHECK(header.bits.count(p->name), path, " has no precision for ", p->name);
    for (const std::string& key : {pos_key(p->name), neg_key(p->name), scale_key(p->name)})
      BMC_CHECK(file.contains(key), path, " lacks ", key);
    if (file.contains(mask_key(p->name))) {
      const Tensor& m = file.at(mask_key(p->name));
      BMC_CHECK(m.shape() == p->shape, path, ": ", mask_key(p->name), " is ", m.describe(), ", the parameter ",
                p->value.describe());
      p->mask.copy_from(m);
    }
  }
  model.masks_changed();
  LoadedBsq out;
  out.layers = attach_bit_planes(model, 1, {});
  for (BsqLayer& l : out.layers) {
    const std::string& name = l.param->name;
    const Tensor& pos = file.at(pos_key(name));
    BMC_CHECK(pos.rank() == 2 && pos.dim(0) == header.bits.at(name), path, ": ", pos_key(name), " is ", pos.describe(),
              " for a precision of ", header.bits.at(name));
    l.planes->load_planes(pos, file.at(neg_key(name)), file.at(scale_key(name)).to_vector<float>().at(0));
  }
  out.act_bits = header.act_bits;
  if (header.act_bits >= 0) {
    out.acts = attach_bsq_activations(model, header.act_bits, upstream_clamp);
    for (auto& [site, a] : out.acts)
      if (a->pact()) {
        BMC_CHECK(file.contains(alpha_key(site)), path, " lacks the PACT clip ", alpha_key(site));
        a->set_clip(file.at(alpha_key(site)).to_vector<float>().at(0));
      }
  }
  return out;
}

void attach_recorded_bsq_activations(const std::string& weights_path, nn::Model& model) {
  if (io::is_pth_file(weights_path)) return;
  const io::SafeTensors file = io::load_safetensors(weights_path);
  const auto act = file.metadata.find("bsq_act");
  if (act == file.metadata.end()) return;
  int bits = 0;
  try {
    bits = std::stoi(act->second);
  } catch (const std::exception&) {
    BMC_FAIL(weights_path, ": metadata 'bsq_act' is '", act->second, "', not a bit count");
  }
  const auto clips_it = file.metadata.find("bsq_pact_alpha");
  const nlohmann::json clips = clips_it == file.metadata.end()
                                   ? nlohmann::json::object()
                                   : io::parse_json_text(clips_it->second, weights_path + ": metadata 'bsq_pact_alpha'");
  for (auto& [site, a] : attach_bsq_activations(model, bits, false))
    if (a->pact()) {
      BMC_CHECK(clips.contains(site) && clips[site].is_number(), weights_path, " lacks the PACT clip of ", site);
      a->set_clip(clips[site].get<float>());
    }
}

}  // namespace bmc::compress
