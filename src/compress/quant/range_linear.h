// Range-linear post-training quantization with Distiller's semantics (PostTrainLinearQuantizer,
// see docs/ptq_distiller_semantics.md), simulated in float ("fake quantization") without changing
// any layer's code: forward hooks quantize-dequantize activations, and the model's parameters are
// overwritten with their dequantized codes (restore() or the destructor puts the floats back).
//   batch norm: folded into the conv / linear before it (Distiller's fold_batch_norms), which
//     takes the norm's output statistics; the norm then runs as the identity;
//   conv / linear: input quantized with its input statistics, weights per tensor or per output
//     channel (full range, no clipping), bias b_q = round(in_scale * w_scale * b) clamped to the
//     signed accumulator range, output re-quantized with the output statistics;
//   residual add: each input re-scaled onto the sum's grid, the sum quantized with the add's
//     output parameters (Distiller's EltwiseAdd wrapper), the ReLU after it as any ReLU;
//   ReLU, pooling and batch norms that could not be folded: output re-quantized with their own
//     output statistics (Distiller's fake-quant wrapper for the other leaf modules); Flatten:
//     untouched;
//   a module whose output goes through a ReLU takes the ReLU's output statistics (Distiller's
//     activation-stats fusion), read from the layer graph (see fuse_relus()).
// Usage: PostTrainQuantizer q(model, config); q.observe(x) for each calibration batch (eval
// mode, full precision); q.quantize(); evaluate the model; q.restore().
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "compress/quant/act_stats.h"
#include "compress/quant/quant_config.h"
#include "compress/quant/quantizer.h"
#include "nn/model.h"
#include "nn/residual.h"

namespace bmc::data {
class BatchSource;
}

namespace bmc::compress {

enum class QuantRole { Param, Output };

struct LayerQuant {
  std::string name;
  int node = -1;  // in the model's layer graph
  QuantRole role = QuantRole::Output;
  nn::Module* module = nullptr;
  bool full_precision = false;
  ActStatsAccumulator input_acc, output_acc, output_relu_acc;
  ActStats input, output;  // output: after ReLU fusion
  bool fused_relu = false;       // the output goes through a ReLU (output range from the ReLU's)
  bool input_from_prev = false;  // the input is the previous layer's output (or its ReLU): a chain link
  QuantParams in, out;
  // Param layers only.
  RangeLinearQuantizer weights;     // 1 (per tensor) or K (per output channel) parameter sets
  std::vector<float> accum_scale;   // in.scale * w.scale, 1 or K entries
  std::vector<int32_t> w_codes;     // weight codes q (dequantized: (q + zp) / scale)
  std::vector<int64_t> w_shape;
  std::vector<float> b_codes;       // bias codes at the accumulator scale (empty without bias)
  // Batch-norm folding: on a param layer the norm folded into it, on the norm the layer it was
  // folded into (indices into PostTrainQuantizer::layers(); -1: none).
  int folded_norm = -1;
  int folded_into = -1;
};

// A residual block's add, as Distiller's RangeLinearQuantEltwiseAddWrapper: input k re-scaled
// from its producer's grid `in[k]` onto the sum's grid, the sum quantized with `out` (the add's
// output statistics fused with the ReLU after it).
struct AddQuant {
  std::string name;
  int node = -1;
  nn::ResidualBlock* block = nullptr;
  bool full_precision = false;
  ActStatsAccumulator input_acc[2];
  QuantParams in[2], out;
  bool in_from_producer[2] = {true, true};  // else from the add's own input statistics
};

// Distiller's _get_quant_params_from_stats_dict: the clip mode picks the range, then sym or asym.
QuantParams activation_params(const ActStats& s, int bits, QuantMode mode, ClipMode clip, float n_stds);
// Distiller's _get_quant_params_from_tensor without clipping: per tensor, or one set per row of
// `channels` rows (per output channel).
RangeLinearQuantizer weight_params(const std::vector<float>& w, int64_t channels, int bits, QuantMode mode,
                                   bool per_channel);
// The bias code at the accumulator scale: clamp(round(accum_scale * b)), signed `bits_accum` range.
float bias_code(float b, float accum_scale, int bits_accum);

class PostTrainQuantizer {
 public:
  PostTrainQuantizer(nn::Model& model, QuantConfig config);
  ~PostTrainQuantizer();
  PostTrainQuantizer(const PostTrainQuantizer&) = delete;
  PostTrainQuantizer& operator=(const PostTrainQuantizer&) = delete;

  // Calibration: one full-precision eval-mode forward per batch, statistics on every quantized
  // module's input and output.
  void observe(const Tensor& x);
  // The first `batches` batches (epoch-0 order) of `loader`.
  void calibrate(const data::BatchSource& loader, int64_t batches);
  // Computes all quantization parameters, writes the fake-quantized weights and biases into the
  // model and installs the fake-quant hooks. Throws if pruned weights would become non-zero.
  void quantize();
  // Float parameters back, hooks removed.
  void restore();

  const QuantConfig& config() const { return config_; }
  const std::vector<LayerQuant>& layers() const { return layers_; }
  const std::vector<AddQuant>& adds() const { return adds_; }
  // Batch norm name -> the layer it was folded into (after quantize()).
  std::map<std::string, std::string> folded_norms() const;
  // Quantized layers in execution order (indices into layers(); the graph's order).
  const std::vector<size_t>& order() const { return order_; }
  int64_t calibration_batches() const { return batches_; }
  bool quantized() const { return quantized_; }
  nlohmann::json describe() const;

 private:
  void install_observers();
  void remove_transforms();
  void plan_folding();
  void fuse_relus();
  void quantize_param_layer(LayerQuant& l);
  void quantize_add(AddQuant& a);
  // The grid a node's output lies on once quantized (its own output parameters, or those of the
  // layer a folded norm went into); nullopt when it stays in float.
  std::optional<QuantParams> output_grid(int node) const;

  nn::Model& model_;
  QuantConfig config_;
  std::vector<LayerQuant> layers_;
  std::vector<AddQuant> adds_;
  std::vector<int> layer_of_node_;  // graph node -> index in layers_, or -1
  std::vector<size_t> order_;
  int64_t batches_ = 0;
  bool quantized_ = false;
  std::vector<std::vector<float>> saved_values_;  // per model parameter, while quantized
};

}  // namespace bmc::compress
