// PyTorch checkpoints (.pth, .pth.tar) read without Python: the zip format torch.save writes since
// 1.6 and the legacy pickle-stream format, through the restricted unpickler (io/pickle.h), so no
// code in the file ever runs. The result is the checkpoint's state dict as bmc tensors: float16,
// bfloat16 and float64 become f32, bool becomes u8, int16 becomes i32; views are materialised
// row-major. Where the state dict sits is found as users save it: a bare state_dict (torchvision,
// OpenLTH), {"state_dict": ...} (Distiller, BSQ, pytorch/examples), {"model_state_dict": ...}
// (OpenLTH's checkpoint.pth), or a path given with `key`. Byte layouts and the refusal rules:
// ../shared/docs/formats/pth.md.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "core/tensor.h"

namespace bmc::io {

struct PthOptions {
  std::string key;               // "a/b": the dict at this path holds the state dict
  bool lenient_globals = false;  // read past unknown (not denied) globals outside the state dict
};

struct PthStateDict {
  std::vector<std::pair<std::string, Tensor>> tensors;  // in the file's order
  std::string format;                                    // "zip" or "legacy"
  std::string key;                                       // where the state dict was found ("" top level)
  std::vector<std::string> notes;                        // skipped non-tensor entries, ignored values
};

// True when the file starts like a torch.save checkpoint (zip or legacy pickle stream).
bool is_pth_file(const std::string& path);
PthStateDict load_pth(const std::string& path, const PthOptions& options = {});
// The same from bytes in memory (`what` names them in errors); the tensors are copies.
PthStateDict load_pth_bytes(const uint8_t* data, size_t size, const std::string& what, const PthOptions& options = {});

}  // namespace bmc::io
