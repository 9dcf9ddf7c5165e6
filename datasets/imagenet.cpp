#include "datasets/imagenet.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "core/error.h"
#include "datasets/mat_file.h"

namespace bmc::data {
namespace {

namespace fs = std::filesystem;

bool has_subfolder(const fs::path& dir) {
  for (const auto& e : fs::directory_iterator(dir))
    if (e.is_directory()) return true;
  return false;
}

// LOC_val_solution.csv: "ImageId,PredictionString" then "ILSVRC2012_val_00000001,n01751748 x y x y ...".
ImageList val_from_loc_solution(const fs::path& val_dir, const fs::path& csv, const std::vector<std::string>& classes) {
  std::map<std::string, int32_t> index;
  for (size_t i = 0; i < classes.size(); ++i) index[classes[i]] = static_cast<int32_t>(i);
  std::ifstream in(csv);
  BMC_CHECK(in.good(), csv.string(), ": cannot read");
  ImageList list;
  list.dir = val_dir.string();
  list.class_names = classes;
  std::string line;
  int line_no = 0;
  std::map<std::string, std::string> files;  // ImageId -> file name in val/
  for (const auto& e : fs::directory_iterator(val_dir))
    if (e.is_regular_file() && has_image_extension(e.path().filename().string()))
      files[e.path().stem().string()] = e.path().filename().string();
  while (std::getline(in, line)) {
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty() || (line_no == 1 && line.rfind("ImageId", 0) == 0)) continue;
    const size_t comma = line.find(',');
    BMC_CHECK(comma != std::string::npos, csv.string(), ":", line_no, ": expected 'ImageId,PredictionString'");
    const std::string id = line.substr(0, comma);
    std::istringstream pred(line.substr(comma + 1));
    std::string wnid;
    BMC_CHECK(static_cast<bool>(pred >> wnid), csv.string(), ":", line_no, ": no class for ", id);
    const auto c = index.find(wnid);
    BMC_CHECK(c != index.end(), csv.string(), ":", line_no, ": class ", wnid, " is not a folder of the train split");
    const auto f = files.find(id);
    BMC_CHECK(f != files.end(), csv.string(), ":", line_no, ": image ", id, " is not in ", val_dir.string());
    list.entries.push_back({(val_dir / f->second).string(), c->second});
  }
  BMC_CHECK(!list.entries.empty(), csv.string(), ": no images listed");
  std::sort(list.entries.begin(), list.entries.end(), [](const ImageEntry& a, const ImageEntry& b) { return a.path < b.path; });
  return list;
}

// The devkit: data/ILSVRC2012_validation_ground_truth.txt holds one ILSVRC2012_ID per line (line i
// labels ILSVRC2012_val_<i, 8 digits>), and data/meta.mat's `synsets` maps the IDs of its leaves
// (num_children 0) to WNIDs.
ImageList val_from_devkit(const fs::path& val_dir, const fs::path& truth, const fs::path& meta,
                          const std::vector<std::string>& classes) {
  const auto vars = read_mat_file(meta.string());
  const auto it = vars.find("synsets");
  BMC_CHECK(it != vars.end() && it->second.kind == MatValue::Kind::Struct, meta.string(), ": no 'synsets' struct array");
  const MatValue& synsets = it->second;
  std::map<int64_t, std::string> wnid_of;
  for (size_t e = 0; e < synsets.elements.size(); ++e) {
    const MatValue& id = synsets.field(e, "ILSVRC2012_ID");
    const MatValue& wnid = synsets.field(e, "WNID");
    const MatValue& children = synsets.field(e, "num_children");
    BMC_CHECK(id.numbers.size() == 1 && wnid.kind == MatValue::Kind::Char && children.numbers.size() == 1,
              meta.string(), ": synset ", e, " lacks a scalar ILSVRC2012_ID, a WNID or num_children");
    if (children.numbers[0] == 0) wnid_of[static_cast<int64_t>(id.numbers[0])] = wnid.text;
  }
  std::map<std::string, int32_t> index;
  for (size_t i = 0; i < classes.size(); ++i) index[classes[i]] = static_cast<int32_t>(i);
  std::map<std::string, std::string> files;
  for (const auto& e : fs::directory_iterator(val_dir))
    if (e.is_regular_file() && has_image_extension(e.path().filename().string()))
      files[e.path().stem().string()] = e.path().filename().string();
  std::ifstream in(truth);
  BMC_CHECK(in.good(), truth.string(), ": cannot read");
  ImageList list;
  list.dir = val_dir.string();
  list.class_names = classes;
  std::string line;
  for (int64_t n = 1; std::getline(in, line); ++n) {
    char id[40];
    std::snprintf(id, sizeof(id), "ILSVRC2012_val_%08lld", static_cast<long long>(n));
    char* end = nullptr;
    const long long label = std::strtoll(line.c_str(), &end, 10);
    BMC_CHECK(end != line.c_str(), truth.string(), ":", n, ": expected an ILSVRC2012_ID, got '", line, "'");
    const auto w = wnid_of.find(label);
    BMC_CHECK(w != wnid_of.end(), truth.string(), ":", n, ": ILSVRC2012_ID ", label, " is no leaf synset of ", meta.string());
    const auto c = index.find(w->second);
    BMC_CHECK(c != index.end(), truth.string(), ":", n, ": class ", w->second, " is not a folder of the train split");
    const auto f = files.find(id);
    if (f == files.end()) continue;  // a subset of val/ is fine; every present image must be labelled
    list.entries.push_back({(val_dir / f->second).string(), c->second});
    files.erase(f);
  }
  BMC_CHECK(files.empty(), truth.string(), ": no label for ", val_dir.string(), "/", files.begin()->second);
  BMC_CHECK(!list.entries.empty(), truth.string(), ": no image of ", val_dir.string(), " is labelled");
  return list;
}

}  // namespace

