// PyTorch checkpoints read without Python: fixtures written by torch.save (tests/golden/gen_pth.py),
// values as PyTorch wrote them; the layouts users have (bare state dict, pytorch/examples and
// Distiller dicts, DataParallel prefixes, OpenLTH masks, legacy format); and refusals, each one
// error naming the problem: forbidden globals, corrupt archives, storages too short, hand-made
// hostile pickles (../shared/docs/formats/pth.md section 6).
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>

#include "compress/prune/model_pruning.h"
#include "io/pickle.h"
#include "io/pth.h"
#include "io/safetensors.h"
#include "models/registry.h"
#include "tests/support/compare.h"
#include "train/checkpoint.h"

namespace bmc {
namespace {

std::string fixture(const std::string& name) { return std::string(BMC_SOURCE_DIR) + "/tests/golden/pth/" + name; }

const Tensor& find(const io::PthStateDict& sd, const std::string& key) {
  for (const auto& [k, t] : sd.tensors)
    if (k == key) return t;
  throw std::runtime_error("no key " + key);
}

std::string error_of(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const Error& e) {
    return e.message();
  }
  return "";
}

TEST(Pth, TinyStateDictZipAndLegacy) {
  // zip64_sd.pth: every size and offset saturated and carried by ZIP64 extra fields.
  for (const char* name : {"tiny_sd.pth", "tiny_legacy.pth", "zip64_sd.pth"}) {
    const io::PthStateDict sd = io::load_pth(fixture(name));
    EXPECT_EQ(sd.format, std::string(name) == "tiny_legacy.pth" ? "legacy" : "zip");
    ASSERT_EQ(sd.tensors.size(), 2u);
    EXPECT_EQ(sd.tensors[0].first, "w") << "the file's order";
    const Tensor& w = find(sd, "w");
    EXPECT_EQ(w.shape(), (Shape{2, 3}));
    EXPECT_EQ(w.to_vector<float>(), (std::vector<float>{0, 1, 2, 3, 4, 5}));
    const Tensor& nbt = find(sd, "nbt");
    EXPECT_EQ(nbt.dtype(), DType::I64);
    EXPECT_EQ(nbt.rank(), 0);
    EXPECT_EQ(nbt.to_vector<int64_t>(), std::vector<int64_t>{7});
  }
}

TEST(Pth, EveryStorageTypeConverts) {
  const io::PthStateDict sd = io::load_pth(fixture("dtypes.pth"));
  EXPECT_EQ(find(sd, "f16").to_vector<float>(), (std::vector<float>{1.5f, -2.0f, 65504.0f}));
  const auto bf = find(sd, "bf16").to_vector<float>();
  EXPECT_EQ(bf[0], 1.5f);
  EXPECT_EQ(bf[1], -2.0f);
  EXPECT_EQ(bf[2], 3.00405527047391e+38f) << "torch's bfloat16 of 3e38";
  EXPECT_EQ(find(sd, "f64").to_vector<float>(), (std::vector<float>{1.5f, -0.1f}));
  EXPECT_EQ(find(sd, "i8").to_vector<int8_t>(), (std::vector<int8_t>{-1, 2, 3}));
  EXPECT_EQ(find(sd, "u8").to_vector<uint8_t>(), (std::vector<uint8_t>{1, 2, 255}));
  EXPECT_EQ(find(sd, "b").to_vector<uint8_t>(), (std::vector<uint8_t>{1, 0, 1}));
  EXPECT_EQ(find(sd, "i16").to_vector<int32_t>(), (std::vector<int32_t>{-300, 2}));
  EXPECT_EQ(find(sd, "i32").to_vector<int32_t>(), (std::vector<int32_t>{-70000, 2}));
  EXPECT_EQ(find(sd, "i64").to_vector<int64_t>(), (std::vector<int64_t>{-(int64_t{1} << 40), 5}));
  EXPECT_EQ(find(sd, "scalar").to_vector<float>(), std::vector<float>{3.25f});
  EXPECT_EQ(find(sd, "empty").shape(), (Shape{0, 5}));
}

TEST(Pth, ViewsOfOneStorageAreMaterialised) {
  const io::PthStateDict sd = io::load_pth(fixture("views.pth"));
  EXPECT_EQ(find(sd, "v1").to_vector<float>(), (std::vector<float>{6, 8, 10, 12, 14, 16, 18, 20, 22}));
  const auto v2 = find(sd, "v2").to_vector<float>();  // base.t(): v2[i][j] = base[j][i] = 6j + i
  ASSERT_EQ(find(sd, "v2").shape(), (Shape{6, 4}));
  for (int i = 0; i < 6; ++i)
    for (int j = 0; j < 4; ++j) ASSERT_EQ(v2[i * 4 + j], 6.0f * j + i);
  EXPECT_EQ(find(sd, "v3").to_vector<float>(), (std::vector<float>{12, 13, 14, 15, 16, 17}));
  EXPECT_EQ(find(sd, "solo_view").to_vector<float>(), (std::vector<float>{3, 4, 5, 6}));
}

// PyTorch's logits of the fixture LeNet-5 (tests/golden/pth/lenet5_io.safetensors).
void expect_pytorch_logits(nn::Model& model) {
  const io::SafeTensors io = io::load_safetensors(fixture("lenet5_io.safetensors"));
  model.set_training(false);
  const Tensor y = model.forward(io.at("x"));
  EXPECT_TRUE(test::all_close(y, io.at("logits"), 1e-4f, 1e-4f));
}

TEST(Pth, ExamplesDictWithDataParallelKeysAndLegacyFileLoadIntoTheModel) {
  for (const char* name : {"lenet5_examples.pth.tar", "lenet5_legacy.pth"}) {
    auto model = models::make_model("mnist_lenet5", Device::cpu());
    train::load_weights(fixture(name), *model);
    expect_pytorch_logits(*model);
  }
  const io::PthStateDict sd = io::load_pth(fixture("lenet5_examples.pth.tar"));
  EXPECT_EQ(sd.key, "state_dict");
  EXPECT_EQ(sd.tensors.front().first, "module.conv1.weight");
  EXPECT_EQ(io::load_pth(fixture("lenet5_examples.pth.tar"), {"state_dict", false}).tensors.size(), 10u);
  EXPECT_NE(error_of([] { io::load_pth(fixture("lenet5_examples.pth.tar"), {"optimizer/state", false}); })
                .find("not a dict of tensors"),
            std::string::npos);
  EXPECT_NE(error_of([] { io::load_pth(fixture("lenet5_examples.pth.tar"), {"nope", false}); }).find("no dict entry 'nope'"),
            std::string::npos);
}

TEST(Pth, OpenLthMaskLoads) {
  auto model = models::make_model("mnist_lenet5", Device::cpu());
  compress::load_mask(fixture("mask.pth"), *model);
  int64_t fc2 = 0, fc3 = 0;
  for (float v : model->parameter("fc2.weight").mask.to_vector<float>()) fc2 += v != 0.0f;
  for (float v : model->parameter("fc3.weight").mask.to_vector<float>()) fc3 += v != 0.0f;
  EXPECT_EQ(fc2, 5001) << "PyTorch: mask['fc2.weight'].sum()";
  EXPECT_EQ(fc3, 175);
  EXPECT_NEAR(compress::mask_file_density(fixture("mask.pth")), (5001.0 + 175.0) / (10080 + 840), 1e-12);
}

TEST(Pth, ForbiddenGlobalsAndWholeModelsAreRefused) {
  EXPECT_NE(error_of([] { io::load_pth(fixture("forbidden.pth")); }).find("forbidden global posix.system"),
            std::string::npos);
  EXPECT_NE(error_of([] { io::load_pth(fixture("whole_model.pth")); })
                .find("forbidden global torch.nn.modules.container.Sequential"),
            std::string::npos);
  const std::string strict = error_of([] { io::load_pth(fixture("optimizer_type.pth")); });
  EXPECT_NE(strict.find("torch.optim.sgd.SGD"), std::string::npos) << strict;
  const io::PthStateDict lenient = io::load_pth(fixture("optimizer_type.pth"), {"", true});
  EXPECT_EQ(lenient.tensors.size(), 2u);
  EXPECT_EQ(lenient.key, "state_dict");
}

TEST(Pth, CorruptArchivesGiveOneClearError) {
  EXPECT_NE(error_of([] { io::load_pth(fixture("bad_short_record.pth")); }).find("data/0 has 20 bytes, expected 24"),
            std::string::npos);
  EXPECT_NE(error_of([] { io::load_pth(fixture("bad_no_record.pth")); }).find("missing record"), std::string::npos);
  EXPECT_NE(error_of([] { io::load_pth(fixture("bad_no_version.pth")); }).find("missing version record"),
            std::string::npos);
  EXPECT_NE(error_of([] { io::load_pth(fixture("bad_two_roots.pth")); }).find("outside the root folder"),
            std::string::npos);
  // Truncated copies of a good file, and files that are no checkpoint at all.
  std::ifstream in(fixture("tiny_sd.pth"), std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const std::string tmp = (std::filesystem::temp_directory_path() / ("bmc_pth_" + std::to_string(::getpid()))).string();
  for (const size_t keep : {bytes.size() / 2, bytes.size() * 99 / 100, size_t{0}, size_t{3}}) {
    std::ofstream(tmp, std::ios::binary).write(bytes.data(), static_cast<std::streamsize>(keep));
    EXPECT_NE(error_of([&] { io::load_pth(tmp); }), "") << keep << " bytes";
  }
  std::ofstream(tmp) << "just some text\n";
  EXPECT_NE(error_of([&] { io::load_pth(tmp); }).find("not a torch.save checkpoint"), std::string::npos);
  std::filesystem::remove(tmp);
}

// Hand-made pickles against the unpickler directly.
std::string unpickle_error(const std::vector<uint8_t>& bytes) {
  return error_of([&] {
    io::unpickle(bytes.data(), bytes.size(), "test", [](const io::PersistentId&, uint64_t) { return 0; });
  });
}

// The bytes of a string literal, embedded NULs included.
template <size_t N>
std::vector<uint8_t> bytes_of(const char (&s)[N]) {
  return {s, s + N - 1};
}

TEST(Pickle, HostileAndMalformedStreamsAreRefused) {
  // R1: GLOBAL os.system, then a REDUCE: refused at the GLOBAL.
  EXPECT_NE(unpickle_error(bytes_of("\x80\x02" "cos\nsystem\nX\x04\x00\x00\x00true\x85R."))
                .find("forbidden global os.system"),
            std::string::npos);
  EXPECT_NE(unpickle_error(bytes_of("\x80\x02" "cbuiltins\neval\n.")).find("forbidden global builtins.eval"),
            std::string::npos);
  EXPECT_NE(unpickle_error(bytes_of("(X\x04\x00\x00\x00trueios\nsystem\n.")).find("0x69"), std::string::npos)
      << "INST";
  EXPECT_NE(unpickle_error(bytes_of("\x80\x02(ccollections\nOrderedDict\no.")).find("0x6F"), std::string::npos)
      << "OBJ";
  EXPECT_NE(unpickle_error(bytes_of("\x80\x02}}b.")).find("BUILD"), std::string::npos);
  EXPECT_NE(unpickle_error(bytes_of("\x80\x02]K\x01K\x02s.")).find("not a dict"), std::string::npos);
  EXPECT_NE(unpickle_error(bytes_of("\x80\x02R.")).find("underflow"), std::string::npos);
  EXPECT_NE(unpickle_error(bytes_of("\x80\x02h\x05.")).find("memo 5 undefined"), std::string::npos);
  EXPECT_NE(unpickle_error(bytes_of("\x80\x02K\x01")).find("no STOP"), std::string::npos);
  EXPECT_NE(unpickle_error(bytes_of("\x80\x02t.")).find("no MARK"), std::string::npos);
  EXPECT_NE(unpickle_error(bytes_of("\x80\x02X\xff\xff\xff\x7f" "ab.")).find("overruns"), std::string::npos);
  std::vector<uint8_t> wide(4 + 255 + 1, 0x01);  // LONG1 with a 255-byte integer
  wide[0] = 0x80;
  wide[1] = 0x02;
  wide[2] = 0x8A;
  wide[3] = 0xFF;
  wide.back() = '.';
  EXPECT_NE(unpickle_error(wide).find("LONG1 wider than 8 bytes"), std::string::npos);
  EXPECT_NE(unpickle_error(bytes_of("P0\n.")).find("0x50"), std::string::npos) << "text PERSID";
  // A persistent id that is not a storage tuple.
  EXPECT_NE(unpickle_error(bytes_of("\x80\x02X\x01\x00\x00\x00" "0Q.")).find("persistent id"), std::string::npos);
}

TEST(Pickle, ValuesAsPythonWritesThem) {
  // pickle.dumps({'a': 2**40, 'b': -5, 'c': -0.0, 'd': (1, 'x')}, protocol=2) from CPython 3.11.
  const std::string hex =
      "80027d71002858010000006171018a0600000000000158010000006271024afbffffff5801000000637103478000000000"
      "00000058010000006471044b015801000000787105867106752e";
  std::vector<uint8_t> p;
  for (size_t i = 0; i < hex.size(); i += 2) p.push_back(static_cast<uint8_t>(std::stoi(hex.substr(i, 2), nullptr, 16)));
  const io::Unpickled u = io::unpickle(p.data(), p.size(), "test", [](const io::PersistentId&, uint64_t) { return 0; });
  const io::PickleValue& d = u.at(u.root);
  ASSERT_EQ(d.kind, io::PickleValue::Kind::Dict);
  ASSERT_EQ(d.items.size(), 8u);
  EXPECT_EQ(u.at(d.items[1]).i, int64_t{1} << 40);
  EXPECT_EQ(u.at(d.items[3]).i, -5);
  EXPECT_TRUE(std::signbit(u.at(d.items[5]).f));
  EXPECT_EQ(u.at(d.items[5]).f, 0.0);
  EXPECT_EQ(u.at(d.items[7]).kind, io::PickleValue::Kind::Tuple);
  EXPECT_EQ(u.at(u.at(d.items[7]).items[1]).s, "x");
}

}  // namespace
}  // namespace bmc
