// Model-level pruning: OpenLTH sparse_global counts over levels, layer-wise counts, exclusions,
// masks only shrink, random masks with the same per-layer densities, mask files.
#include <gtest/gtest.h>

#include <filesystem>

#include "compress/prune/model_pruning.h"
#include "io/safetensors.h"
#include "nn/layers.h"
#include "tests/support/compare.h"

namespace bmc {
namespace {

std::unique_ptr<nn::Model> small_mlp(uint64_t seed = 1) {
  auto net = std::make_unique<nn::Sequential>();
  net->append(std::make_unique<nn::Linear>(20, 30));
  net->append(std::make_unique<nn::ReLU>());
  net->append(std::make_unique<nn::Linear>(30, 10));
  auto model = std::make_unique<nn::Model>("test_mlp", std::move(net), Device::cpu());
  model->values().copy_from(test::random_uniform({model->num_parameters()}, seed));
  return model;
}

int64_t ones(const Tensor& t) {
  int64_t n = 0;
  for (float v : t.to_vector<float>()) n += v != 0.0f;
  return n;
}

TEST(ModelPruning, SparseGlobalFollowsOpenLthCountsAndHonoursExclusions) {
  auto model = small_mlp();
  compress::PruningOptions options;
  options.ignore = {"2.weight"};
  int64_t remaining = 600;
  std::vector<float> previous = model->parameter("0.weight").mask.to_vector<float>();
  for (int level = 1; level <= 10; ++level) {
    const int64_t removed = compress::prune_by_magnitude(*model, options);
    EXPECT_EQ(removed, compress::weights_to_prune(remaining, 0.2));
    remaining -= removed;
    EXPECT_EQ(ones(model->parameter("0.weight").mask), remaining) << "level " << level;
    EXPECT_EQ(ones(model->parameter("2.weight").mask), 300) << "ignored layer stays dense";
    EXPECT_EQ(ones(model->parameter("0.bias").mask), 30) << "biases are never pruned";
    const auto now = model->parameter("0.weight").mask.to_vector<float>();
    for (size_t i = 0; i < now.size(); ++i)
      if (previous[i] == 0.0f) {
        ASSERT_EQ(now[i], 0.0f) << "a pruned weight came back at level " << level;
      }
    previous = now;
  }
  EXPECT_EQ(compress::weights_to_prune(600, 0.2), 120);
  EXPECT_EQ(compress::weights_to_prune(7, 0.2), 2) << "ceil, as OpenLTH";
}

TEST(ModelPruning, LayerwisePrunesEachLayerByTheFraction) {
  auto model = small_mlp();
  compress::PruningOptions options;
  options.strategy = compress::PruningStrategy::Layerwise;
  compress::prune_by_magnitude(*model, options);
  EXPECT_EQ(ones(model->parameter("0.weight").mask), 480);
  EXPECT_EQ(ones(model->parameter("2.weight").mask), 240);
}

TEST(ModelPruning, RandomMasksKeepPerLayerCountsAndDependOnTheSeed) {
  auto model = small_mlp();
  compress::prune_by_magnitude(*model, {});
  compress::prune_by_magnitude(*model, {});
  const auto densities = compress::layer_densities(*model, {});
  auto random_a = small_mlp(), random_b = small_mlp();
  compress::apply_random_masks(*random_a, densities, 7);
  compress::apply_random_masks(*random_b, densities, 8);
  for (const auto& d : densities) {
    EXPECT_EQ(ones(random_a->parameter(d.name).mask), d.remaining) << d.name;
    EXPECT_EQ(ones(random_b->parameter(d.name).mask), d.remaining) << d.name;
  }
  EXPECT_NE(random_a->masks().to_vector<float>(), random_b->masks().to_vector<float>());
  EXPECT_NE(random_a->masks().to_vector<float>(), model->masks().to_vector<float>());
  const auto va = random_a->values().to_vector<float>(), ma = random_a->masks().to_vector<float>();
  for (size_t i = 0; i < va.size(); ++i)
    if (ma[i] == 0.0f) {
      ASSERT_EQ(va[i], 0.0f) << "masked weights are zeroed";
    }
}

TEST(ModelPruning, MaskFilesRoundTripAndRejectOtherArchitectures) {
  const std::string path = (std::filesystem::temp_directory_path() / "bmc_test_mask.safetensors").string();
  auto model = small_mlp();
  compress::prune_by_magnitude(*model, {});
  compress::save_mask(path, *model, {});
  auto other = small_mlp(2);
  compress::load_mask(path, *other);
  EXPECT_TRUE(test::bitwise_equal(other->masks(), model->masks()));
  auto net = std::make_unique<nn::Sequential>();
  net->append(std::make_unique<nn::Linear>(20, 30));
  nn::Model different("other_arch", std::move(net), Device::cpu());
  EXPECT_THROW(compress::load_mask(path, different), Error);
  EXPECT_THROW(compress::prunable_parameters(*model, {"no.such.weight"}), Error);
  EXPECT_THROW(compress::parse_pruning_strategy("random"), Error);
  // A mask on a bias is refused: only conv and linear weights are pruned.
  for (nn::Parameter* p : model->parameters())
    if (p->kind == nn::ParamKind::Bias) {
      const Tensor ones = Tensor::full(p->shape, 1.0f);
      io::save_safetensors(path, {{p->name, &ones}});
      EXPECT_THROW(compress::load_mask(path, *other), Error) << p->name;
      break;
    }
  std::filesystem::remove(path);
}

TEST(ModelPruning, AMaskPruningAnIgnoredLayerIsRefused) {
  auto model = small_mlp();
  compress::prune_by_magnitude(*model, {});
  const std::string last = model->parameters().at(2)->name;
  EXPECT_THROW(compress::check_ignored_layers_dense(*model, {last}, "m.safetensors"), Error) << last;
  model->reset_masks();
  EXPECT_NO_THROW(compress::check_ignored_layers_dense(*model, {last}, "m.safetensors"));
}

}  // namespace
}  // namespace bmc