ImagenetLists list_imagenet(const std::string& root_in) {
  const fs::path root(root_in);
  BMC_CHECK(fs::is_directory(root), root_in, ": dataset folder does not exist");
  ImagenetLists out;
  const bool has_train = fs::is_directory(root / "train"), has_val = fs::is_directory(root / "val");
  if (!has_train && !has_val) {
    BMC_CHECK(has_subfolder(root), root_in, ": neither train/ and val/ folders nor class folders");
    ImageFolderOptions o;
    o.split = "";
    out.train = list_image_folder(root_in, o);
    out.val = out.train;
    out.layout = "one folder of class folders (train and evaluate on the same images)";
    return out;
  }
  BMC_CHECK(has_train, root_in, ": has val/ but no train/ (the class list comes from train/<class>/ folders)");
  ImageFolderOptions train;
  train.split = "train";
  out.train = list_image_folder(root_in, train);
  BMC_CHECK(has_val, root_in, ": no val/ folder");
  if (has_subfolder(root / "val")) {
    ImageFolderOptions val;
    val.split = "val";
    out.val = list_image_folder(root_in, val);
    BMC_CHECK(out.val.class_names == out.train.class_names, root_in, ": val/ has ", out.val.class_names.size(),
              " class folders that differ from train/'s ", out.train.class_names.size());
    out.layout = "train/ and val/ class folders";
    return out;
  }
  for (const fs::path& csv : {root / "LOC_val_solution.csv", root.parent_path() / "LOC_val_solution.csv"}) {
    if (!fs::exists(csv)) continue;
    out.val = val_from_loc_solution(root / "val", csv, out.train.class_names);
    out.layout = "flat val/ labelled by " + csv.string();
    return out;
  }
  if (fs::exists(root / "val_labels.txt")) {
    ImageFolderOptions val;
    val.split = "val";
    val.labels_file = (root / "val_labels.txt").string();
    val.class_names = out.train.class_names;
    out.val = list_image_folder(root_in, val);
    out.layout = "flat val/ labelled by val_labels.txt";
    return out;
  }
  for (const fs::path& data : {root / "ILSVRC2012_devkit_t12" / "data", root}) {
    const fs::path truth = data / "ILSVRC2012_validation_ground_truth.txt";
    if (!fs::exists(truth)) continue;
    BMC_CHECK(fs::exists(data / "meta.mat"), truth.string(), " needs the devkit's meta.mat beside it (",
              (data / "meta.mat").string(), "): its labels are devkit IDs");
    out.val = val_from_devkit(root / "val", truth, data / "meta.mat", out.train.class_names);
    out.layout = "flat val/ labelled by " + truth.string();
    return out;
  }
  BMC_FAIL(root_in, ": val/ is flat and has no labels file: put LOC_val_solution.csv or the devkit (",
           "ILSVRC2012_devkit_t12/data/ with ILSVRC2012_validation_ground_truth.txt and meta.mat) in ", root_in,
           ", or write val_labels.txt ('<file> <wnid>' lines)");
}

}  // namespace bmc::data
