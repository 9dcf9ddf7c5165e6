#include "io/pickle.h"

#include <cstring>
#include <map>
#include <unordered_map>

#include "core/error.h"

namespace bmc::io {
namespace {

using Kind = PickleValue::Kind;

enum Symbol : int {
  kOrderedDict,
  kRebuildV2,
  kRebuildV1,
  kRebuildV3,
  kRebuildParameter,
  kRebuildParameterWithState,
  kRebuildFromType,
  kParameterClass,
  kTensorClass,
  kTorchSize,
  kTorchDevice,
  kCodecsEncode,
  kBuiltinSet,
  kStorageClass,
  kDtype,
};

constexpr size_t kMaxStack = 1000000;
constexpr size_t kMaxGlobalName = 256;

struct StorageName {
  const char* name;
  StorageKind kind;
};
constexpr StorageName kStorages[] = {
    {"FloatStorage", StorageKind::F32}, {"DoubleStorage", StorageKind::F64}, {"HalfStorage", StorageKind::F16},
    {"BFloat16Storage", StorageKind::BF16}, {"LongStorage", StorageKind::I64}, {"IntStorage", StorageKind::I32},
    {"ShortStorage", StorageKind::I16}, {"CharStorage", StorageKind::I8}, {"ByteStorage", StorageKind::U8},
    {"BoolStorage", StorageKind::Bool},
};
constexpr StorageName kDtypes[] = {
    {"float32", StorageKind::F32}, {"float", StorageKind::F32}, {"float64", StorageKind::F64},
    {"double", StorageKind::F64}, {"float16", StorageKind::F16}, {"half", StorageKind::F16},
    {"bfloat16", StorageKind::BF16}, {"int64", StorageKind::I64}, {"long", StorageKind::I64},
    {"int32", StorageKind::I32}, {"int", StorageKind::I32}, {"int16", StorageKind::I16},
    {"short", StorageKind::I16}, {"int8", StorageKind::I8}, {"uint8", StorageKind::U8}, {"bool", StorageKind::Bool},
};

bool starts_with(const std::string& s, const char* p) { return s.rfind(p, 0) == 0; }

// Modules never allowed, whatever the mode.
bool denied(const std::string& module) {
  for (const char* m : {"sys", "os", "posix", "nt", "subprocess", "builtins", "__builtin__", "importlib", "runpy",
                        "pickle", "shutil", "socket", "ctypes"})
    if (module == m || starts_with(module, (std::string(m) + ".").c_str())) return true;
  return false;
}

// Globals torch's weights-only loader allows that bmc does not build.
bool torch_only(const std::string& full) {
  for (const char* n : {"torch._utils._rebuild_qtensor", "torch._utils._rebuild_sparse_tensor",
                        "torch._utils._rebuild_sparse_csr_tensor", "torch._utils._rebuild_nested_tensor",
                        "torch._utils._rebuild_meta_tensor_no_storage", "torch._utils._rebuild_wrapper_subclass",
                        "torch._utils._rebuild_device_tensor_from_numpy",
                        "torch._utils._rebuild_device_tensor_from_cpu_tensor", "torch.serialization._get_layout",
                        "torch.ComplexFloatStorage", "torch.ComplexDoubleStorage", "torch.complex64", "torch.complex128",
                        "torch.uint16", "torch.uint32", "torch.uint64"})
    if (full == n) return true;
  if (starts_with(full, "torch.per_") || starts_with(full, "torch.distributed.tensor")) return true;
  if (starts_with(full, "torch.Q") && full.find("Storage") != std::string::npos) return true;
  if (starts_with(full, "torch.float8") || starts_with(full, "torch.float4")) return true;
  if (full.size() > 12 && full.compare(full.size() - 6, 6, "Tensor") == 0 && starts_with(full, "torch.") &&
      full.find('.', 6) == std::string::npos && full != "torch.Tensor")
    return true;  // legacy tensor classes: torch.FloatTensor, ...
  return false;
}

class Machine {
 public:
  Machine(const uint8_t* data, size_t size, const std::string& what, const PersistentLoader& load,
          const UnpickleOptions& options)
      : d_(data), n_(size), what_(what), load_(load), options_(options) {}

