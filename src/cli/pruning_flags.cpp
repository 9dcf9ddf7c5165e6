#include "cli/pruning_flags.h"

#include <set>
#include <sstream>

#include "train/defaults.h"

namespace bmc::cli {

void declare_pruning_flags(Args& args) {
  args.option("pruning-strategy", "sparse_global", "sparse_global or layerwise");
  args.option("pruning-layers-to-ignore", "",
              "comma-separated parameters left dense, \"none\" for none (default: OpenLTH's for the model)");
}

compress::PruningOptions pruning_from_flags(const Args& args, const std::string& model) {
  compress::PruningOptions options;
  options.strategy = compress::parse_pruning_strategy(args.get("pruning-strategy"));
  const std::string text = args.get("pruning-layers-to-ignore");
  if (!args.given("pruning-layers-to-ignore")) {
    for (const std::string& name : train::model_defaults(model).pruning_layers_to_ignore) options.ignore.insert(name);
  } else if (text != "none") {
    std::stringstream in(text);
    for (std::string name; std::getline(in, name, ',');)
      if (!name.empty()) options.ignore.insert(name);
  }
  return options;
}

void check_pruning_layers(const compress::PruningOptions& options, nn::Model& model) {
  std::set<std::string> known;
  for (nn::Parameter* p : compress::prunable_parameters(model, {})) known.insert(p->name);
  for (const std::string& name : options.ignore)
    if (!known.count(name)) {
      std::string list;
      for (const std::string& k : known) list += (list.empty() ? "" : ", ") + k;
      throw UsageError{"--pruning-layers-to-ignore: " + model.arch() + " has no prunable weight '" + name +
                       "' (prunable: " + list + ")"};
    }
}

}  // namespace bmc::cli
