// `bmc data fetch <name> [--dest DIR]` runs datasets/fetch; `bmc data info <dir>` says what a
// folder holds: the format, per-split counts, classes and image size.
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "cli/args.h"
#include "cli/commands.h"
#include "datasets/cifar.h"
#include "datasets/image.h"
#include "datasets/image_folder.h"
#include "datasets/imagenet.h"
#include "io/safetensors.h"
#include "datasets/mnist.h"

namespace bmc::cli {
namespace fs = std::filesystem;
namespace {

void print_dataset(const char* split, const data::Dataset& d) {
  std::printf("  %-6s %lld images, %lldx%lldx%lld (C x H x W), %d classes\n", split,
              static_cast<long long>(d.size()), static_cast<long long>(d.channels()),
              static_cast<long long>(d.height()), static_cast<long long>(d.width()), d.num_classes);
}

void print_classes(const data::Dataset& d) {
  std::string line;
  for (size_t i = 0; i < d.class_names.size() && i < 20; ++i) line += (i ? ", " : "") + d.class_names[i];
  if (d.class_names.size() > 20) line += ", ... (" + std::to_string(d.class_names.size()) + " in all)";
  std::printf("  classes: %s\n", line.c_str());
}

int data_info(const std::vector<std::string>& argv) {
  Args args("data info", "Print the format, counts, classes and image size of a dataset folder.\n"
                         "usage: bmc data info <dir>");
  std::vector<std::string> flags;
  std::string dir;
  for (const auto& a : argv) {
    if (a.rfind("-", 0) != 0 && dir.empty())
      dir = a;
    else
      flags.push_back(a);
  }
  if (!args.parse(flags)) return 0;
  if (dir.empty()) throw UsageError{"bmc data info: missing <dir>"};
  if (!fs::is_directory(dir)) throw UsageError{"bmc data info: " + dir + " is not a directory"};
  if (fs::exists(fs::path(dir) / "train-images-idx3-ubyte.gz") || fs::exists(fs::path(dir) / "train-images-idx3-ubyte") ||
      fs::exists(fs::path(dir) / "t10k-images-idx3-ubyte.gz") || fs::exists(fs::path(dir) / "t10k-images-idx3-ubyte")) {
    std::printf("%s: MNIST-style IDX files\n", dir.c_str());
    for (auto split : {data::Split::Train, data::Split::Test}) {
      const data::Dataset d = data::load_mnist(dir, split);
      print_dataset(data::split_name(split), d);
    }
    return 0;
  }
  if (fs::exists(fs::path(dir) / "data_batch_1.bin") || fs::exists(fs::path(dir) / "test_batch.bin")) {
    std::printf("%s: CIFAR-10 binary batches\n", dir.c_str());
    for (auto split : {data::Split::Train, data::Split::Test}) {
      const data::Dataset d = data::load_cifar10(dir, split);
      print_dataset(data::split_name(split), d);
      if (split == data::Split::Test) print_classes(d);
    }
    return 0;
  }
  if (fs::exists(fs::path(dir) / "train.bin")) {
    std::printf("%s: CIFAR-100 binary\n", dir.c_str());
    for (auto split : {data::Split::Train, data::Split::Test}) print_dataset(data::split_name(split), data::load_cifar100(dir, split));
    return 0;
  }
  auto print_folder = [&](const std::string& split, const char* label) {
    data::ImageFolderOptions o;
    o.split = split;
    const data::ImageList list = data::list_image_folder(dir, o);
    const data::Image first = data::load_image_rgb(list.entries.front().path);
    std::printf("  %-6s %zu images in %zu classes; first image %dx%d\n", label, list.entries.size(),
                list.class_names.size(), first.width, first.height);
  };
  bool any = false;
  for (const char* split : {"train", "val", "test"}) {
    if (!fs::is_directory(fs::path(dir) / split)) continue;
    if (!any) std::printf("%s: image class folders\n", dir.c_str());
    any = true;
    print_folder(split, split);
  }
  if (any) return 0;
  // A folder of class folders given directly (what torchvision's ImageFolder takes).
  bool has_subfolder = false;
  for (const auto& e : fs::directory_iterator(dir)) has_subfolder = has_subfolder || e.is_directory();
  if (!has_subfolder) throw UsageError{"bmc data info: " + dir + ": no MNIST, CIFAR or image-folder dataset found"};
  std::printf("%s: class folders (one split; pass its parent with train/ and val/ to train and evaluate)\n", dir.c_str());
  print_folder("", "all");
  return 0;
}

// The evaluation transform's pixels (u8, before normalisation) of the first images of a split,
// to inspect or to compare with another pipeline's (PIL + torchvision, say).
int data_sample(const std::vector<std::string>& argv) {
  Args args("data sample", "Write the eval-transformed pixels of a folder's first images to safetensors.\n"
                           "usage: bmc data sample <dir> --out FILE [--split val] [--count N]");
  args.option("out", "", "safetensors file: u8 'images' (N, 3, crop, crop), i32 'labels', metadata 'files'");
  args.option("split", "val", "train (train/<class>/) or val (ImageNet layouts, datasets/imagenet.h)");
  args.option("count", "16", "images");
  args.option("crop-size", "224", "crop side");
  args.option("resize-size", "256", "shorter side before the crop");
  args.positionals("DIR", "the dataset folder");
  if (!args.parse(argv)) return 0;
  if (args.positional().size() != 1) throw UsageError{"bmc data sample: give exactly one <dir>"};
  const std::string& dir = args.positional()[0];
  if (!args.given("out")) throw UsageError{"bmc data sample: --out is required"};
  const std::string split = args.get("split");
  if (split != "train" && split != "val") throw UsageError{"bmc data sample: --split is train or val"};
  const int crop = args.get_int("crop-size"), resize = args.get_int("resize-size");
  if (crop <= 0 || resize < crop) throw UsageError{"bmc data sample: need 0 < --crop-size <= --resize-size"};
  data::ImageFolderOptions train_folder;
  train_folder.split = "train";
  const data::ImageList list = split == "train" ? data::list_image_folder(dir, train_folder) : data::list_imagenet(dir).val;
  const int64_t n = std::min<int64_t>(args.get_int64("count"), static_cast<int64_t>(list.entries.size()));
  if (n < 1) throw UsageError{"bmc data sample: --count must be at least 1"};
  Tensor images({n, 3, crop, crop}, DType::U8), labels({n}, DType::I32);
  std::string files;
  for (int64_t i = 0; i < n; ++i) {
    const data::ImageEntry& e = list.entries[static_cast<size_t>(i)];
    const data::Image img = data::center_crop(data::resize_shorter_side(data::load_image_rgb(e.path), resize), crop);
    data::to_chw(img, images.data<uint8_t>() + i * 3 * crop * crop);
    labels.data<int32_t>()[i] = e.label;
    files += (i ? "\n" : "") + e.path;
  }
  io::save_safetensors(args.get("out"), {{"images", &images}, {"labels", &labels}}, {{"files", files}});
  std::printf("%s: %lld %s images of %s\n", args.get("out").c_str(), static_cast<long long>(n), split.c_str(), dir.c_str());
  return 0;
}

int data_fetch(const std::vector<std::string>& argv) {
  if (argv.empty() || argv[0].rfind("--", 0) == 0)
    throw UsageError{"usage: bmc data fetch mnist|cifar10|cifar100 [--dest DIR]"};
  Args args("data fetch", "Get a dataset (local copies first, then the canonical download).\n"
                          "usage: bmc data fetch mnist|cifar10|cifar100 [--dest DIR]");
  args.option("dest", "", "destination folder (default: data/<name> under the repository root)");
  if (!args.parse(std::vector<std::string>(argv.begin() + 1, argv.end()))) return 0;
  const std::string& name = argv[0];
  if (name != "mnist" && name != "cifar10" && name != "cifar100")
    throw UsageError{"bmc data fetch: unknown dataset '" + name + "' (known: mnist, cifar10, cifar100)"};
  // The script ships next to the binary's build folder (<repo>/build/bmc -> <repo>/datasets/fetch).
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  std::string script = "datasets/fetch";
  for (fs::path dir = exe.parent_path(); !ec && !dir.empty() && dir != dir.root_path(); dir = dir.parent_path())
    if (fs::exists(dir / "datasets" / "fetch")) {
      script = (dir / "datasets" / "fetch").string();
      break;
    }
  if (!fs::exists(script))
    throw UsageError{"bmc data fetch: datasets/fetch not found next to " + exe.string() + " or here"};
  std::string cmd = "'" + script + "' " + name;
  if (args.given("dest")) cmd += " --dest '" + args.get("dest") + "'";
  const int status = std::system(cmd.c_str());
  return status == 0 ? 0 : 1;
}

}  // namespace

int run_data(const std::vector<std::string>& argv) {
  const std::string usage =
      "usage: bmc data fetch <name> [--dest DIR] | bmc data info <dir> | bmc data sample <dir> --out FILE";
  if (argv.empty() || argv[0] == "--help" || argv[0] == "-h") {
    std::printf("%s\n", usage.c_str());
    return argv.empty() ? 2 : 0;
  }
  const std::vector<std::string> rest(argv.begin() + 1, argv.end());
  if (argv[0] == "fetch") return data_fetch(rest);
  if (argv[0] == "info") return data_info(rest);
  if (argv[0] == "sample") return data_sample(rest);
  throw UsageError{"bmc data: unknown subcommand '" + argv[0] + "' (" + usage + ")"};
}

}  // namespace bmc::cli