  Unpickled run();

 private:
  [[noreturn]] void fail(const std::string& msg) const { BMC_FAIL(what_, "+", op_at_, ": ", msg); }
  void need(size_t bytes) const {
    if (bytes > n_ - pos_) fail("truncated pickle (an operand runs past the end of the data)");
  }
  uint8_t u8() { need(1); return d_[pos_++]; }
  uint64_t le(size_t bytes) {
    need(bytes);
    uint64_t v = 0;
    for (size_t b = 0; b < bytes; ++b) v |= static_cast<uint64_t>(d_[pos_ + b]) << (8 * b);
    pos_ += bytes;
    return v;
  }
  std::string take(uint64_t len) {
    if (len > n_ - pos_) fail("a string of " + std::to_string(len) + " bytes overruns the data");
    std::string s(reinterpret_cast<const char*>(d_ + pos_), static_cast<size_t>(len));
    pos_ += static_cast<size_t>(len);
    return s;
  }
  std::string line() {
    size_t end = pos_;
    while (end < n_ && d_[end] != '\n' && end - pos_ <= kMaxGlobalName) ++end;
    if (end >= n_ || d_[end] != '\n') fail("GLOBAL name without a newline within 256 bytes");
    std::string s(reinterpret_cast<const char*>(d_ + pos_), end - pos_);
    for (char c : s)
      if (c < 0x20 || c > 0x7e) fail("GLOBAL name with a non-printable byte");
    pos_ = end + 1;
    return s;
  }

  int add(PickleValue v) {
    out_.nodes.push_back(std::move(v));
    return static_cast<int>(out_.nodes.size()) - 1;
  }
  int add_kind(Kind k) {
    PickleValue v;
    v.kind = k;
    return add(std::move(v));
  }
  int add_int(int64_t i) {
    PickleValue v;
    v.kind = Kind::Int;
    v.i = i;
    return add(std::move(v));
  }
  void push(int v) {
    if (stack_.size() >= kMaxStack) fail("the pickle stack exceeds 1,000,000 entries");
    stack_.push_back(v);
  }
  int pop() {
    if (stack_.size() <= floor()) fail("stack underflow");
    const int v = stack_.back();
    stack_.pop_back();
    return v;
  }
  int& top() {
    if (stack_.size() <= floor()) fail("stack underflow");
    return stack_.back();
  }
  size_t floor() const { return marks_.empty() ? 0 : marks_.back(); }
  std::vector<int> pop_to_mark() {
    if (marks_.empty()) fail("no MARK before a MARK-consuming opcode");
    const size_t m = marks_.back();
    marks_.pop_back();
    std::vector<int> items(stack_.begin() + static_cast<std::ptrdiff_t>(m), stack_.end());
    stack_.resize(m);
    return items;
  }
  PickleValue& node(int i) { return out_.nodes[static_cast<size_t>(i)]; }

  void global(const std::string& module, const std::string& name);
  int reduce(int callable, int args);
  int rebuild_tensor(const std::vector<int>& a, int version);
  int64_t as_int(int v, const char* what);
  std::vector<int64_t> int_tuple(int v, const char* what);
  void set_items(int dict, const std::vector<int>& kv);
  void check_key(int k);

