#include "compress/latticeq/latticeq_model.h"

#include "compress/latticeq/lattice_weight.h"
#include "nn/param_layer.h"

namespace bmc::compress {
namespace {

const char* kind_name(LatticeLayerKind k) {
  switch (k) {
    case LatticeLayerKind::First: return "first";
    case LatticeLayerKind::Last: return "last";
    case LatticeLayerKind::Other: return "other";
  }
  return "other";
}

int dimension_of(const nn::Parameter& w, LatticeLayerKind kind, const LatticeqOptions& o, const std::string& name) {
  if (kind == LatticeLayerKind::First) return 1;
  const Shape& s = w.value.shape();
  if (s.rank() == 2) return o.agreg;
  BMC_CHECK(s.rank() == 4, name, ": LatticeQ quantizes convolutions and linear layers, got weights ", w.value.describe());
  if (s[2] == 1 && s[3] == 1) return o.agreg;
  BMC_CHECK(s[2] == 3 && s[3] == 3, name, ": LatticeQ takes 3x3 and 1x1 kernels after the first layer, got ", s[2], "x",
            s[3]);
  return 3;
}

}  // namespace

std::vector<LatticeLayerPlan> plan_latticeq(nn::Model& model, const LatticeqOptions& o) {
  BMC_CHECK(o.bits_w >= 2 && o.bits_w <= 8, "--bits-w must be 2..8, got ", o.bits_w);
  BMC_CHECK(o.bits_b >= 2 && o.bits_b <= 16, "--bits-b must be 2..16, got ", o.bits_b);
  BMC_CHECK(o.agreg >= 1 && o.agreg <= kMaxLatticeDim, "--agreg must be 1..", kMaxLatticeDim, ", got ", o.agreg);
  std::vector<LatticeLayerPlan> plans;
  const nn::LayerGraph& g = model.graph();
  for (int i : g.with_role(nn::NodeRole::ParamLayer)) {
    const nn::GraphNode& node = g.node(i);
    auto& layer = dynamic_cast<nn::ParamLayer&>(*node.module);
    LatticeLayerPlan p;
    p.name = nn::Module::join_name(node.name, "weight");
    p.weight = &layer.weight();
    p.kind = node.stem ? LatticeLayerKind::First : node.classifier ? LatticeLayerKind::Last : LatticeLayerKind::Other;
    p.conv = p.weight->value.rank() == 4;
    const int bits = p.kind == LatticeLayerKind::Other ? o.bits_w : 8;
    p.shape.channels = p.weight->value.dim(0);
    p.shape.per = p.weight->value.numel() / p.shape.channels;
    p.shape.n = dimension_of(*p.weight, p.kind, o, p.name);
    BMC_CHECK(p.shape.per % p.shape.n == 0, p.name, ": ", p.shape.per, " weights per channel do not split into vectors of ",
              p.shape.n, " (--agreg)");
    p.shape.bits = bits;
    p.shape.shared_basis = p.kind == LatticeLayerKind::Last || o.per_layer;
    p.shape.quantize_basis = o.quantize_basis;
    p.shape.basis_bits = p.kind == LatticeLayerKind::Last ? 8 : o.bits_b;
    // Linear layers never bias-correct; the loss uses the correction only below 4 bits.
    p.bias_correct = o.bias_corr && p.conv && p.kind != LatticeLayerKind::Last;
    p.shape.correct = p.bias_correct && bits < 4;
    p.schedule = lattice_schedule(p.kind, p.shape.n, bits, o.steps, o.restarts);
    p.stream = static_cast<uint32_t>(plans.size());
    plans.push_back(std::move(p));
  }
  BMC_CHECK(!plans.empty(), model.arch(), " has no convolution or linear layer to quantize");
  return plans;
}

Tensor normalized_weights(const LatticeLayerPlan& plan) {
  const std::vector<float> v = plan.weight->value.to_vector<float>();
  const float d = lattice_layer_scale(plan.weight->value, plan.name);
  std::vector<float> wn(v.size());
  for (size_t i = 0; i < v.size(); ++i) wn[i] = v[i] / d;
  return Tensor::from_vector(wn, plan.weight->value.shape(), plan.weight->value.device());
}

void attach_lattice_weight(const LatticeLayerPlan& plan, const std::vector<float>& bases) {
  plan.weight->parametrizations.remove(LatticeWeight::kKind);
  plan.weight->parametrizations.append(
      std::make_unique<LatticeWeight>(plan.shape, bases, plan.bias_correct, plan.weight->value.device()));
}

std::map<std::string, LatticeActQuant*> attach_lattice_activations(nn::Model& model, const LatticeqOptions& o) {
  std::map<std::string, LatticeActQuant*> out;
  const nn::LayerGraph& g = model.graph();
  for (const nn::GraphNode& node : g.nodes()) {
    int bits = 0;
    LatticeActRange range = o.per_channel_a ? LatticeActRange::Quantile : LatticeActRange::AbsMax;
    if (node.role == nn::NodeRole::Pool) {
      bits = 8;
      range = LatticeActRange::AbsMax;
    } else if (node.role == nn::NodeRole::ParamLayer && !node.stem) {
      const bool linear = dynamic_cast<nn::ParamLayer&>(*node.module).weight().value.rank() == 2;
      bits = node.classifier ? 8 : o.bits_a;
      if (node.classifier) range = LatticeActRange::Max;
      else if (linear && range == LatticeActRange::AbsMax) range = LatticeActRange::Max;
    }
    if (bits == 0) continue;
    node.module->remove_transforms(LatticeActQuant::kKind);
    auto& t = node.module->add_transform(nn::TransformSide::Input, std::make_unique<LatticeActQuant>(bits, range));
    out[node.name] = static_cast<LatticeActQuant*>(&t);
  }
  return out;
}

LatticeqSize latticeq_size(nn::Model& model, const std::vector<LatticeLayerPlan>& plans) {
  LatticeqSize s;
  for (const nn::Parameter* p : model.parameters()) s.fp32_bits += 32 * p->value.numel();
  s.float_bits = s.fp32_bits;
  for (const LatticeLayerPlan& p : plans) {
    const int64_t numel = p.weight->value.numel();
    s.float_bits -= 32 * numel;
    s.coordinate_bits += static_cast<int64_t>(p.shape.bits) * numel;
    const int64_t entries = p.shape.bases() * p.shape.n * p.shape.n;
    s.basis_bits += p.shape.quantize_basis ? entries * p.shape.basis_bits + 32 * p.shape.bases() : 32 * entries;
    s.scale_bits += 32;
  }
  return s;
}

nlohmann::json plan_json(const LatticeLayerPlan& p) {
  return {{"name", p.name},
          {"kind", kind_name(p.kind)},
          {"n", p.shape.n},
          {"bits", p.shape.bits},
          {"bases", p.shape.bases()},
          {"per_layer", p.shape.shared_basis},
          {"quantize_basis", p.shape.quantize_basis},
          {"basis_bits", p.shape.basis_bits},
          {"bias_correct", p.bias_correct},
          {"bias_correct_in_search", p.shape.correct},
          {"restarts", p.schedule.restarts},
          {"proposals_per_restart", p.schedule.proposals_per_restart()}};
}

}  // namespace bmc::compress
