#include "train/hparams.h"

#include <cstdio>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "io/atomic_file.h"

namespace bmc::train {
namespace {

// FNV-1a over the canonical JSON text: stable across runs, platforms and builds.
uint64_t fnv1a(const std::string& text) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : text) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

}  // namespace

Duration Duration::parse(const std::string& text) {
  const bool ep = text.size() > 2 && text.compare(text.size() - 2, 2, "ep") == 0;
  const bool it = text.size() > 2 && text.compare(text.size() - 2, 2, "it") == 0;
  BMC_CHECK(ep || it, "bad duration '", text, "': expected a number followed by ep or it (e.g. 40ep, 2000it)");
  const std::string number = text.substr(0, text.size() - 2);
  BMC_CHECK(!number.empty() && number.find_first_not_of("0123456789") == std::string::npos, "bad duration '",
            text, "': expected a non-negative integer before ", ep ? "ep" : "it");
  // At most 18 digits: any such value fits int64 (and `stoll` never throws its own exception).
  BMC_CHECK(number.size() <= 18, "bad duration '", text, "': more than 18 digits");
  return {std::stoll(number), ep};
}

int64_t Duration::steps(int64_t steps_per_epoch) const {
  if (!epochs) return value;
  int64_t out = 0;
  BMC_CHECK(!__builtin_mul_overflow(value, steps_per_epoch, &out), "duration ", str(), " of ", steps_per_epoch,
            "-step epochs overflows the step counter");
  return out;
}

std::string Duration::str() const { return std::to_string(value) + (epochs ? "ep" : "it"); }

std::vector<Duration> parse_durations(const std::string& comma_separated) {
  std::vector<Duration> out;
  size_t start = 0;
  while (start < comma_separated.size()) {
    size_t end = comma_separated.find(',', start);
    if (end == std::string::npos) end = comma_separated.size();
    if (end > start) out.push_back(Duration::parse(comma_separated.substr(start, end - start)));
    start = end + 1;
  }
  return out;
}

nlohmann::json TrainHparams::to_json() const {
  std::vector<std::string> ms;
  for (const Duration& d : milestones) ms.push_back(d.str());
  nlohmann::json j = {{"model", model},
          {"dataset", dataset},
          {"seed", seed},
          {"data_seed", data_seed},
          {"batch_size", batch_size},
          {"lr", lr},
          {"momentum", momentum},
          {"weight_decay", weight_decay},
          {"nesterov", nesterov},
          {"milestones", ms},
          {"gamma", gamma},
          {"warmup", warmup.str()},
          {"training_length", training_length.str()},
          {"augment", augment},
          {"holdout_per_class", holdout_per_class}};
  if (!mask_digest.empty()) j["mask_digest"] = mask_digest;
  if (!init_digest.empty()) j["init_digest"] = init_digest;
  if (!qat.empty()) j["qat"] = qat;
  if (crop_size != 0) j["crop_size"] = crop_size;
  if (num_classes != 0) j["num_classes"] = num_classes;
  if (eval_batch_size != 0) j["eval_batch_size"] = eval_batch_size;
  if (skip_bad_images) j["skip_bad_images"] = true;
  if (resize_size != 0) j["resize_size"] = resize_size;
  if (replicate != 1) j["replicate"] = replicate;
  if (data_parallel_ranks != 1) j["data_parallel_ranks"] = data_parallel_ranks;
  if (sync_batch_norm) j["sync_batch_norm"] = true;
  return j;
}

std::string run_id(const nlohmann::json& hparams) {
  const int replicate = hparams.value("replicate", 1);
  BMC_CHECK(replicate >= 1, "replicate must be 1 or more, got ", replicate);
  if (replicate == 1) return TrainHparams::hash_of(hparams);
  nlohmann::json base = hparams;
  base.erase("replicate");
  for (const char* key : {"seed", "data_seed"})
    if (base.contains(key)) base[key] = base[key].get<uint64_t>() - static_cast<uint64_t>(replicate - 1);
  return TrainHparams::hash_of(base) + "_r" + std::to_string(replicate);
}

std::string without_replicate_suffix(const std::string& name) {
  const size_t r = name.rfind("_r");
  if (r == std::string::npos || r + 2 == name.size()) return name;
  for (size_t i = r + 2; i < name.size(); ++i)
    if (name[i] < '0' || name[i] > '9') return name;
  return name.substr(0, r);
}

std::string file_digest(const std::string& path) {
  char buf[17];
  std::snprintf(buf, sizeof(buf), "%016llx", static_cast<unsigned long long>(fnv1a(io::read_file(path))));
  return buf;
}

std::string TrainHparams::hash() const { return hash_of(to_json()); }

std::string TrainHparams::hash_of(const nlohmann::json& description) {
  char buf[17];
  std::snprintf(buf, sizeof(buf), "%016llx", static_cast<unsigned long long>(fnv1a(description.dump())));
  return buf;
}

}  // namespace bmc::train