  const uint8_t* d_;
  size_t n_;
  std::string what_;
  const PersistentLoader& load_;
  UnpickleOptions options_;
  size_t pos_ = 0, op_at_ = 0;
  std::vector<int> stack_;
  std::vector<size_t> marks_;
  std::unordered_map<uint64_t, int> memo_;
  Unpickled out_;
};

void Machine::global(const std::string& module_in, const std::string& name) {
  const std::string module = module_in == "__builtin__" ? "builtins" : (module_in == "copy_reg" ? "copyreg" : module_in);
  const std::string full = module + "." + name;
  PickleValue g;
  g.kind = Kind::Global;
  g.s = full;
  static const std::map<std::string, int> kNamed = {
      {"collections.OrderedDict", kOrderedDict},
      {"torch._utils._rebuild_tensor_v2", kRebuildV2},
      {"torch._utils._rebuild_tensor", kRebuildV1},
      {"torch._utils._rebuild_tensor_v3", kRebuildV3},
      {"torch._utils._rebuild_parameter", kRebuildParameter},
      {"torch._utils._rebuild_parameter_with_state", kRebuildParameterWithState},
      {"torch._tensor._rebuild_from_type_v2", kRebuildFromType},
      {"torch.nn.parameter.Parameter", kParameterClass},
      {"torch.Tensor", kTensorClass},
      {"torch.Size", kTorchSize},
      {"torch.device", kTorchDevice},
      {"_codecs.encode", kCodecsEncode},
      {"builtins.set", kBuiltinSet},
      {"torch.storage.UntypedStorage", kStorageClass},
      {"torch.UntypedStorage", kStorageClass},
  };
  if (const auto it = kNamed.find(full); it != kNamed.end()) {
    g.symbol = it->second;
    g.storage_kind = StorageKind::Untyped;
    return push(add(std::move(g)));
  }
  const std::string bare = starts_with(full, "torch.cuda.") ? "torch." + full.substr(11) : full;
  for (const StorageName& s : kStorages)
    if (bare == std::string("torch.") + s.name) {
      g.symbol = kStorageClass;
      g.storage_kind = s.kind;
      return push(add(std::move(g)));
    }
  for (const StorageName& s : kDtypes)
    if (full == std::string("torch.") + s.name) {
      g.symbol = kDtype;
      g.storage_kind = s.kind;
      return push(add(std::move(g)));
    }
  if (denied(module)) fail("forbidden global " + full);
  if (torch_only(full)) fail("global " + full + " is supported by PyTorch, not by bmc");
  if (!options_.lenient_globals)
    fail("forbidden global " + full + " (not a weights-only global; --lenient-globals reads past it)");
  g.kind = Kind::Opaque;
  push(add(std::move(g)));
}

int64_t Machine::as_int(int v, const char* what) {
  const PickleValue& x = node(v);
  if (x.kind != Kind::Int && x.kind != Kind::Bool) fail(std::string(what) + " must be an integer, got " + out_.describe(v));
  return x.i;
}

std::vector<int64_t> Machine::int_tuple(int v, const char* what) {
  const PickleValue& x = node(v);
  if (x.kind != Kind::Tuple) fail(std::string(what) + " must be a tuple, got " + out_.describe(v));
  if (x.items.size() > 64) fail(std::string(what) + " has more than 64 dimensions");
  std::vector<int64_t> out;
  for (const int i : x.items) out.push_back(as_int(i, what));
  return out;
}

int Machine::rebuild_tensor(const std::vector<int>& a, int version) {
  const size_t min_args = version == 1 ? 4 : (version == 3 ? 7 : 6);
  if (a.size() < min_args || a.size() > min_args + 1)
    fail("tensor rebuild with " + std::to_string(a.size()) + " arguments");
  if (node(a[0]).kind != Kind::Storage) fail("tensor rebuild without a storage (got " + out_.describe(a[0]) + ")");
  PickleTensor t;
  t.storage = static_cast<int>(node(a[0]).i);
  t.offset = as_int(a[1], "storage offset");
  t.sizes = int_tuple(a[2], "size");
  t.strides = int_tuple(a[3], "stride");
  t.at = op_at_;
  if (t.sizes.size() != t.strides.size()) fail("size and stride differ in length");
  if (version >= 2) {
    t.requires_grad = as_int(a[4], "requires_grad") != 0;
    const PickleValue& hooks = node(a[5]);
    if (hooks.kind != Kind::Dict || !hooks.items.empty()) fail("tensor with backward hooks");
  }
  if (version == 3) {
    const PickleValue& dt = node(a[6]);
    if (dt.kind != Kind::Global || dt.symbol != kDtype) fail("_rebuild_tensor_v3 without a dtype");
    t.has_dtype = true;
    t.dtype = dt.storage_kind;
  }
  if (a.size() == min_args + 1) {
    const PickleValue& meta = node(a.back());
    if (meta.kind != Kind::Dict || !meta.items.empty()) fail("tensor with metadata (conjugate or negative bits)");
  }
  out_.tensors.push_back(std::move(t));
  PickleValue v;
  v.kind = Kind::Tensor;
  v.i = static_cast<int64_t>(out_.tensors.size()) - 1;
  return add(std::move(v));
}

int Machine::reduce(int callable, int args_node) {
  const PickleValue& c = node(callable);
  if (c.kind == Kind::Opaque) {
    PickleValue v;
    v.kind = Kind::Opaque;
    v.s = c.s;
    return add(std::move(v));
  }
  if (c.kind != Kind::Global) fail("REDUCE on " + out_.describe(callable) + ", not an allowed global");
  if (node(args_node).kind != Kind::Tuple) fail("REDUCE arguments must be a tuple");
  const std::vector<int> a = node(args_node).items;
  switch (c.symbol) {
    case kOrderedDict: {
      if (!a.empty()) fail("OrderedDict with arguments");
      const int d = add_kind(Kind::Dict);
      node(d).ordered = true;
      return d;
    }
    case kRebuildV2: return rebuild_tensor(a, 2);
    case kRebuildV1: return rebuild_tensor(a, 1);
    case kRebuildV3: return rebuild_tensor(a, 3);
    case kRebuildParameter:
    case kRebuildParameterWithState:
      if (a.empty() || node(a[0]).kind != Kind::Tensor) fail("_rebuild_parameter without a tensor");
      return a[0];
    case kRebuildFromType: {
      if (a.size() != 4) fail("_rebuild_from_type_v2 takes 4 arguments");
      const PickleValue& type = node(a[1]);
      if (type.kind != Kind::Global || (type.symbol != kTensorClass && type.symbol != kParameterClass))
        fail("_rebuild_from_type_v2 of a tensor subclass (" + out_.describe(a[1]) + ")");
      if (node(a[2]).kind != Kind::Tuple) fail("_rebuild_from_type_v2 arguments must be a tuple");
      return reduce(a[0], a[2]);
    }
    case kTorchSize:
      if (a.size() != 1 || node(a[0]).kind != Kind::Tuple) fail("torch.Size takes one tuple");
      return a[0];
    case kTorchDevice: {
      if (a.empty() || a.size() > 2 || node(a[0]).kind != Kind::Str) fail("torch.device takes (str[, int])");
      PickleValue v;
      v.kind = Kind::Str;
      v.s = node(a[0]).s + (a.size() == 2 ? ":" + std::to_string(as_int(a[1], "device index")) : "");
      return add(std::move(v));
    }
    case kCodecsEncode: {
      if (a.size() != 2 || node(a[0]).kind != Kind::Str || node(a[1]).kind != Kind::Str || node(a[1]).s != "latin1")
        fail("_codecs.encode takes (str, 'latin1')");
      PickleValue v;
      v.kind = Kind::Bytes;
      const std::string& u = node(a[0]).s;
      for (size_t i = 0; i < u.size(); ++i) {  // UTF-8 code points <= 255 to single bytes
        const auto c0 = static_cast<unsigned char>(u[i]);
        if (c0 < 0x80) {
          v.s.push_back(static_cast<char>(c0));
        } else if ((c0 & 0xE0) == 0xC0 && i + 1 < u.size() && c0 <= 0xC3) {
          v.s.push_back(static_cast<char>(((c0 & 0x1F) << 6) | (static_cast<unsigned char>(u[++i]) & 0x3F)));
        } else {
          fail("_codecs.encode of a code point above 255");
        }
      }
      return add(std::move(v));
    }
    case kBuiltinSet: {
      if (a.size() != 1 || node(a[0]).kind != Kind::List) fail("set takes one list");
      return a[0];
    }
    default: fail("REDUCE on " + c.s + ", which is not callable here");
  }
}

void Machine::check_key(int k) {
  const Kind kind = node(k).kind;
  if (kind != Kind::Str && kind != Kind::Int && kind != Kind::Bool && kind != Kind::None && kind != Kind::Tuple)
    fail("unhashable dict key (" + out_.describe(k) + ")");
}

void Machine::set_items(int dict, const std::vector<int>& kv) {
  if (node(dict).kind == Kind::Opaque) return;
  if (node(dict).kind != Kind::Dict) fail("SETITEM(S) target is not a dict (" + out_.describe(dict) + ")");
  if (kv.size() % 2 != 0) fail("SETITEMS with an odd number of items");
  for (size_t i = 0; i < kv.size(); i += 2) {
    check_key(kv[i]);
    node(dict).items.push_back(kv[i]);
    node(dict).items.push_back(kv[i + 1]);
  }
}

Unpickled Machine::run() {
  const size_t max_ops = 4 * n_ + 16;
  for (size_t ops = 0; ops < max_ops; ++ops) {
    op_at_ = pos_;
    if (pos_ >= n_) fail("truncated pickle (no STOP)");
    const uint8_t op = d_[pos_++];
    switch (op) {
      case 0x80: u8(); break;                     // PROTO
      case 0x95: le(8); break;                    // FRAME (the frame length is advisory)
      case 0x2E: {                                // STOP
        if (!marks_.empty() || stack_.size() != 1) fail("STOP with " + std::to_string(stack_.size()) + " values and open marks");
        out_.root = stack_.back();
        out_.end = pos_;
        return std::move(out_);
      }
      case 0x63: {                                // GLOBAL
        const std::string module = line();
        const std::string name = line();
        global(module, name);
        break;
      }
      case 0x93: {                                // STACK_GLOBAL
        const int name = pop(), module = pop();
        if (node(name).kind != Kind::Str || node(module).kind != Kind::Str) fail("STACK_GLOBAL needs two strings");
        global(node(module).s, node(name).s);
        break;
      }
      case 0x52: {                                // REDUCE
        const int args = pop();
        const int callable = pop();
        push(reduce(callable, args));
        break;
      }
      case 0x81: {                                // NEWOBJ
        const int args = pop();
        const int cls = pop();
        if (node(cls).kind == Kind::Opaque) {
          push(cls);
          break;
        }
        if (node(cls).kind != Kind::Global || node(cls).symbol != kParameterClass || node(args).kind != Kind::Tuple ||
            node(args).items.empty() || node(node(args).items[0]).kind != Kind::Tensor)
          fail("NEWOBJ is allowed only for torch.nn.parameter.Parameter of a tensor");
        push(node(args).items[0]);
        break;
      }
      case 0x62: {                                // BUILD
        const int state = pop();
        const int target = top();
        if (node(target).kind == Kind::Opaque) break;
        if (node(target).kind != Kind::Dict || !node(target).ordered || node(state).kind != Kind::Dict)
          fail("BUILD is allowed only on an OrderedDict with a dict state (state_dict metadata)");
        break;
      }
      case 0x28: marks_.push_back(stack_.size()); break;  // MARK
      case 0x74: {                                // TUPLE
        const int t = add_kind(Kind::Tuple);
        node(t).items = pop_to_mark();
        push(t);
        break;
      }
      case 0x85: case 0x86: case 0x87: {         // TUPLE1/2/3
        const size_t k = op - 0x84u;
        std::vector<int> items(k);
        for (size_t i = k; i-- > 0;) items[i] = pop();
        const int t = add_kind(Kind::Tuple);
        node(t).items = std::move(items);
        push(t);
        break;
      }
      case 0x29: push(add_kind(Kind::Tuple)); break;  // EMPTY_TUPLE
      case 0x7D: push(add_kind(Kind::Dict)); break;   // EMPTY_DICT
      case 0x5D: push(add_kind(Kind::List)); break;   // EMPTY_LIST
      case 0x8F: push(add_kind(Kind::List)); break;   // EMPTY_SET
      case 0x73: {                                // SETITEM
        const int v = pop(), k = pop();
        set_items(top(), {k, v});
        break;
      }
      case 0x75: {                                // SETITEMS
        const std::vector<int> kv = pop_to_mark();
        set_items(top(), kv);
        break;
      }
      case 0x61: {                                // APPEND
        const int v = pop();
        const int list = top();
        if (node(list).kind != Kind::List) fail("APPEND target is not a list");
        node(list).items.push_back(v);
        break;
      }
      case 0x65: case 0x90: {                     // APPENDS, ADDITEMS
        const std::vector<int> items = pop_to_mark();
        const int list = top();
        if (node(list).kind != Kind::List) fail("APPENDS target is not a list");
        node(list).items.insert(node(list).items.end(), items.begin(), items.end());
        break;
      }
      case 0x71: memo_[u8()] = top(); break;          // BINPUT
      case 0x72: memo_[le(4)] = top(); break;         // LONG_BINPUT
      case 0x94: memo_[memo_.size()] = top(); break;  // MEMOIZE
      case 0x68: case 0x6A: {                         // BINGET, LONG_BINGET
        const uint64_t i = op == 0x68 ? u8() : le(4);
        const auto it = memo_.find(i);
        if (it == memo_.end()) fail("memo " + std::to_string(i) + " undefined");
        push(it->second);
        break;
      }
      case 0x4B: push(add_int(u8())); break;          // BININT1
      case 0x4D: push(add_int(static_cast<int64_t>(le(2)))); break;  // BININT2
      case 0x4A: push(add_int(static_cast<int32_t>(le(4)))); break;  // BININT
      case 0x8A: {                                    // LONG1
        const uint8_t len = u8();
        if (len > 8) fail("LONG1 wider than 8 bytes (" + std::to_string(len) + ")");
        uint64_t v = le(len);
        if (len > 0 && len < 8 && (v >> (8 * len - 1)) & 1) v |= ~uint64_t{0} << (8 * len);  // sign-extend
        push(add_int(static_cast<int64_t>(v)));
        break;
      }
      case 0x47: {                                    // BINFLOAT (big-endian double)
        need(8);
        uint64_t bits = 0;
        for (int b = 0; b < 8; ++b) bits = (bits << 8) | d_[pos_ + static_cast<size_t>(b)];
        pos_ += 8;
        PickleValue v;
        v.kind = Kind::Float;
        std::memcpy(&v.f, &bits, 8);
        push(add(std::move(v)));
        break;
      }
      case 0x58: case 0x8C: case 0x8D: case 0x55:     // BINUNICODE, SHORT_BINUNICODE, BINUNICODE8, SHORT_BINSTRING
      case 0x43: case 0x42: case 0x8E: {              // SHORT_BINBYTES, BINBYTES, BINBYTES8
        const uint64_t len = (op == 0x8C || op == 0x55 || op == 0x43) ? u8() : (op == 0x8D || op == 0x8E) ? le(8) : le(4);
        PickleValue v;
        v.kind = (op == 0x43 || op == 0x42 || op == 0x8E) ? Kind::Bytes : Kind::Str;
        v.s = take(len);
        push(add(std::move(v)));
        break;
      }
      case 0x4E: push(add_kind(Kind::None)); break;   // NONE
      case 0x88: case 0x89: {                         // NEWTRUE, NEWFALSE
        PickleValue v;
        v.kind = Kind::Bool;
        v.i = op == 0x88;
        push(add(std::move(v)));
        break;
      }
      case 0x51: {                                    // BINPERSID
        const int pid = pop();
        const PickleValue& t = node(pid);
        const size_t want = options_.legacy_pids ? 6 : 5;
        if (t.kind != Kind::Tuple || t.items.size() != want)
          fail("persistent id must be a ('storage', ...) tuple of " + std::to_string(want) + " items, got " + out_.describe(pid));
        auto text = [&](int i, const char* what) {
          const PickleValue& x = node(t.items[static_cast<size_t>(i)]);
          if (x.kind != Kind::Str && x.kind != Kind::Bytes) fail(std::string("persistent id ") + what + " must be a string");
          return x.s;
        };
        if (text(0, "tag") != "storage") fail("persistent id of '" + text(0, "tag") + "', only storages are allowed");
        const PickleValue& cls = node(t.items[1]);
        if (cls.kind != Kind::Global || cls.symbol != kStorageClass) fail("persistent id without a storage class");
        PersistentId id{cls.storage_kind, text(2, "key"), text(3, "location"), as_int(t.items[4], "storage size")};
        if (options_.legacy_pids && node(t.items[5]).kind != Kind::None) fail("legacy storage views are not supported");
        PickleValue v;
        v.kind = Kind::Storage;
        v.i = load_(id, op_at_);
        push(add(std::move(v)));
        break;
      }
      default: {
        char hex[8];
        std::snprintf(hex, sizeof(hex), "0x%02X", op);
        fail(std::string("opcode ") + hex + " not allowed (protocol 0/1 text forms, INST, OBJ, PERSID, EXT, DUP, POP "
             "and unknown bytes are refused)");
      }
    }
  }
  fail("more opcodes than the data can hold");
}

}  // namespace

size_t storage_element_size(StorageKind k) {
  switch (k) {
    case StorageKind::F64: case StorageKind::I64: return 8;
    case StorageKind::F32: case StorageKind::I32: return 4;
    case StorageKind::F16: case StorageKind::BF16: case StorageKind::I16: return 2;
    case StorageKind::I8: case StorageKind::U8: case StorageKind::Bool: case StorageKind::Untyped: return 1;
  }
  return 1;
}

const char* storage_kind_name(StorageKind k) {
  switch (k) {
    case StorageKind::F32: return "float32";
    case StorageKind::F64: return "float64";
    case StorageKind::F16: return "float16";
    case StorageKind::BF16: return "bfloat16";
    case StorageKind::I64: return "int64";
    case StorageKind::I32: return "int32";
    case StorageKind::I16: return "int16";
    case StorageKind::I8: return "int8";
    case StorageKind::U8: return "uint8";
    case StorageKind::Bool: return "bool";
    case StorageKind::Untyped: return "untyped";
  }
  return "?";
}

std::string Unpickled::describe(int i) const {
  const PickleValue& v = at(i);
  switch (v.kind) {
    case Kind::None: return "None";
    case Kind::Bool: return "bool";
    case Kind::Int: return "int";
    case Kind::Float: return "float";
    case Kind::Str: return "str";
    case Kind::Bytes: return "bytes";
    case Kind::Tuple: return "tuple";
    case Kind::List: return "list";
    case Kind::Dict: return v.ordered ? "OrderedDict" : "dict";
    case Kind::Global: return "global " + v.s;
    case Kind::Storage: return "storage";
    case Kind::Tensor: return "tensor";
    case Kind::Opaque: return "opaque " + v.s;
  }
  return "?";
}

Unpickled unpickle(const uint8_t* data, size_t size, const std::string& what, const PersistentLoader& load,
                   const UnpickleOptions& options) {
  return Machine(data, size, what, load, options).run();
}

}  // namespace bmc::io
