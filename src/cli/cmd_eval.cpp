// `bmc eval`: evaluate a checkpoint (optionally masked) on the test split: top-1, top-5, loss,
// and optionally the logits of every test example (safetensors tensor "logits", dataset order).
#include <cstdio>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/session.h"
#include "cli/train_flags.h"
#include "compress/bsq/bsq_model.h"
#include "io/safetensors.h"
#include "train/checkpoint.h"
#include "train/defaults.h"
#include "train/evaluate.h"

namespace bmc::cli {

int run_eval(const std::vector<std::string>& argv) {
  Args args("eval", "Evaluate a checkpoint on the test (or held-out) split.");
  declare_model_data_flags(args);
  args.option("checkpoint", "", "model weights (safetensors state_dict), required");
  args.option("mask", "", "apply this mask before evaluating");
  args.option("logits", "", "write the logits of the evaluated split to this safetensors file");
  if (!args.parse(argv)) return 0;
  train::TrainHparams hp = checkpoint_hparams_from_flags(args, "eval");

  Session session(args, hp);
  auto model = session.load_model(args.get("checkpoint"), args.get("mask"));
  // A BSQ float export computes with the activation quantizers it was trained with.
  compress::attach_recorded_bsq_activations(args.get("checkpoint"), *model);
  Tensor logits;
  const train::EvalResult ev =
      train::evaluate(*model, session.test_loader(), args.given("logits") ? &logits : nullptr, "eval");
  if (args.given("logits")) io::save_safetensors(args.get("logits"), {{"logits", &logits}});

  nlohmann::json hp_json = {{"checkpoint", hp.init_digest}, {"mask", hp.mask_digest}, {"model", hp.model},
                            {"dataset", hp.dataset}, {"holdout_per_class", hp.holdout_per_class}};
  const io::RunDir dir = io::RunDir::open(args.get("out"), "eval", train::file_digest(args.get("checkpoint")) +
                                          (hp.mask_digest.empty() ? "" : "_" + hp.mask_digest), hp_json);
  const nlohmann::json summary = session.eval_summary(ev);
  dir.write_summary(summary);
  return session.report(dir, summary);
}

}  // namespace bmc::cli
