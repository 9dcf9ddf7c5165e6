// A restricted Python unpickler for PyTorch checkpoints: it interprets the opcodes and globals
// that torch.load(weights_only=True) allows (plus the protocol 3-5 framing opcodes) into a value
// tree, and executes nothing. Globals are allow-listed symbols, never callables; REDUCE applies
// bmc's own handler for each (an OrderedDict, a tensor rebuild, torch.Size, ...). Anything else is
// refused with the byte offset, the opcode and, for globals, the name. Rules and limits:
// ../shared/docs/formats/pth.md section 2 and 3.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace bmc::io {

// A torch storage class (the second item of a persistent id): element type and size.
enum class StorageKind : uint8_t { F32, F64, F16, BF16, I64, I32, I16, I8, U8, Bool, Untyped };
size_t storage_element_size(StorageKind k);
const char* storage_kind_name(StorageKind k);

struct PickleValue {
  enum class Kind : uint8_t { None, Bool, Int, Float, Str, Bytes, Tuple, List, Dict, Global, Storage, Tensor, Opaque };
  Kind kind = Kind::None;
  int64_t i = 0;        // Bool, Int; Storage: index into the storage table; Tensor: index into tensors
  double f = 0;         // Float
  std::string s;        // Str, Bytes, Global and Opaque names
  std::vector<int> items;  // Tuple/List items; Dict: key, value, key, value, ...
  bool ordered = false;    // Dict from collections.OrderedDict
  int symbol = -1;         // Global: which allow-listed symbol (pickle.cpp)
  StorageKind storage_kind = StorageKind::F32;  // Global: of a storage class or a dtype symbol
};

// A tensor rebuild (torch._utils._rebuild_tensor_v2 and relatives): geometry in elements.
struct PickleTensor {
  int storage = -1;  // index into the storage table the persistent-id callback fills
  int64_t offset = 0;
  std::vector<int64_t> sizes, strides;
  bool requires_grad = false;
  bool has_dtype = false;  // _rebuild_tensor_v3 gives the dtype, the storage is untyped
  StorageKind dtype = StorageKind::F32;
  uint64_t at = 0;         // byte offset of its REDUCE, for messages
};

struct UnpickleOptions {
  // Unknown (not denied) globals become Opaque values instead of errors.
  bool lenient_globals = false;
  // Persistent ids carry 6 items (legacy format) instead of 5 (zip).
  bool legacy_pids = false;
};

class Unpickled {
 public:
  std::vector<PickleValue> nodes;
  std::vector<PickleTensor> tensors;
  int root = -1;
  size_t end = 0;  // byte just after STOP

  const PickleValue& at(int i) const { return nodes.at(static_cast<size_t>(i)); }
  std::string describe(int i) const;  // "dict", "tensor", "int", ...
};

// Resolves a persistent id (the storage tuple's fields) to a storage-table index.
struct PersistentId {
  StorageKind kind;
  std::string key, location;
  int64_t numel;
};
using PersistentLoader = std::function<int(const PersistentId&, uint64_t at)>;

// Unpickles the pickle starting at data[0]; `what` names the source (file and record) in errors.
Unpickled unpickle(const uint8_t* data, size_t size, const std::string& what, const PersistentLoader& load,
                   const UnpickleOptions& options = {});

}  // namespace bmc::io
