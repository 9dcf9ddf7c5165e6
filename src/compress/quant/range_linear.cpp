#include "compress/quant/range_linear.h"

#include <algorithm>
#include <cmath>
#include <optional>

#include "core/error.h"
#include "datasets/data_loader.h"
#include "compress/quant/act_transforms.h"
#include "nn/param_layer.h"

namespace bmc::compress {
namespace {

// Distiller replaces conv / linear with the parameter-layer wrapper and every other leaf module
// with the fake-quant (output re-quantization) wrapper. Flatten is a view in Distiller's models,
// not a module, so it is left alone; a residual block's add is quantized through the ReLU after it.
std::optional<QuantRole> role_of(const nn::GraphNode& n) {
  switch (n.role) {
    case nn::NodeRole::ParamLayer: return QuantRole::Param;
    case nn::NodeRole::Activation:
    case nn::NodeRole::Pool:
    case nn::NodeRole::BatchNorm: return QuantRole::Output;
    default: return std::nullopt;
  }
}

void remove_quant_transforms(nn::Module& m) {
  m.remove_transforms(ObserveTransform::kKind);
  m.remove_transforms(FakeQuantTransform::kKind);
}

nlohmann::json params_json(const QuantParams& p) {
  return {{"scale", p.scale}, {"zero_point", p.zero_point}, {"qmin", p.qmin}, {"qmax", p.qmax}};
}
nlohmann::json stats_json(const ActStats& s) {
  return {{"min", s.min}, {"max", s.max}, {"avg_min", s.avg_min}, {"avg_max", s.avg_max},
          {"mean", s.mean}, {"std", s.std}};
}

}  // namespace

QuantParams activation_params(const ActStats& s, int bits, QuantMode mode, ClipMode clip, float n_stds) {
  // Distiller reads the statistics into float32 tensors and clips in float32.
  float lo = static_cast<float>(clip == ClipMode::Avg ? s.avg_min : s.min);
  float hi = static_cast<float>(clip == ClipMode::Avg ? s.avg_max : s.max);
  if (clip == ClipMode::NStd) {
    const float mean = static_cast<float>(s.mean), spread = n_stds * static_cast<float>(s.std);
    lo = std::max(lo, mean - spread);
    hi = std::min(hi, mean + spread);
  }
  if (mode == QuantMode::Sym) return symmetric_params(bits, std::max(std::fabs(lo), std::fabs(hi)));
  return asymmetric_params(bits, lo, hi, mode == QuantMode::AsymS);
}

RangeLinearQuantizer weight_params(const std::vector<float>& w, int64_t channels, int bits, QuantMode mode,
                                   bool per_channel) {
  const int64_t rows = per_channel ? channels : 1;
  BMC_CHECK(rows > 0 && !w.empty() && static_cast<int64_t>(w.size()) % rows == 0, "weight_params: ", w.size(),
            " weights for ", rows, " channels");
  const int64_t per = static_cast<int64_t>(w.size()) / rows;
  std::vector<QuantParams> params;
  for (int64_t r = 0; r < rows; ++r) {
    const auto first = w.begin() + r * per;
    const auto [mn, mx] = std::minmax_element(first, first + per);
    params.push_back(mode == QuantMode::Sym ? symmetric_params(bits, std::max(std::fabs(*mn), std::fabs(*mx)))
                                            : asymmetric_params(bits, *mn, *mx, mode == QuantMode::AsymS));
  }
  return {params, 0};
}

float bias_code(float b, float accum_scale, int bits_accum) {
  const float limit = static_cast<float>(std::ldexp(1.0, bits_accum - 1));
  return clamp_code(rintf(accum_scale * b), -limit, limit - 1.0f);
}

PostTrainQuantizer::PostTrainQuantizer(nn::Model& model, QuantConfig config) : model_(model), config_(std::move(config)) {
  check_bits("weight bits", config_.bits_weights);
  check_bits("activation bits", config_.bits_acts);
  BMC_CHECK(config_.bits_accum >= 16 && config_.bits_accum <= 32, "accumulator bits must be 16..32, got ",
            config_.bits_accum);
  BMC_CHECK(config_.clip != ClipMode::NStd || config_.clip_n_stds > 0, "n_std clipping needs K > 0");
  std::set<std::string> unknown = config_.full_precision;
  const nn::LayerGraph& graph = model_.graph();
  for (size_t i = 0; i < graph.nodes().size(); ++i) {
    const nn::GraphNode& n = graph.nodes()[i];
    unknown.erase(n.name);
    const auto role = role_of(n);
    if (!role) continue;
    LayerQuant l;
    l.name = n.name;
    l.node = static_cast<int>(i);
    l.role = *role;
    l.module = n.module;
    l.full_precision = config_.full_precision.count(n.name) > 0;
    order_.push_back(layers_.size());
    layers_.push_back(std::move(l));
  }
  BMC_CHECK(unknown.empty(), "full-precision layer '", *unknown.begin(), "' is not a module of ", model_.arch());
  BMC_CHECK(!layers_.empty(), model_.arch(), " has no layer to quantize");
}

PostTrainQuantizer::~PostTrainQuantizer() {
  try {
    restore();
  } catch (...) {  // destructors never throw; restore() only fails on a dead device
  }
}

void PostTrainQuantizer::install_observers() {
  for (LayerQuant& l : layers_) {
    l.module->add_transform(nn::TransformSide::Input,
                            std::make_unique<ObserveTransform>([&l](const Tensor& x) { l.input_acc.add(x); }));
    l.module->add_transform(nn::TransformSide::Output, std::make_unique<ObserveTransform>([&l](const Tensor& y) {
                              const std::vector<float> host = y.to_vector<float>();
                              l.output_acc.add(host, y.dim(0));
                              l.output_relu_acc.add(host, y.dim(0), /*relu=*/true);
                            }));
  }
}

void PostTrainQuantizer::remove_transforms() {
  for (LayerQuant& l : layers_) remove_quant_transforms(*l.module);
}

void PostTrainQuantizer::observe(const Tensor& x) {
  BMC_CHECK(!quantized_, "calibration after quantize(): restore() first");
  const bool was_training = model_.net().training();
  model_.set_training(false);
  install_observers();
  try {
    model_.forward(x);
  } catch (...) {
    remove_transforms();
    throw;
  }
  remove_transforms();
  model_.set_training(was_training);
  ++batches_;
}

void PostTrainQuantizer::calibrate(const data::BatchSource& loader, int64_t batches) {
  BMC_CHECK(batches > 0 && batches <= loader.steps_per_epoch(), "calibration batches must be in 1..",
            loader.steps_per_epoch(), ", got ", batches);
  Tensor x, y;
  for (int64_t step = 0; step < batches; ++step) {
    loader.batch(step, x, y);
    observe(x);
  }
}

// Distiller fuses "module -> ReLU" (its traced graph) by giving the module the ReLU's output
// statistics; the layer graph names the ReLU that is a node's only consumer.
void PostTrainQuantizer::fuse_relus() {
  const nn::LayerGraph& graph = model_.graph();
  std::vector<int> layer_of_node(graph.nodes().size(), -1);
  for (size_t i = 0; i < layers_.size(); ++i) layer_of_node[static_cast<size_t>(layers_[i].node)] = static_cast<int>(i);
  for (size_t k = 0; k < layers_.size(); ++k) {
    LayerQuant& l = layers_[k];
    if (l.input_acc.empty()) continue;
    l.input = l.input_acc.stats();
    l.output = l.output_acc.stats();
    const int next = graph.only_consumer(l.node);
    if (next >= 0 && graph.node(next).role == nn::NodeRole::Activation && l.output.min < 0) {
      l.fused_relu = true;
      l.output = l.output_relu_acc.stats();
    }
    // A chain link: the input is the previous quantized layer's output, through reshapes only.
    int in = graph.node(l.node).inputs.size() == 1 ? graph.node(l.node).inputs[0] : -2;
    while (in >= 0 && graph.node(in).role == nn::NodeRole::Reshape) in = graph.node(in).inputs[0];
    l.input_from_prev = k > 0 && in >= 0 && layer_of_node[static_cast<size_t>(in)] == static_cast<int>(k) - 1;
  }
}

void PostTrainQuantizer::quantize_param_layer(LayerQuant& l) {
  auto& layer = dynamic_cast<nn::ParamLayer&>(*l.module);
  nn::Parameter& w = layer.weight();
  nn::Parameter* b = layer.bias();
  const std::vector<float> wv = w.value.to_vector<float>();
  const int64_t k = w.shape[0];
  l.weights = weight_params(wv, k, config_.bits_weights, config_.mode, config_.per_channel);
  l.w_shape = w.shape.to_vector();
  const int64_t per = static_cast<int64_t>(wv.size()) / k;
  l.w_codes.resize(wv.size());
  std::vector<float> wq(wv.size());
  for (size_t i = 0; i < wv.size(); ++i) {
    const QuantParams& p = l.weights.for_channel(static_cast<int64_t>(i) / per);
    const float q = bmc::quantize(wv[i], p);
    l.w_codes[i] = static_cast<int32_t>(q);
    wq[i] = dequantize(q, p);
  }
  w.value.copy_from(Tensor::from_vector(wq, w.shape, w.value.device()));
  l.accum_scale.clear();
  for (const QuantParams& p : l.weights.params) l.accum_scale.push_back(l.in.scale * p.scale);
  if (b == nullptr) return;
  std::vector<float> bv = b->value.to_vector<float>();
  l.b_codes.resize(bv.size());
  for (size_t i = 0; i < bv.size(); ++i) {
    const float s = l.accum_scale[l.accum_scale.size() == 1 ? 0 : i];
    l.b_codes[i] = bias_code(bv[i], s, config_.bits_accum);
    bv[i] = l.b_codes[i] / s;
  }
  b->value.copy_from(Tensor::from_vector(bv, b->shape, b->value.device()));
}

void PostTrainQuantizer::quantize() {
  BMC_CHECK(batches_ > 0, "quantize() needs calibration batches first (observe or calibrate)");
  BMC_CHECK(!quantized_, "quantize() called twice");
  fuse_relus();
  saved_values_.clear();
  for (nn::Parameter* p : model_.parameters()) saved_values_.push_back(p->value.to_vector<float>());
  quantized_ = true;
  const int bits = config_.bits_acts;
  for (LayerQuant& l : layers_) {
    if (l.full_precision) continue;
    BMC_CHECK(!l.input_acc.empty(), "layer ", l.name, " saw no data during calibration");
    l.out = activation_params(l.output, bits, config_.mode, config_.clip, config_.clip_n_stds);
    if (l.role == QuantRole::Param) {
      l.in = activation_params(l.input, bits, config_.mode, config_.clip, config_.clip_n_stds);
      quantize_param_layer(l);
      l.module->add_transform(nn::TransformSide::Input, std::make_unique<FakeQuantTransform>(std::vector{l.in}));
    }
    l.module->add_transform(nn::TransformSide::Output, std::make_unique<FakeQuantTransform>(std::vector{l.out}));
  }
  // Pruned weights must stay pruned: zero maps to code -zero_point, which dequantizes to exactly 0.
  for (nn::Parameter* p : model_.parameters()) {
    if (!p->prunable()) continue;
    const auto v = p->value.to_vector<float>();
    const auto m = p->mask.to_vector<float>();
    for (size_t i = 0; i < v.size(); ++i)
      BMC_CHECK(m[i] != 0.0f || v[i] == 0.0f, "quantization made pruned weight ", p->name, "[", i, "] non-zero (",
                v[i], ")");
  }
}

void PostTrainQuantizer::restore() {
  remove_transforms();
  if (!quantized_) return;
  const auto& params = model_.parameters();
  for (size_t i = 0; i < params.size(); ++i)
    params[i]->value.copy_from(Tensor::from_vector(saved_values_[i], params[i]->shape, params[i]->value.device()));
  saved_values_.clear();
  quantized_ = false;
}

nlohmann::json PostTrainQuantizer::describe() const {
  nlohmann::json layers = nlohmann::json::array();
  for (const size_t i : order_) {
    const LayerQuant& l = layers_[i];
    nlohmann::json j = {{"name", l.name}, {"type", l.module->type_name()}, {"full_precision", l.full_precision},
                        {"fused_relu", l.fused_relu}, {"input_stats", stats_json(l.input)},
                        {"output_stats", stats_json(l.output)}};
    if (!l.full_precision && quantized_) {
      j["output"] = params_json(l.out);
      if (l.role == QuantRole::Param) {
        j["input"] = params_json(l.in);
        nlohmann::json w = nlohmann::json::array();
        for (const QuantParams& p : l.weights.params) w.push_back(params_json(p));
        j["weights"] = w;
        j["accum_scale"] = l.accum_scale;
      }
    }
    layers.push_back(j);
  }
  return {{"bits_weights", config_.bits_weights}, {"bits_acts", config_.bits_acts},
          {"bits_accum", config_.bits_accum}, {"mode", quant_mode_name(config_.mode)},
          {"per_channel", config_.per_channel}, {"clip", clip_name(config_)},
          {"calibration_batches", batches_}, {"layers", layers}};
}

}  // namespace bmc::compress
