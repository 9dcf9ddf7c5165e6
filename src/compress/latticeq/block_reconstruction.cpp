#include "compress/latticeq/block_reconstruction.h"

#include <chrono>
#include <cmath>
#include <map>
#include <memory>

#include "nn/graph.h"
#include "ops/elementwise.h"
#include "optim/adam.h"

namespace bmc::compress {
namespace {

// Thrown by Capture to end a forward at the unit, as upstream's forward hook does.
struct StopForward {};

// Keeps a copy of the tensor it sees and stops the forward there.
class Capture : public nn::ActivationTransform {
 public:
  static constexpr const char* kKind = "reconstruction_capture";
  explicit Capture(Tensor& out) : out_(out) {}
  std::string describe() const override { return kKind; }
  Tensor forward(const Tensor& x) override {
    out_ = x.clone();
    throw StopForward{};
  }

 private:
  Tensor& out_;
};

std::map<std::string, nn::Module*> modules_of(nn::Model& model) {
  std::map<std::string, nn::Module*> out;
  model.net().visit_modules([&](const std::string& name, nn::Module& m) { out[name] = &m; });
  return out;
}

// The unit's input (side Input, before its own transforms) or output, for one slice.
Tensor capture(nn::Model& model, nn::Module& unit, nn::TransformSide side, const Tensor& x) {
  Tensor out;
  if (side == nn::TransformSide::Input)
    unit.insert_transform_front(side, std::make_unique<Capture>(out));
  else
    unit.add_transform(side, std::make_unique<Capture>(out));
  try {
    model.forward(x);
  } catch (const StopForward&) {
  }
  unit.remove_transforms(Capture::kKind);
  BMC_CHECK(out.defined(), "block reconstruction: the forward never reached the unit");
  return out;
}

double mean_squares(const Tensor& d) {
  double s = 0;
  for (float e : d.to_vector<float>()) s += static_cast<double>(e) * e;
  return s / static_cast<double>(d.numel());
}

}  // namespace

std::vector<std::string> reconstruction_units(nn::Model& model) {
  std::vector<std::string> units;
  for (const nn::GraphNode& node : model.graph().nodes()) {
    if (node.stem && node.block.empty()) units.push_back(node.name);
    else if (!node.block.empty() && (units.empty() || units.back() != node.block)) units.push_back(node.block);
    else if (node.classifier && node.block.empty()) units.push_back(node.name);
  }
  return units;
}

std::vector<UnitReport> reconstruct_blocks(nn::Model& quantized, nn::Model& fp, const Tensor& images,
                                           const ReconstructionOptions& o,
                                           const std::function<void(const UnitReport&, int epoch)>& progress) {
  BMC_CHECK(o.epochs >= 1 && o.slices >= 1, "block reconstruction: --epochs and --cali-batches must be at least 1");
  const int64_t batch = images.dim(0) / o.slices;
  BMC_CHECK(batch >= 1, "block reconstruction: ", images.dim(0), " calibration images do not fill ", o.slices, " slices");
  const int64_t per_image = images.numel() / images.dim(0);
  Shape slice_shape = images.shape();
  slice_shape[0] = batch;
  std::vector<Tensor> slices;
  for (int j = 0; j < o.slices; ++j) slices.push_back(images.slice(j * batch * per_image, slice_shape));

  const auto q_modules = modules_of(quantized), fp_modules = modules_of(fp);
  quantized.set_training(true);
  fp.set_training(true);
  std::vector<UnitReport> reports;
  for (const std::string& name : reconstruction_units(quantized)) {
    const auto t0 = std::chrono::steady_clock::now();
    nn::Module& unit = *q_modules.at(name);
    nn::Module& fp_unit = *fp_modules.at(name);
    std::vector<Tensor> inputs, targets;
    for (const Tensor& x : slices) {
      targets.push_back(capture(fp, fp_unit, nn::TransformSide::Output, x));
      inputs.push_back(capture(quantized, unit, nn::TransformSide::Input, x));
    }
    std::vector<nn::Parameter*> learned;
    UnitReport report;
    report.name = name;
    unit.visit_parameters([&](const std::string& pname, nn::Parameter& p) {
      if (pname.size() >= 6 && pname.compare(pname.size() - 6, 6, "weight") == 0) {
        learned.push_back(&p);
        report.parameters += p.value.numel();
      }
    });
    optim::AdamOptions adam_options;
    adam_options.amsgrad = true;
    optim::Adam adam(learned, adam_options);
    const float eta_min = 0.1f * o.lr;
    for (int e = 0; e < o.epochs; ++e) {
      const float lr = static_cast<float>(eta_min + (o.lr - eta_min) * (1 + std::cos(M_PI * e / o.epochs)) / 2);
      quantized.zero_grad();
      double mse = 0;
      for (size_t j = 0; j < inputs.size(); ++j) {
        const Tensor out = unit.forward(inputs[j]);
        Tensor d = out.clone();
        ops::axpy(d, -1.0f, targets[j]);
        const bool report_now = j + 1 == inputs.size() && (e == 0 || e + 1 == o.epochs || (e + 1) % 100 == 0);
        if (report_now) mse = mean_squares(d);
        ops::scale(d, 2.0f / static_cast<float>(d.numel()));
        unit.backward(d);
        adam.step(lr);
      }
      if (e == 0) report.mse_first = mse;
      if (e + 1 == o.epochs) report.mse_last = mse;
      if (progress && (e == 0 || e + 1 == o.epochs || (e + 1) % 100 == 0)) {
        report.mse_last = mse;
        progress(report, e);
      }
    }
    report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    reports.push_back(report);
  }
  quantized.set_training(false);
  fp.set_training(false);
  return reports;
}

}  // namespace bmc::compress
