#include "io/state_dict.h"

#include <algorithm>
#include <map>
#include <sstream>
#include <tuple>

namespace bmc::io {

namespace {

struct Entry {
  std::string key;
  Tensor* tensor;
};

// The module path of a key: everything before the last dot ("" for a top-level tensor).
std::string owner_of(const std::string& key) {
  const size_t dot = key.rfind('.');
  return dot == std::string::npos ? std::string() : key.substr(0, dot);
}

std::vector<Entry> entries(nn::Model& model) {
  std::map<std::string, size_t> module_order;
  model.net().visit_modules(
      [&](const std::string& name, nn::Module&) { module_order.emplace(name, module_order.size()); });
  // Rank (module pre-order index, parameters before buffers, registration order), as PyTorch.
  std::vector<std::pair<std::tuple<size_t, int, size_t>, Entry>> ranked;
  auto add = [&](const std::string& key, Tensor& t, int group) {
    ranked.push_back({{module_order.at(owner_of(key)), group, ranked.size()}, {key, &t}});
  };
  for (nn::Parameter* p : model.parameters()) add(p->name, p->value, 0);
  for (nn::Buffer* b : model.buffers()) add(b->name, b->value, 1);
  std::stable_sort(ranked.begin(), ranked.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<Entry> out;
  for (auto& [rank, e] : ranked) out.push_back(e);
  return out;
}

std::string describe(const Tensor& t) { return std::string(dtype_name(t.dtype())) + " " + t.shape().str(); }

}  // namespace

std::vector<std::pair<std::string, const Tensor*>> state_dict(nn::Model& model) {
  std::vector<std::pair<std::string, const Tensor*>> out;
  for (const Entry& e : entries(model)) out.emplace_back(e.key, e.tensor);
  return out;
}

void load_state_dict(nn::Model& model, const SafeTensors& file) {
  const std::vector<Entry> expected = entries(model);
  std::vector<std::string> missing, unexpected, mismatched;
  std::map<std::string, const Entry*> by_key;
  for (const Entry& e : expected) {
    by_key.emplace(e.key, &e);
    auto it = file.tensors.find(e.key);
    if (it == file.tensors.end()) {
      missing.push_back("missing key '" + e.key + "' (expected " + describe(*e.tensor) + ")");
    } else if (it->second.shape() != e.tensor->shape() || it->second.dtype() != e.tensor->dtype()) {
      mismatched.push_back("key '" + e.key + "': expected " + describe(*e.tensor) + ", found " + describe(it->second));
    }
  }
  for (const auto& [key, t] : file.tensors)
    if (!by_key.count(key)) unexpected.push_back("unexpected key '" + key + "' (" + describe(t) + ")");
  if (!missing.empty() || !unexpected.empty() || !mismatched.empty()) {
    std::ostringstream msg;
    msg << "checkpoint does not fit " << model.arch() << ": " << missing.size() << " missing, " << unexpected.size()
        << " unexpected, " << mismatched.size() << " mismatched keys";
    constexpr size_t kShownPerKind = 5;
    for (const auto* problems : {&missing, &unexpected, &mismatched}) {
      for (size_t i = 0; i < std::min(problems->size(), kShownPerKind); ++i) msg << "\n  " << (*problems)[i];
      if (problems->size() > kShownPerKind) msg << "\n  ... " << problems->size() - kShownPerKind << " more like it";
    }
    BMC_FAIL(msg.str());
  }
  for (const Entry& e : expected) e.tensor->copy_from(file.at(e.key));
}

}  // namespace bmc::io
