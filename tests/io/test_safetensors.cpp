#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>

#include "io/atomic_file.h"
#include "io/safetensors.h"

namespace bmc {
namespace {

std::string temp_path(const std::string& name) {
  return (std::filesystem::temp_directory_path() / ("bmc_test_" + name)).string();
}

TEST(SafeTensors, RoundTripsEveryDtypeAndMetadata) {
  const std::string path = temp_path("roundtrip.safetensors");
  Tensor f = Tensor::from_vector<float>({1.5f, -2.0f, 3.25f, 0.0f}, {2, 2});
  Tensor i8 = Tensor::from_vector<int8_t>({-128, 127}, {2});
  Tensor u8 = Tensor::from_vector<uint8_t>({0, 255, 7}, {3});
  Tensor i32 = Tensor::from_vector<int32_t>({-5}, {1});
  Tensor i64 = Tensor::from_vector<int64_t>({1LL << 40}, {});
  io::save_safetensors(path, {{"w", &f}, {"a.i8", &i8}, {"b.u8", &u8}, {"c", &i32}, {"n", &i64}},
                       {{"model", "mlp"}});
  const io::SafeTensors loaded = io::load_safetensors(path);
  EXPECT_EQ(loaded.metadata.at("model"), "mlp");
  EXPECT_EQ(loaded.at("w").to_vector<float>(), f.to_vector<float>());
  EXPECT_EQ(loaded.at("w").shape(), Shape({2, 2}));
  EXPECT_EQ(loaded.at("a.i8").to_vector<int8_t>(), i8.to_vector<int8_t>());
  EXPECT_EQ(loaded.at("b.u8").to_vector<uint8_t>(), u8.to_vector<uint8_t>());
  EXPECT_EQ(loaded.at("c").to_vector<int32_t>(), i32.to_vector<int32_t>());
  EXPECT_EQ(loaded.at("n").to_vector<int64_t>()[0], 1LL << 40);
  EXPECT_EQ(loaded.at("n").rank(), 0);
  std::filesystem::remove(path);
}

TEST(SafeTensors, RejectsCorruptFilesWithClearErrors) {
  const std::string path = temp_path("corrupt.safetensors");
  io::write_file_atomic(path, "abc");
  EXPECT_THROW(io::load_safetensors(path), Error);
  std::string bad(8, '\0');
  bad[0] = 100;  // header longer than the file
  io::write_file_atomic(path, bad);
  EXPECT_THROW(io::load_safetensors(path), Error);
  const std::string header = R"({"x":{"dtype":"F32","shape":[4],"data_offsets":[0,8]}})";
  std::string truncated(8, '\0');
  truncated[0] = static_cast<char>(header.size());
  truncated += header + std::string(8, '\0');  // 8 bytes where 16 are needed
  io::write_file_atomic(path, truncated);
  try {
    io::load_safetensors(path);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("needs 16 bytes"), std::string::npos) << e.what();
  }
  EXPECT_THROW(io::load_safetensors(temp_path("missing.safetensors")), Error);
  std::filesystem::remove(path);
}

std::string with_header(const std::string& header, size_t data_bytes) {
  std::string file(8, '\0');
  const uint64_t n = header.size();
  std::memcpy(file.data(), &n, 8);
  return file + header + std::string(data_bytes, '\0');
}

// Headers of the wrong JSON types and overlapping tensors are bad input (bmc::Error, one clear
// line), never a JSON library exception.
TEST(SafeTensors, RejectsWrongTypesAndOverlappingTensors) {
  const std::string path = temp_path("types.safetensors");
  const struct {
    const char* header;
    const char* message;
  } cases[] = {
      {R"({"x":{"dtype":7,"shape":[2],"data_offsets":[0,8]}})", "dtype is not a string"},
      {R"({"x":{"dtype":"F32","shape":"2","data_offsets":[0,8]}})", "shape is not a list of non-negative integers"},
      {R"({"x":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}})", "shape is not a list of non-negative integers"},
      {R"({"x":{"dtype":"F32","shape":[2.5],"data_offsets":[0,8]}})", "shape is not a list of non-negative integers"},
      {R"({"x":{"dtype":"F32","shape":[2],"data_offsets":[0,"8"]}})", "data_offsets is not a pair"},
      {R"({"x":{"dtype":"F32","shape":[2],"data_offsets":[0,8,16]}})", "data_offsets is not a pair"},
      {R"({"x":[1,2]})", "lacks dtype, shape or data_offsets"},
      {R"({"__metadata__":[1],"x":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})", "__metadata__ is not a JSON object"},
      {R"({"x":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,8]}})", "shape is too large"},
      {R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})",
       "tensors overlap"},
  };
  for (const auto& c : cases) {
    io::write_file_atomic(path, with_header(c.header, 16));
    try {
      io::load_safetensors(path);
      ADD_FAILURE() << "accepted " << c.header;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(c.message), std::string::npos) << c.header << ": " << e.what();
    }
  }
  // Two tensors side by side (and an empty one anywhere) are fine.
  io::write_file_atomic(path, with_header(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                                          R"("b":{"dtype":"F32","shape":[2],"data_offsets":[8,16]},)"
                                          R"("e":{"dtype":"F32","shape":[0],"data_offsets":[4,4]}})",
                                          16));
  EXPECT_EQ(io::load_safetensors(path).tensors.size(), 3u);
  std::filesystem::remove(path);
}

TEST(SafeTensors, AFlippedDataByteFailsTheChecksum) {
  const std::string path = temp_path("checksum.safetensors");
  const Tensor w = Tensor::from_vector<float>({1.0f, 2.0f, 3.0f, 4.0f}, {4});
  io::save_safetensors(path, {{"w", &w}}, {{"arch", "mlp"}});
  const io::SafeTensors ok = io::load_safetensors(path);
  EXPECT_EQ(ok.metadata, (std::map<std::string, std::string>{{"arch", "mlp"}})) << "the checksum is bmc's, not the caller's";
  std::string bytes = io::read_file(path);
  bytes[bytes.size() - 3] ^= 0x10;  // inside the last float
  io::write_file_atomic(path, bytes);
  try {
    io::load_safetensors(path);
    FAIL() << "a corrupt file loaded";
  } catch (const Error& e) {
    EXPECT_NE(e.message().find("does not match its checksum"), std::string::npos) << e.message();
  }
  std::filesystem::remove(path);
}

TEST(AtomicFile, UncommittedWriteLeavesNothing) {
  const std::string path = temp_path("atomic.txt");
  std::filesystem::remove(path);
  {
    io::AtomicFileWriter w(path);
    w.write("partial");
  }
  EXPECT_FALSE(std::filesystem::exists(path));
  io::write_file_atomic(path, "done");
  EXPECT_EQ(io::read_file(path), "done");
  std::filesystem::remove(path);
}

}  // namespace
}  // namespace bmc
