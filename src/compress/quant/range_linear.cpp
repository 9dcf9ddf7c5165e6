#include "compress/quant/range_linear.h"

#include <algorithm>
#include <cmath>
#include <optional>

#include "core/error.h"
#include "datasets/data_loader.h"
#include "compress/quant/act_transforms.h"
#include "nn/batch_norm.h"
#include "nn/param_layer.h"

namespace bmc::compress {
namespace {

// Distiller replaces conv / linear with the parameter-layer wrapper and every other leaf module
// with the fake-quant (output re-quantization) wrapper. Flatten is a view in Distiller's models,
// not a module, so it is left alone; residual adds have a quantizer of their own (AddQuant).
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
  for (const char* kind : {ObserveTransform::kKind, FakeQuantTransform::kKind, ChannelBiasTransform::kKind,
                           RequantizeTransform::kKind})
    m.remove_transforms(kind);
}

// Distiller's fold (SimulatedFoldedBatchNorm.freeze) in float32 and in its order of operations:
//   r = rsqrt(running_var + eps), W' = W * (gamma * r), b' = beta - gamma * (running_mean - b) * r.
// `b` is the layer's bias (empty: none) and comes back with one entry per output channel.
void fold_batch_norm(nn::Module& norm, std::vector<float>& w, std::vector<float>& b, int64_t channels) {
  std::vector<float> gamma, beta, mean, var;
  norm.visit_parameters([&](const std::string& name, nn::Parameter& p) {
    if (name == "weight") gamma = p.value.to_vector<float>();
    if (name == "bias") beta = p.value.to_vector<float>();
  });
  norm.visit_buffers([&](const std::string& name, nn::Buffer& buf) {
    if (name == "running_mean") mean = buf.value.to_vector<float>();
    if (name == "running_var") var = buf.value.to_vector<float>();
  });
  BMC_CHECK(static_cast<int64_t>(gamma.size()) == channels && beta.size() == gamma.size() &&
                mean.size() == gamma.size() && var.size() == gamma.size(),
            "batch-norm folding: the norm has ", gamma.size(), " channels, the layer before it ", channels);
  if (b.empty()) b.assign(static_cast<size_t>(channels), 0.0f);
  const int64_t per = static_cast<int64_t>(w.size()) / channels;
  for (int64_t c = 0; c < channels; ++c) {
    const float r = 1.0f / std::sqrt(var[c] + nn::BatchNorm2d::kEps);
    const float factor = gamma[c] * r;
    for (int64_t i = 0; i < per; ++i) w[c * per + i] *= factor;
    b[c] = beta[c] - gamma[c] * (mean[c] - b[c]) * r;
  }
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
    if (n.role == nn::NodeRole::Add) {
      AddQuant a;
      a.name = n.name;
      a.node = static_cast<int>(i);
      model_.net().visit_modules([&](const std::string& name, nn::Module& m) {
        if (name == n.block) a.block = dynamic_cast<nn::ResidualBlock*>(&m);
      });
      BMC_CHECK(a.block != nullptr && n.inputs.size() == 2, "add '", n.name, "' is not a residual block's");
      a.full_precision = config_.full_precision.count(n.name) > 0;
      adds_.push_back(std::move(a));
      continue;
    }
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
  layer_of_node_.assign(graph.nodes().size(), -1);
  for (size_t k = 0; k < layers_.size(); ++k) layer_of_node_[static_cast<size_t>(layers_[k].node)] = static_cast<int>(k);
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
  for (AddQuant& a : adds_)
    for (int k = 0; k < 2; ++k)
      a.block->add_input(k).add_transform(
          nn::TransformSide::Input,
          std::make_unique<ObserveTransform>([&a, k](const Tensor& x) { a.input_acc[k].add(x); }));
}

void PostTrainQuantizer::remove_transforms() {
  for (LayerQuant& l : layers_) {
    remove_quant_transforms(*l.module);
    l.module->set_identity(false);
  }
  for (AddQuant& a : adds_)
    for (int k = 0; k < 2; ++k) remove_quant_transforms(a.block->add_input(k));
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

// Distiller folds every conv / linear whose only consumer is a batch norm into it before
// quantizing (a layer kept in full precision is left as it is here: folding would not change it).
void PostTrainQuantizer::plan_folding() {
  const nn::LayerGraph& graph = model_.graph();
  for (size_t k = 0; k < layers_.size(); ++k) {
    LayerQuant& norm = layers_[k];
    const nn::GraphNode& n = graph.node(norm.node);
    if (n.role != nn::NodeRole::BatchNorm || n.inputs.size() != 1 || n.inputs[0] < 0) continue;
    const int prev = layer_of_node_[static_cast<size_t>(n.inputs[0])];
    if (prev < 0 || layers_[prev].role != QuantRole::Param || layers_[prev].full_precision ||
        graph.only_consumer(layers_[prev].node) != norm.node)
      continue;
    layers_[prev].folded_norm = static_cast<int>(k);
    norm.folded_into = prev;
  }
}

// Distiller fuses "module -> ReLU" (its traced graph) by giving the module the ReLU's output
// statistics; the layer graph names the ReLU that is a node's only consumer. A layer with a
// folded norm takes the norm's statistics and its consumer.
void PostTrainQuantizer::fuse_relus() {
  const nn::LayerGraph& graph = model_.graph();
  for (size_t k = 0; k < layers_.size(); ++k) {
    LayerQuant& l = layers_[k];
    if (l.input_acc.empty()) continue;
    const LayerQuant& out_of = l.folded_norm >= 0 ? layers_[l.folded_norm] : l;
    l.input = l.input_acc.stats();
    l.output = out_of.output_acc.stats();
    const int next = graph.only_consumer(out_of.node);
    if (next >= 0 && graph.node(next).role == nn::NodeRole::Activation && l.output.min < 0) {
      l.fused_relu = true;
      l.output = out_of.output_relu_acc.stats();
    }
    // A chain link: the input is the previous quantized layer's output, through reshapes only.
    int in = graph.node(l.node).inputs.size() == 1 ? graph.node(l.node).inputs[0] : -2;
    while (in >= 0 && graph.node(in).role == nn::NodeRole::Reshape) in = graph.node(in).inputs[0];
    l.input_from_prev = k > 0 && in >= 0 && layer_of_node_[static_cast<size_t>(in)] == static_cast<int>(k) - 1;
  }
}

void PostTrainQuantizer::quantize_param_layer(LayerQuant& l) {
  auto& layer = dynamic_cast<nn::ParamLayer&>(*l.module);
  nn::Parameter& w = layer.weight();
  nn::Parameter* b = layer.bias();
  std::vector<float> wv = w.value.to_vector<float>();
  std::vector<float> bv = b != nullptr ? b->value.to_vector<float>() : std::vector<float>();
  const int64_t k = w.shape[0];
  if (l.folded_norm >= 0) {
    nn::Module& norm = *layers_[l.folded_norm].module;
    fold_batch_norm(norm, wv, bv, k);
    norm.set_identity(true);
  }
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
  if (bv.empty()) return;
  l.b_codes.resize(bv.size());
  for (size_t i = 0; i < bv.size(); ++i) {
    const float s = l.accum_scale[l.accum_scale.size() == 1 ? 0 : i];
    l.b_codes[i] = bias_code(bv[i], s, config_.bits_accum);
    bv[i] = l.b_codes[i] / s;
  }
  if (b != nullptr) {
    b->value.copy_from(Tensor::from_vector(bv, b->shape, b->value.device()));
  } else {  // a folded norm gave the layer a bias it has no parameter for
    l.module->add_transform(nn::TransformSide::Output, std::make_unique<ChannelBiasTransform>(Tensor::from_vector(
                                                          bv, Shape{k}, w.value.device())));
  }
}

std::optional<QuantParams> PostTrainQuantizer::output_grid(int node) const {
  if (node < 0) return std::nullopt;
  int k = layer_of_node_[static_cast<size_t>(node)];
  if (k >= 0 && layers_[k].folded_into >= 0) k = layers_[k].folded_into;
  if (k < 0 || layers_[k].full_precision) return std::nullopt;
  return layers_[k].out;
}

// The sum's parameters come from the add's output statistics fused with its ReLU (the block's
// relu_out): those are relu_out's output statistics, and relu_out's own re-quantization with the
// same parameters is then the identity. An input whose producer stays in float is quantized with
// the add's statistics of that input (Distiller's fallback).
void PostTrainQuantizer::quantize_add(AddQuant& a) {
  const nn::LayerGraph& graph = model_.graph();
  const int relu = graph.only_consumer(a.node);
  BMC_CHECK(relu >= 0 && layer_of_node_[static_cast<size_t>(relu)] >= 0, "add '", a.name, "' has no ReLU after it");
  LayerQuant& r = layers_[layer_of_node_[static_cast<size_t>(relu)]];
  a.out = activation_params(r.output, config_.bits_acts, config_.mode, config_.clip, config_.clip_n_stds);
  for (int k = 0; k < 2; ++k) {
    const std::optional<QuantParams> grid = output_grid(graph.node(a.node).inputs[k]);
    a.in_from_producer[k] = grid.has_value();
    a.in[k] = grid ? *grid
                   : activation_params(a.input_acc[k].stats(), config_.bits_acts, config_.mode, config_.clip,
                                       config_.clip_n_stds);
    a.block->add_input(k).add_transform(nn::TransformSide::Input,
                                        std::make_unique<RequantizeTransform>(a.in[k], a.out, config_.bits_accum));
  }
  r.module->insert_transform_front(nn::TransformSide::Input, std::make_unique<FakeQuantTransform>(std::vector{a.out}));
}

void PostTrainQuantizer::quantize() {
  BMC_CHECK(batches_ > 0, "quantize() needs calibration batches first (observe or calibrate)");
  BMC_CHECK(!quantized_, "quantize() called twice");
  plan_folding();
  fuse_relus();
  saved_values_.clear();
  for (nn::Parameter* p : model_.parameters()) saved_values_.push_back(p->value.to_vector<float>());
  quantized_ = true;
  const int bits = config_.bits_acts;
  for (LayerQuant& l : layers_) {
    if (l.full_precision || l.folded_into >= 0) continue;
    BMC_CHECK(!l.input_acc.empty(), "layer ", l.name, " saw no data during calibration");
    l.out = activation_params(l.output, bits, config_.mode, config_.clip, config_.clip_n_stds);
    if (l.role == QuantRole::Param) {
      l.in = activation_params(l.input, bits, config_.mode, config_.clip, config_.clip_n_stds);
      quantize_param_layer(l);
      l.module->add_transform(nn::TransformSide::Input, std::make_unique<FakeQuantTransform>(std::vector{l.in}));
    }
    l.module->add_transform(nn::TransformSide::Output, std::make_unique<FakeQuantTransform>(std::vector{l.out}));
  }
  for (AddQuant& a : adds_)
    if (!a.full_precision) quantize_add(a);
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
    if (l.folded_norm >= 0) j["folded_norm"] = layers_[l.folded_norm].name;
    if (l.folded_into >= 0) {
      j = {{"name", l.name}, {"type", l.module->type_name()}, {"folded_into", layers_[l.folded_into].name}};
    } else if (!l.full_precision && quantized_) {
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
  nlohmann::json adds = nlohmann::json::array();
  for (const AddQuant& a : adds_) {
    nlohmann::json j = {{"name", a.name}, {"full_precision", a.full_precision}};
    if (!a.full_precision && quantized_) {
      j["output"] = params_json(a.out);
      j["inputs"] = {params_json(a.in[0]), params_json(a.in[1])};
      j["inputs_from_producer"] = {a.in_from_producer[0], a.in_from_producer[1]};
    }
    adds.push_back(j);
  }
  return {{"bits_weights", config_.bits_weights}, {"bits_acts", config_.bits_acts},
          {"bits_accum", config_.bits_accum}, {"mode", quant_mode_name(config_.mode)},
          {"per_channel", config_.per_channel}, {"clip", clip_name(config_)},
          {"calibration_batches", batches_}, {"layers", layers}, {"adds", adds}};
}

std::map<std::string, std::string> PostTrainQuantizer::folded_norms() const {
  std::map<std::string, std::string> folded;
  for (const LayerQuant& l : layers_)
    if (l.folded_into >= 0) folded[l.name] = layers_[l.folded_into].name;
  return folded;
}

}  // namespace bmc::compress
