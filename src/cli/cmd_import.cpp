// `bmc import`: a PyTorch checkpoint (.pth, .pth.tar; zip or legacy format) to a bmc safetensors
// checkpoint of a given model, read without Python and executing nothing from the file
// (io/pth.h). Every --checkpoint / --init-from / --mask flag also takes .pth files directly; this
// command makes the conversion explicit, checks the result against the model, and says where the
// state dict was found.
#include <cstdio>
#include <set>

#include "cli/args.h"
#include "cli/commands.h"
#include "compress/prune/model_pruning.h"
#include "io/pth_import.h"
#include "io/state_dict.h"
#include "io/safetensors.h"
#include "models/registry.h"
#include "train/checkpoint.h"

namespace bmc::cli {

int run_import(const std::vector<std::string>& argv) {
  Args args("import", "Convert a PyTorch checkpoint (.pth / .pth.tar) into a bmc safetensors checkpoint.");
  args.positionals("FILE", "the PyTorch checkpoint");
  args.option("model", "", "architecture the checkpoint holds (required), e.g. resnet18");
  args.option("num-classes", "0", "classifier outputs (0: the model's default)");
  args.option("out", "", "safetensors file to write (required)");
  args.option("key", "", "path of the state dict inside the file, e.g. state_dict or a/b (default: found)");
  args.flag("mask", "the file is a mask (a dict of 0/1 tensors, e.g. OpenLTH's mask.pth)");
  args.flag("lenient-globals", "read past unknown globals outside the state dict (e.g. Distiller's optimizer_type)");
  if (!args.parse(argv)) return 0;
  if (args.positional().size() != 1) throw UsageError{"bmc import: give exactly one checkpoint file"};
  if (!args.given("model")) throw UsageError{"bmc import: --model is required"};
  if (!args.given("out")) throw UsageError{"bmc import: --out is required"};
  const std::string& in = args.positional()[0];
  io::PthOptions options;
  options.key = args.get("key");
  options.lenient_globals = args.on("lenient-globals");

  auto model = models::make_model(args.get("model"), Device::cpu(), args.get_int("num-classes"));
  io::PthStateDict pth = io::load_pth(in, options);
  auto describe_source = [&] {
    std::fprintf(stderr, "bmc import: %s: %s format, state dict %s, %zu tensors\n", in.c_str(), pth.format.c_str(),
                 pth.key.empty() ? "at the top level" : ("under '" + pth.key + "'").c_str(), pth.tensors.size());
    for (const std::string& note : pth.notes) std::fprintf(stderr, "bmc import: %s\n", note.c_str());
  };
  if (args.on("mask")) {
    compress::load_mask(in, *model);  // validates names, shapes and 0/1 values
    io::strip_wrapper_prefixes(pth.tensors);
    std::set<std::string> listed, ignore;  // the layers the file leaves out stay out of the mask file
    for (const auto& [name, t] : pth.tensors) listed.insert(name);
    for (const nn::Parameter* p : model->parameters())
      if (!listed.count(p->name)) ignore.insert(p->name);
    compress::save_mask(args.get("out"), *model, ignore);
    describe_source();
    std::printf("%s: mask of %zu layers, density %.4f\n", args.get("out").c_str(), pth.tensors.size(),
                compress::mask_file_density(args.get("out")));
    return 0;
  }
  io::load_state_dict(*model, io::pth_state_dict_for(in, *model, options));
  train::save_weights(args.get("out"), *model);
  describe_source();
  std::printf("%s: %s, %lld parameters\n", args.get("out").c_str(), model->arch().c_str(),
              static_cast<long long>(model->num_parameters()));
  return 0;
}

}  // namespace bmc::cli
