// ImageNet's layouts: the devkit's meta.mat (a miniature written by scipy.io.savemat,
// tests/golden/gen_devkit.py; compressed and not) and the flat val/ labelled by the devkit's
// ground truth, by LOC_val_solution.csv, or refused with what to provide.
#include <gtest/gtest.h>

#include <filesystem>

#include "core/error.h"
#include "datasets/imagenet.h"
#include "datasets/mat_file.h"
#include "io/atomic_file.h"
#include "tests/datasets/data_files.h"

namespace bmc {
namespace {

namespace fs = std::filesystem;

std::string devkit(const std::string& name) { return std::string(BMC_SOURCE_DIR) + "/tests/golden/devkit/" + name; }

TEST(MatFile, ReadsTheDevkitSynsetsCompressedOrNot) {
  for (const char* file : {"meta.mat", "meta_uncompressed.mat"}) {
    const auto vars = data::read_mat_file(devkit(file));
    ASSERT_EQ(vars.count("synsets"), 1u) << file;
    const data::MatValue& s = vars.at("synsets");
    ASSERT_EQ(s.kind, data::MatValue::Kind::Struct);
    EXPECT_EQ(s.dims, (std::vector<int64_t>{5, 1}));
    ASSERT_EQ(s.elements.size(), 5u);
    EXPECT_EQ(s.field(0, "WNID").text, "n01484850");
    EXPECT_EQ(s.field(1, "words").text, "tench, Tinca tinca");
    EXPECT_EQ(s.field(2, "ILSVRC2012_ID").numbers, std::vector<double>{3});
    EXPECT_EQ(s.field(3, "num_children").numbers, std::vector<double>{2});
    EXPECT_EQ(s.field(3, "children").numbers, (std::vector<double>{1, 2}));
    EXPECT_THROW(s.field(0, "nope"), Error);
  }
}

TEST(MatFile, RefusesWhatIsNotALevel5MatFile) {
  test::TempDir dir;
  test::write_bytes(dir / "short.mat", {1, 2, 3});
  EXPECT_THROW(data::read_mat_file(dir / "short.mat"), Error);
  std::vector<uint8_t> header(128, ' ');
  header[126] = 'M';
  header[127] = 'I';  // big-endian
  test::write_bytes(dir / "be.mat", header);
  EXPECT_THROW(data::read_mat_file(dir / "be.mat"), Error);
  // A truncated copy of the real fixture.
  const std::string real = io::read_file(devkit("meta_uncompressed.mat"));
  test::write_bytes(dir / "cut.mat", std::vector<uint8_t>(real.begin(), real.begin() + 400));
  EXPECT_THROW(data::read_mat_file(dir / "cut.mat"), Error);
}

// train/<3 wnids>/ and a flat val/ of 4 images.
void make_folder(const test::TempDir& dir) {
  for (const char* w : {"n01440764", "n01443537", "n01484850"}) {
    fs::create_directories(dir / ("train/" + std::string(w)));
    test::write_bytes(dir / ("train/" + std::string(w) + "/a.png"), test::png_bytes(4, 4, 3, test::pattern_pixels(4, 4, 3, 1)));
  }
  fs::create_directories(dir / "val");
  for (int i = 1; i <= 4; ++i)
    test::write_bytes(dir / ("val/ILSVRC2012_val_0000000" + std::to_string(i) + ".JPEG"),
                      test::png_bytes(4, 4, 3, test::pattern_pixels(4, 4, 3, i)));
}

TEST(Imagenet, FlatValLabelledByTheDevkit) {
  test::TempDir dir;
  make_folder(dir);
  EXPECT_THROW(data::list_imagenet(dir.path()), Error) << "no labels yet";
  const fs::path data = fs::path(dir.path()) / "ILSVRC2012_devkit_t12" / "data";
  fs::create_directories(data);
  fs::copy_file(devkit("ILSVRC2012_validation_ground_truth.txt"), data / "ILSVRC2012_validation_ground_truth.txt");
  try {
    data::list_imagenet(dir.path());
    ADD_FAILURE() << "ground truth without meta.mat must be refused";
  } catch (const Error& e) {
    EXPECT_NE(e.message().find("meta.mat"), std::string::npos) << e.message();
  }
  fs::copy_file(devkit("meta.mat"), data / "meta.mat");
  const data::ImagenetLists lists = data::list_imagenet(dir.path());
  ASSERT_EQ(lists.val.entries.size(), 4u);
  // IDs 2 3 1 2 -> n01440764, n01443537, n01484850, n01440764 -> sorted class indices 0 1 2 0.
  std::vector<int32_t> labels;
  for (const auto& e : lists.val.entries) labels.push_back(e.label);
  EXPECT_EQ(labels, (std::vector<int32_t>{0, 1, 2, 0}));
  EXPECT_EQ(fs::path(lists.val.entries[2].path).filename(), "ILSVRC2012_val_00000003.JPEG");
  EXPECT_NE(lists.layout.find("ground_truth"), std::string::npos);
}

TEST(Imagenet, FlatValLabelledByLocSolutionAndUnknownClassesRefused) {
  test::TempDir dir;
  make_folder(dir);
  io::write_file_atomic(dir / "LOC_val_solution.csv",
                        "ImageId,PredictionString\nILSVRC2012_val_00000002,n01484850 1 2 3 4\n"
                        "ILSVRC2012_val_00000001,n01443537 1 2 3 4 n01443537 5 6 7 8\n"
                        "ILSVRC2012_val_00000003,n01440764 0 0 1 1\nILSVRC2012_val_00000004,n01440764 0 0 1 1\n");
  const data::ImagenetLists lists = data::list_imagenet(dir.path());
  std::vector<int32_t> labels;
  for (const auto& e : lists.val.entries) labels.push_back(e.label);
  EXPECT_EQ(labels, (std::vector<int32_t>{1, 2, 0, 0})) << "sorted by file: val_1, val_2, val_3, val_4";
  io::write_file_atomic(dir / "LOC_val_solution.csv", "ImageId,PredictionString\nILSVRC2012_val_00000001,n09999999 1 2 3 4\n");
  EXPECT_THROW(data::list_imagenet(dir.path()), Error);
}

}  // namespace
}  // namespace bmc
