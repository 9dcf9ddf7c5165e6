#include "cli/pruning_flags.h"

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

}  // namespace bmc::cli
