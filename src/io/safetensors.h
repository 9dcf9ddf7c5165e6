// safetensors files (the format PyTorch, Hugging Face and bmc use for checkpoints, masks and
// fixtures): u64 little-endian header length, a JSON header mapping each name to dtype, shape and
// byte range, then the raw little-endian data. Loading validates every offset against the file.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "core/tensor.h"

namespace bmc::io {

struct SafeTensors {
  std::map<std::string, Tensor> tensors;  // CPU tensors, sorted by name
  std::map<std::string, std::string> metadata;

  const Tensor& at(const std::string& name) const;
  bool contains(const std::string& name) const { return tensors.count(name) > 0; }
};

SafeTensors load_safetensors(const std::string& path);
// The same from the file's bytes; `name` labels the errors.
SafeTensors parse_safetensors(const std::string& bytes, const std::string& name);

// Writes atomically; tensors on a device are copied to the host first.
void save_safetensors(const std::string& path,
                      const std::vector<std::pair<std::string, const Tensor*>>& tensors,
                      const std::map<std::string, std::string>& metadata = {});

}  // namespace bmc::io
