// The bmc command line: one-line errors with exit code 2 for bad flags, bad values, missing data
// and checkpoints of another architecture; --help and --version; nothing half-written on failure.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <string>

#include <nlohmann/json.hpp>

#include "io/atomic_file.h"
#include "io/png_canvas.h"
#include "io/safetensors.h"
#include "models/init.h"
#include "models/registry.h"
#include "tests/datasets/data_files.h"
#include "tests/support/process.h"
#include "train/checkpoint.h"
#include "train/hparams.h"

namespace bmc {
namespace {

namespace fs = std::filesystem;

using CliResult = test::CommandResult;  // stdout and stderr together

CliResult run_cli(const std::string& args) { return test::run_command(std::string(BMC_CLI_PATH) + " " + args); }

int lines(const std::string& s) {
  int n = 0;
  for (char c : s) n += c == '\n';
  return n;
}

TEST(Cli, VersionHelpAndUnknownCommand) {
  EXPECT_EQ(run_cli("--version").code, 0);
  const CliResult help = run_cli("--help");
  EXPECT_EQ(help.code, 0);
  EXPECT_NE(help.output.find("lottery"), std::string::npos);
  const CliResult unknown = run_cli("frobnicate");
  EXPECT_EQ(unknown.code, 2);
  EXPECT_EQ(lines(unknown.output), 1) << unknown.output;
}

TEST(Cli, BadFlagsAndValuesAreOneLineExitTwo) {
  for (const char* args : {"train --no-such-flag 1", "train --lr abc", "train --training-steps 40", "train --model nope",
                           "eval --model mnist_lenet_300_100", "lottery --pruning-fraction 1.5",
                           "train --device tpu", "info extra", "quantize --model mnist_lenet_300_100",
                           "quantize --checkpoint x.safetensors --qe-mode fancy", "quantize --checkpoint x --qebw 99",
                           "qlth", "prune --model mnist_lenet_300_100", "report", "train --qat-bits-acts 4",
                           "train --qat-bits-wts 1", "eval --lr 0.1 --checkpoint x", "qlth --model mnist_lenet5 x",
                           "data info /no/such/dir", "train --lr inf", "train --weight-decay nan", "train --out ''",
                           "train --training-steps 99999999999999999999it", "train --holdout-per-class 5"}) {
    const CliResult r = run_cli(args);
    EXPECT_EQ(r.code, 2) << args << ": " << r.output;
    EXPECT_EQ(lines(r.output), 1) << args << ": " << r.output;
  }
}

TEST(Cli, ImportConvertsPyTorchCheckpointsAndRefusesBadOnes) {
  const std::string pth = std::string(BMC_SOURCE_DIR) + "/tests/golden/pth/";
  const fs::path out = fs::temp_directory_path() / ("bmc_cli_import_" + std::to_string(::getpid()));
  fs::create_directories(out);
  const CliResult w = run_cli("import " + pth + "lenet5_examples.pth.tar --model mnist_lenet5 --out " +
                              (out / "w.safetensors").string());
  EXPECT_EQ(w.code, 0) << w.output;
  EXPECT_NE(w.output.find("under 'state_dict'"), std::string::npos) << w.output;
  EXPECT_EQ(io::load_safetensors((out / "w.safetensors").string()).metadata.at("arch"), "mnist_lenet5");
  const CliResult m = run_cli("import " + pth + "mask.pth --model mnist_lenet5 --mask --out " + (out / "m.safetensors").string());
  EXPECT_EQ(m.code, 0) << m.output;
  EXPECT_NE(m.output.find("mask of 2 layers"), std::string::npos) << m.output;
  const CliResult other = run_cli("import " + pth + "tiny_sd.pth --model mnist_lenet5 --out " + (out / "x.safetensors").string());
  EXPECT_EQ(other.code, 2) << other.output;
  EXPECT_EQ(other.output.rfind("bmc import: checkpoint does not fit mnist_lenet5", 0), 0u) << other.output;
  for (const char* bad : {"forbidden.pth", "bad_short_record.pth", "whole_model.pth", "bad_no_version.pth"}) {
    const CliResult r = run_cli("import " + pth + bad + " --model mnist_lenet5 --out " + (out / "x.safetensors").string());
    EXPECT_EQ(r.code, 2) << bad << ": " << r.output;
    EXPECT_EQ(lines(r.output), 1) << bad << ": " << r.output;
    EXPECT_FALSE(fs::exists(out / "x.safetensors")) << bad;
  }
  fs::remove_all(out);
}

// A tiny ImageNet-layout folder: train/<wnid>/ class folders of PNGs (and real JPEGs when the
// shared CIFAR-10 JPEGs are present), a flat val/ labelled by LOC_val_solution.csv.
void make_tiny_imagenet(const fs::path& root) {
  const char* wnids[] = {"n01440764", "n01443537", "n01484850"};
  const std::string jpegs = test::real_cifar10_jpeg_root();
  for (int c = 0; c < 3; ++c) {
    fs::create_directories(root / "train" / wnids[c]);
    for (int i = 0; i < 2; ++i)
      test::write_bytes((root / "train" / wnids[c] / ("img" + std::to_string(i) + ".png")).string(),
                        test::png_bytes(48 + 8 * i, 40, 3, test::pattern_pixels(48 + 8 * i, 40, 3, 10 * c + i)));
    if (!jpegs.empty()) fs::copy_file(fs::path(jpegs) / "train" / "cat" / "0000.jpg", root / "train" / wnids[c] / "real.JPEG",
                    fs::copy_options::overwrite_existing);
  }
  fs::create_directories(root / "val");
  std::string csv = "ImageId,PredictionString\n";
  for (int i = 1; i <= 4; ++i) {
    char id[32];
    std::snprintf(id, sizeof(id), "ILSVRC2012_val_%08d", i);
    test::write_bytes((root / "val" / (std::string(id) + ".png")).string(),
                      test::png_bytes(44, 50, 3, test::pattern_pixels(44, 50, 3, 100 + i)));
    csv += std::string(id) + "," + wnids[i % 3] + " 1 2 30 40\n";
  }
  io::write_file_atomic((root / "LOC_val_solution.csv").string(), csv);
}

TEST(Cli, ImagenetFolderTrainsAndEvaluatesA1000OutputResnet) {
  const fs::path root = fs::temp_directory_path() / ("bmc_cli_imagenet_" + std::to_string(::getpid()));
  const fs::path out = root / "runs";
  make_tiny_imagenet(root / "data");
  const std::string common = "--model resnet18 --data " + (root / "data").string() +
                             " --num-classes 1000 --batch-size 2 --crop-size 32 --resize-size 40 --workers 2 "
                             "--device cpu --out " + out.string();
  const CliResult t = run_cli("train " + common + " --training-steps 2it --json");
  ASSERT_EQ(t.code, 0) << t.output;
  const auto summary = nlohmann::json::parse(t.output.substr(t.output.rfind("{\"")));
  EXPECT_EQ(summary.at("eval_split"), "val");
  EXPECT_TRUE(summary.at("finished").get<bool>());
  EXPECT_NE(t.output.find("LOC_val_solution.csv"), std::string::npos) << t.output;
  const std::string ckpt = summary.at("run_dir").get<std::string>() + "/model_final.safetensors";
  const CliResult e = run_cli("eval " + common + " --checkpoint " + ckpt + " --json");
  ASSERT_EQ(e.code, 0) << e.output;
  const auto ev = nlohmann::json::parse(e.output.substr(e.output.rfind("{\"")));
  EXPECT_EQ(ev.at("examples").get<int64_t>(), 4);
  // Bad input: one line, exit 2, naming the file and the problem.
  fs::remove(root / "data" / "LOC_val_solution.csv");
  const CliResult no_labels = run_cli("eval " + common + " --checkpoint " + ckpt);
  EXPECT_EQ(no_labels.code, 2) << no_labels.output;
  EXPECT_EQ(lines(no_labels.output), 1) << no_labels.output;
  EXPECT_NE(no_labels.output.find("no labels file"), std::string::npos) << no_labels.output;
  make_tiny_imagenet(root / "data");
  test::write_bytes((root / "data" / "train" / "n01440764" / "broken.JPEG").string(), {0xFF, 0xD8, 0xFF, 0x00, 0x01});
  const CliResult broken = run_cli("train " + common + " --training-steps 3it --seed 9");
  EXPECT_EQ(broken.code, 2) << broken.output;
  EXPECT_NE(broken.output.find("broken.JPEG"), std::string::npos) << broken.output;
  EXPECT_NE(broken.output.find("--skip-bad-images"), std::string::npos) << "the advice names a real flag";
  const CliResult skipped = run_cli("train " + common + " --training-steps 3it --seed 9 --skip-bad-images");
  EXPECT_EQ(skipped.code, 0) << skipped.output;
  EXPECT_NE(skipped.output.find("broken.JPEG"), std::string::npos) << "the skipped image is reported";
  fs::remove_all(root);
}

// The --json summary: the last output line that is a JSON object.
nlohmann::json last_json(const CliResult& r) {
  const size_t at = r.output.rfind("\n{");
  return nlohmann::json::parse(r.output.substr(at == std::string::npos ? r.output.find('{') : at + 1));
}

// A tiny ImageNet-layout folder and a cifar_resnet_8 trained on it for two steps: the common
// flags of the method commands and the float checkpoint they start from. Removed afterwards.
struct TinyResnetRun {
  fs::path root, out;
  std::string data, common, checkpoint;
  explicit TinyResnetRun(const std::string& name)
      : root(fs::temp_directory_path() / ("bmc_cli_" + name + "_" + std::to_string(::getpid()))), out(root / "runs") {
    make_tiny_imagenet(root / "data");
    data = " --data " + (root / "data").string() +
           " --batch-size 2 --crop-size 32 --resize-size 40 --workers 1 --device cpu --out " + out.string();
    common = "--model cifar_resnet_8 --dataset imagenet --num-classes 10" + data;
    const CliResult t = run_cli("train " + common + " --training-steps 2it --json");
    EXPECT_EQ(t.code, 0) << t.output;
    if (t.code == 0) checkpoint = last_json(t).at("run_dir").get<std::string>() + "/model_final.safetensors";
  }
  ~TinyResnetRun() { fs::remove_all(root); }
};

// Fault injection: `bmc train`, `bmc lottery` and `bmc qlth` killed with SIGKILL at seeded random
// moments (in (0.05 s, T / 2) of an uninterrupted run's T), then rerun to completion, leave every
// safetensors file (and qlth's plot of its table) bitwise the uninterrupted run's
// (scripts/fault-inject.sh runs the same on bigger commands).
bool run_killed_after(const std::string& args, double seconds) {
  const pid_t pid = ::fork();
  if (pid == 0) {
    const std::string command = "exec " + std::string(BMC_CLI_PATH) + " " + args + " >/dev/null 2>&1";
    ::execl("/bin/sh", "sh", "-c", command.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  const auto until = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  int status = 0;
  while (std::chrono::steady_clock::now() < until) {
    if (::waitpid(pid, &status, WNOHANG) == pid) return false;  // finished before the kill
    ::usleep(2000);
  }
  ::kill(pid, SIGKILL);
  ::waitpid(pid, &status, 0);
  return true;
}

// The result files under root (tensors, and qlth's plot, drawn from its table), by relative path.
std::map<std::string, std::string> results_under(const fs::path& root) {
  std::map<std::string, std::string> files;
  for (const auto& e : fs::recursive_directory_iterator(root))
    if (e.path().extension() == ".safetensors" || e.path().extension() == ".svg") {
      std::ifstream in(e.path(), std::ios::binary);
      files[fs::relative(e.path(), root).string()] = std::string(std::istreambuf_iterator<char>(in), {});
    }
  return files;
}

TEST(Cli, KilledAtRandomMomentsTrainLotteryAndQlthFinishBitwiseAsUninterrupted) {
  const TinyResnetRun run("fault");
  ASSERT_FALSE(run.checkpoint.empty());
  const std::string model = "--model cifar_resnet_8 --dataset imagenet --num-classes 10 --data " +
                            (run.root / "data").string() +
                            " --batch-size 2 --crop-size 32 --resize-size 40 --workers 1 --device cpu";
  std::mt19937 rng(20261202);
  int landed = 0;
  auto check = [&](const std::string& args, const std::string& name) {
    const fs::path whole = run.root / (name + "_whole"), killed = run.root / (name + "_killed");
    const auto t0 = std::chrono::steady_clock::now();
    const CliResult w = run_cli(args + " --out " + whole.string());
    ASSERT_EQ(w.code, 0) << w.output;
    const double t = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::uniform_real_distribution<double> delay(0.05, std::max(0.1, t / 2));
    for (int k = 0; k < 3; ++k) landed += run_killed_after(args + " --out " + killed.string(), delay(rng));
    const CliResult k = run_cli(args + " --out " + killed.string());
    ASSERT_EQ(k.code, 0) << name << ": " << k.output;
    const auto a = results_under(whole), b = results_under(killed);
    ASSERT_FALSE(a.empty());
    for (const auto& [file, bytes] : a) {
      ASSERT_EQ(b.count(file), 1u) << name << ": " << file << " missing after the kills";
      EXPECT_TRUE(b.at(file) == bytes) << name << ": " << file << " differs";
    }
  };
  check("train " + model + " --training-steps 24it --checkpoint-every 2it --log-every 2 --eval-every 8it", "train");
  check("lottery " + model + " --levels 2 --training-steps 8it --checkpoint-every 2it --log-every 2", "lottery");
  // qlth over the finished lottery run of the uninterrupted folder.
  std::string lottery_dir;
  for (const auto& e : fs::directory_iterator(run.root / "lottery_whole"))
    if (e.path().filename().string().rfind("lottery_", 0) == 0) lottery_dir = e.path().string();
  ASSERT_FALSE(lottery_dir.empty());
  check("qlth " + lottery_dir + " --data " + (run.root / "data").string() + " --device cpu --calib-batches 2", "qlth");
  RecordProperty("kills_landed", landed);
  EXPECT_GT(landed, 0) << "no kill landed before its run finished";
}

// The SPARQ commands on the tiny ImageNet-layout folder: a dense checkpoint becomes a 2:4 one in
// two commands (prune --pattern 2:4, train --mask --init-from), then quantize and every eval mode
// (on cifar_resnet_8, for time), and the ImageNet commands of the README on resnet18.
TEST(Cli, SparqQuantizesEvaluatesAndRunsStcOnATwoOfFourCheckpoint) {
  const TinyResnetRun run("sparq");
  ASSERT_FALSE(run.checkpoint.empty());
  const fs::path& root = run.root;
  const fs::path& out = run.out;
  const std::string& data = run.data;
  const std::string& common = run.common;
  const std::string& dense = run.checkpoint;
  const CliResult p =
      run_cli("prune --model cifar_resnet_8 --checkpoint " + dense + " --pattern 2:4 --json --out " + out.string());
  ASSERT_EQ(p.code, 0) << p.output;
  const auto pruned = last_json(p);
  EXPECT_EQ(pruned.at("dense_layers"), (std::vector<std::string>{"conv.weight", "fc.weight"}))
      << "ASP leaves the C = 3 stem and a 10-output classifier dense";
  const std::string mask = pruned.at("mask").get<std::string>();
  const CliResult ft = run_cli("train " + common + " --training-steps 1it --mask " + mask + " --init-from " + dense + " --json");
  ASSERT_EQ(ft.code, 0) << ft.output;
  const std::string sparse = last_json(ft).at("run_dir").get<std::string>() + "/model_final.safetensors";

  for (const std::string& ckpt : {dense, sparse}) {
    const CliResult q = run_cli("sparq quantize " + common + " --checkpoint " + ckpt + " --calib-batches 2 --json");
    ASSERT_EQ(q.code, 0) << q.output;
    const auto qs = last_json(q);
    EXPECT_EQ(qs.at("quantized_layers").get<int>(), 8) << "6 block convs and 2 shortcuts; not the stem";
    EXPECT_EQ(qs.at("calib_images").get<int>(), 4);
    const std::string from = " --from " + qs.at("run_dir").get<std::string>();
    const CliResult v = run_cli("sparq eval " + common + from + " --calib-batches 1 --vsparq --round-mode RAW --json");
    ASSERT_EQ(v.code, 0) << v.output;
    EXPECT_EQ(last_json(v).at("examples").get<int>(), 4);
    EXPECT_EQ(last_json(v).at("mode"), "vsparq");
    const CliResult stc = run_cli("sparq eval " + common + from + " --calib-batches 1 --stc --bit-group 3 --json");
    if (ckpt == dense) {
      EXPECT_EQ(stc.code, 2) << stc.output;
      const std::string last = stc.output.substr(stc.output.rfind('\n', stc.output.size() - 2) + 1);
      EXPECT_NE(last.find("STC needs at most 2 non-zero weights"), std::string::npos) << stc.output;
      EXPECT_NE(last.find("--pattern 2:4"), std::string::npos) << stc.output;
    } else {
      ASSERT_EQ(stc.code, 0) << stc.output;
      const auto ss = last_json(stc);
      EXPECT_GT(ss.at("size").at("metadata_bits").get<int64_t>(), 0);
      EXPECT_NE(ss.at("kernel").get<std::string>().find("vsparq-stc"), std::string::npos);
    }
  }
  const CliResult a4 = run_cli("sparq quantize " + common + " --checkpoint " + dense + " --x-bits 4 --calib-batches 1 --json");
  ASSERT_EQ(a4.code, 0) << a4.output;
  const std::string from4 = " --from " + last_json(a4).at("run_dir").get<std::string>();
  const CliResult w4 = run_cli("sparq eval " + common + from4 + " --calib-batches 1");
  EXPECT_EQ(w4.code, 2) << "windows select bits of 8-bit codes: " << w4.output;
  const CliResult e4 = run_cli("sparq eval " + common + from4 + " --calib-batches 1 --exact --json");
  EXPECT_EQ(e4.code, 0) << e4.output;
  const CliResult bad = run_cli("sparq eval " + common + " --from " + (root / "nowhere").string());
  EXPECT_EQ(bad.code, 2) << bad.output;
  EXPECT_EQ(lines(bad.output), 1) << bad.output;

  // The README's ImageNet commands, on a torchvision-shaped resnet18.
  const std::string imagenet = "--model resnet18 --num-classes 1000" + data;
  const CliResult r = run_cli("train " + imagenet + " --training-steps 1it --json");
  ASSERT_EQ(r.code, 0) << r.output;
  const CliResult rq = run_cli("sparq quantize " + imagenet + " --checkpoint " +
                               last_json(r).at("run_dir").get<std::string>() + "/model_final.safetensors --calib-batches 1 --json");
  ASSERT_EQ(rq.code, 0) << rq.output;
  EXPECT_EQ(last_json(rq).at("quantized_layers").get<int>(), 19) << "16 block convs and 3 shortcuts";
  const CliResult re = run_cli("sparq eval " + imagenet + " --from " + last_json(rq).at("run_dir").get<std::string>() +
                               " --calib-batches 1 --round-mode RAW --shift-opt 5 --bit-group 4 --vsparq --json");
  ASSERT_EQ(re.code, 0) << re.output;
  EXPECT_EQ(last_json(re).at("examples").get<int>(), 4);
}

TEST(Cli, BsqConvertsTrainsFinetunesAndItsFloatExportEvaluatesTheSame) {
  const TinyResnetRun run("bsq");
  ASSERT_FALSE(run.checkpoint.empty());
  const std::string& common = run.common;
  const std::string& fp = run.checkpoint;
  const CliResult c = run_cli("bsq convert " + common + " --checkpoint " + fp + " --json");
  ASSERT_EQ(c.code, 0) << c.output;
  const auto cs = last_json(c);
  // cifar_resnet_8: stem 432; one block per stage: 2304 + 2304, 4608 + 9216, 18432 + 36864 (the
  // shortcuts stay float); fc 640 + 10.
  EXPECT_EQ(cs.at("bsq").at("total_params").get<int64_t>(), 432 + 4608 + 13824 + 55296 + 650);
  EXPECT_EQ(cs.at("bsq").at("compression").get<double>(), 4.0);
  const std::string conv = cs.at("run_dir").get<std::string>();
  const CliResult b = run_cli("bsq train " + common + " --from " + conv +
                              " --training-steps 2ep --prun-int 1 --decay 50 --lr 0.05 --milestones none --json");
  ASSERT_EQ(b.code, 0) << b.output;
  EXPECT_NE(b.output.find("bsq: epoch 1:"), std::string::npos) << b.output;
  const auto bs = last_json(b);
  EXPECT_LT(bs.at("bsq").at("average_bits").get<double>(), 8.0) << "a strong regularizer drops planes";
  const std::string trained = bs.at("run_dir").get<std::string>();
  const CliResult f = run_cli("bsq finetune " + common + " --from " + trained + " --training-steps 2it --json");
  ASSERT_EQ(f.code, 0) << f.output;
  const auto fs_ = last_json(f);
  EXPECT_EQ(fs_.at("precisions"), bs.at("precisions")) << "fine-tuning keeps the scheme";
  const std::string tuned = fs_.at("run_dir").get<std::string>();
  const CliResult be = run_cli("bsq eval " + common + " --from " + tuned + " --json");
  ASSERT_EQ(be.code, 0) << be.output;
  const CliResult fe = run_cli("eval " + common + " --checkpoint " + tuned + "/model_best.safetensors --json");
  ASSERT_EQ(fe.code, 0) << fe.output;
  EXPECT_EQ(last_json(be).at("test_loss"), last_json(fe).at("test_loss")) << "bit form and float export compute the same";
  // The same scheme from the float model ("trained from scratch" baseline).
  const CliResult s = run_cli("bsq convert " + common + " --checkpoint " + fp + " --scheme " + trained + " --json");
  ASSERT_EQ(s.code, 0) << s.output;
  EXPECT_EQ(last_json(s).at("precisions"), bs.at("precisions"));
  // Bad input: one line, exit 2.
  for (const std::string& bad : {"bsq train " + common + " --from " + fp, "bsq train " + common + " --from " + conv + " --act 2",
                                 "bsq train " + common + " --from " + conv + " --prun-int 0", std::string("bsq frobnicate")}) {
    const CliResult r = run_cli(bad);
    EXPECT_EQ(r.code, 2) << bad << "\n" << r.output;
    EXPECT_EQ(lines(r.output), 1) << bad << "\n" << r.output;
  }
}

// LatticeQ on the tiny ImageNet-layout folder (cifar_resnet_8, a short search): the float export
// evaluates as the command did; a run killed after some layers (their search files kept, the rest
// and the summary lost) resumes to the identical bases; activation calibration; bad flags.
TEST(Cli, LatticeqSearchesResumesToTheSameBasesAndExportsFloatWeights) {
  const TinyResnetRun run("latticeq");
  ASSERT_FALSE(run.checkpoint.empty());
  const std::string cmd = "latticeq " + run.common + " --checkpoint " + run.checkpoint +
                          " --bits-w 3 --bias-corr --quant-basis --steps 2 --nb-restarts 2 --json";
  const CliResult a = run_cli(cmd);
  ASSERT_EQ(a.code, 0) << a.output;
  const auto s = last_json(a);
  EXPECT_EQ(s.at("layers").size(), 10u);  // the stem, 3 x 2 block convs, 2 shortcut convs, the fc
  for (const auto& l : s.at("layers")) EXPECT_LE(l.at("loss").get<double>(), l.at("uniform_loss").get<double>() * 1.5);
  const std::string dir = s.at("run_dir").get<std::string>();
  const CliResult e = run_cli("eval " + run.common + " --checkpoint " + dir + "/model.safetensors --json");
  ASSERT_EQ(e.code, 0) << e.output;
  EXPECT_EQ(last_json(e).at("test_loss"), s.at("test_loss")) << "the float export computes what the command evaluated";
  auto bytes = [](const fs::path& f) {
    std::ifstream in(f, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
  };
  const auto lattice = bytes(fs::path(dir) / "lattice.safetensors");
  // Killed after the first half of the layers: their files stay, everything else goes.
  std::vector<fs::path> searched;
  for (const auto& f : fs::directory_iterator(fs::path(dir) / "search")) searched.push_back(f.path());
  std::sort(searched.begin(), searched.end());
  for (size_t i = searched.size() / 2; i < searched.size(); ++i) fs::remove(searched[i]);
  fs::remove(fs::path(dir) / "summary.json");
  fs::remove(fs::path(dir) / "lattice.safetensors");
  const CliResult r = run_cli(cmd);
  ASSERT_EQ(r.code, 0) << r.output;
  EXPECT_NE(r.output.find("search done by an earlier run"), std::string::npos) << r.output;
  EXPECT_EQ(bytes(fs::path(dir) / "lattice.safetensors"), lattice) << "the resumed search found the same bases";
  EXPECT_EQ(last_json(r).at("test_loss"), s.at("test_loss"));
  const CliResult q = run_cli("latticeq " + run.common + " --checkpoint " + run.checkpoint +
                              " --steps 1 --nb-restarts 1 --quant-a --bits-a 4 --quant-a-type per_channel --calib-size 4 --json");
  ASSERT_EQ(q.code, 0) << q.output;
  EXPECT_NE(q.output.find("calibrated on 4 images"), std::string::npos) << q.output;
  EXPECT_EQ(last_json(q).at("activation_ranges").size(), 10u);  // 8 convs after the stem, the pool, the fc
  for (const std::string& bad : {std::string(" --quant-a-type fancy"), std::string(" --bits-w 9"), std::string(" --steps 0")}) {
    const CliResult b = run_cli("latticeq " + run.common + " --checkpoint " + run.checkpoint + bad);
    EXPECT_EQ(b.code, 2) << bad << "\n" << b.output;
    EXPECT_EQ(lines(b.output), 1) << bad << "\n" << b.output;
  }
}

TEST(Cli, AFailedStartLeavesNoRunDirectory) {
  if (test::real_mnist_dir().empty()) GTEST_SKIP() << "../shared/datasets/mnist not present";
  const fs::path out = fs::temp_directory_path() / ("bmc_cli_debris_" + std::to_string(::getpid()));
  fs::create_directories(out);
  const Tensor wrong = Tensor::zeros({2, 2});
  const std::string mask = (out / "mask.safetensors").string();
  io::save_safetensors(mask, {{"fc.weight", &wrong}});
  const CliResult r = run_cli("train --training-steps 1it --device cpu --mask " + mask + " --out " + (out / "runs").string());
  EXPECT_EQ(r.code, 2) << r.output;
  EXPECT_NE(r.output.find("has shape"), std::string::npos) << r.output;
  size_t left = 0;
  if (fs::exists(out / "runs"))
    for (const auto& e : fs::directory_iterator(out / "runs")) left += e.is_directory();
  EXPECT_EQ(left, 0u) << "the run directory of a run that never started is removed";
  fs::remove_all(out);
}

// A full disk, as a file-size limit (ulimit -f, SIGXFSZ ignored, so writes fail with EFBIG the way
// they fail with ENOSPC): the command stops with one line naming the file, exit 2, and leaves no
// torn file: every file it wrote is complete, and a rerun without the limit finishes from there.
// `command` (with --out out) under a file-size limit of limit_kib: one line naming the error,
// exit 2, no torn temporary file anywhere under out; then a rerun without the limit finishes.
void expect_full_disk_handled(const std::string& command, int limit_kib, const fs::path& out) {
  fs::remove_all(out);
  const std::string full = command + " --out " + out.string();
  const std::string limited = "bash -c \"trap '' XFSZ; ulimit -f " + std::to_string(limit_kib) + "; exec " +
                              std::string(BMC_CLI_PATH) + " " + full + "\" 2>&1";
  FILE* pipe = ::popen(limited.c_str(), "r");
  ASSERT_NE(pipe, nullptr);
  std::string output;
  std::array<char, 4096> buf{};
  while (std::fgets(buf.data(), buf.size(), pipe)) output += buf.data();
  const int status = ::pclose(pipe);
  ASSERT_TRUE(WIFEXITED(status)) << output;
  EXPECT_EQ(WEXITSTATUS(status), 2) << output;
  const std::string last = output.substr(output.rfind('\n', output.size() - 2) + 1);
  EXPECT_NE(last.find("File too large"), std::string::npos) << output;
  for (const auto& f : fs::recursive_directory_iterator(out))
    EXPECT_EQ(f.path().string().find(".tmp."), std::string::npos) << "a torn temporary file: " << f.path();
  const CliResult rerun = run_cli(full + " --json");
  EXPECT_EQ(rerun.code, 0) << rerun.output;
  fs::remove_all(out);
}

TEST(Cli, AFullDiskIsOneLineAndLeavesNoTornFiles) {
  if (test::real_mnist_dir().empty()) GTEST_SKIP() << "../shared/datasets/mnist not present";
  // 600 KiB: room for the hparams and metrics, not for a 1 MiB checkpoint.
  expect_full_disk_handled("train --training-steps 2ep --device cpu", 600,
                           fs::temp_directory_path() / ("bmc_cli_full_" + std::to_string(::getpid())));
}

TEST(Cli, AFullDiskStopsALotteryInOneLineAndTheRerunFinishes) {
  const TinyResnetRun run("full_lottery");
  ASSERT_FALSE(run.checkpoint.empty());
  // 200 KiB: the level-0 run directory and its metrics fit, a 313 KB cifar_resnet_8 checkpoint does not.
  expect_full_disk_handled("lottery --model cifar_resnet_8 --dataset imagenet --num-classes 10 --data " +
                               (run.root / "data").string() +
                               " --batch-size 2 --crop-size 32 --resize-size 40 --workers 1 --device cpu --levels 1 "
                               "--training-steps 4it",
                           200, run.root / "lottery");
}

TEST(Cli, DivergenceExitsThreeInOneLine) {
  if (test::real_mnist_dir().empty()) GTEST_SKIP() << "../shared/datasets/mnist not present";
  const fs::path out = fs::temp_directory_path() / ("bmc_cli_diverge_" + std::to_string(::getpid()));
  const CliResult r = run_cli("train --lr 1e6 --training-steps 300it --log-every 50 --device cpu --out " + out.string());
  fs::remove_all(out);
  EXPECT_EQ(r.code, 3) << r.output;
  EXPECT_NE(r.output.find("training diverged at step"), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find("\"finished\":true"), std::string::npos) << r.output;
}


// Lottery flags that only level 1 would use are checked before level 0 trains, and nothing is
// written for a refused run.
TEST(Cli, LotteryRefusesBadPruningFlagsBeforeTraining) {
  if (test::real_mnist_dir().empty()) GTEST_SKIP() << "../shared/datasets/mnist not present";
  const fs::path out = fs::temp_directory_path() / ("bmc_cli_lottery_flags_" + std::to_string(::getpid()));
  const std::string common = "lottery --levels 1 --training-steps 2ep --device cpu --out " + out.string();
  struct Case {
    std::string flags, message;
  };
  const Case cases[] = {{"--pruning-fraction nan", "--pruning-fraction must be in (0, 1)"},
                        {"--pruning-layers-to-ignore bogus.weight", "no prunable weight 'bogus.weight'"},
                        {"--rewinding-steps 3ep", "is beyond the training length"}};
  for (const Case& c : cases) {
    const CliResult r = run_cli(common + " " + c.flags);
    EXPECT_EQ(r.code, 2) << c.flags << ": " << r.output;
    EXPECT_NE(r.output.find(c.message), std::string::npos) << r.output;
    EXPECT_EQ(r.output.find("train step"), std::string::npos) << "level 0 trained: " << r.output;
  }
  EXPECT_FALSE(fs::exists(out)) << "a refused run leaves no run directory";
  fs::remove_all(out);
}

// One class, or no images to evaluate on, is refused before training instead of reporting 100%
// or 0.00%.
TEST(Cli, DegenerateImageFoldersAreRefused) {
  const fs::path root = fs::temp_directory_path() / ("bmc_cli_degenerate_" + std::to_string(::getpid()));
  auto image = [&](const fs::path& p, int seed) {
    fs::create_directories(p.parent_path());
    test::write_bytes(p.string(), test::png_bytes(36, 36, 3, test::pattern_pixels(36, 36, 3, seed)));
  };
  for (int i = 0; i < 3; ++i) {
    image(root / "one" / "train" / "cat" / ("t" + std::to_string(i) + ".png"), i);
    image(root / "one" / "val" / "cat" / ("v" + std::to_string(i) + ".png"), 10 + i);
    image(root / "noval" / "train" / "cat" / ("t" + std::to_string(i) + ".png"), 20 + i);
    image(root / "noval" / "train" / "dog" / ("t" + std::to_string(i) + ".png"), 30 + i);
  }
  fs::create_directories(root / "noval" / "val" / "cat");
  fs::create_directories(root / "noval" / "val" / "dog");
  const std::string common = " --model resnet18 --batch-size 2 --crop-size 32 --resize-size 36 --device cpu "
                             "--training-steps 1it --out " + (root / "runs").string();
  const CliResult one = run_cli("train --data " + (root / "one").string() + common);
  EXPECT_EQ(one.code, 2) << one.output;
  EXPECT_NE(one.output.find("a classifier needs at least 2"), std::string::npos) << one.output;
  const CliResult noval = run_cli("train --data " + (root / "noval").string() + common);
  EXPECT_EQ(noval.code, 2) << noval.output;
  EXPECT_EQ(lines(noval.output), 1) << noval.output;
  EXPECT_FALSE(fs::exists(root / "runs")) << "nothing is written for a refused run";
  fs::remove_all(root);
}

TEST(Cli, DataInfoTakesAFolderOfClassFolders) {
  const fs::path root = fs::temp_directory_path() / ("bmc_cli_classes_" + std::to_string(::getpid()));
  for (const char* cls : {"cat", "dog"}) {
    fs::create_directories(root / cls);
    test::write_bytes((root / cls / "a.png").string(), test::png_bytes(5, 4, 3, test::pattern_pixels(5, 4, 3, 1)));
  }
  const CliResult r = run_cli("data info " + root.string());
  fs::remove_all(root);
  EXPECT_EQ(r.code, 0) << r.output;
  EXPECT_NE(r.output.find("2 images in 2 classes; first image 5x4"), std::string::npos) << r.output;
}

TEST(Cli, MissingDataAndForeignCheckpointsFailCleanly) {
  const fs::path out = fs::temp_directory_path() / ("bmc_cli_" + std::to_string(::getpid()));
  fs::remove_all(out);
  const CliResult missing = run_cli("train --data /nonexistent/mnist --out " + out.string());
  EXPECT_EQ(missing.code, 2) << missing.output;
  EXPECT_NE(missing.output.find("/nonexistent/mnist"), std::string::npos) << missing.output;
  EXPECT_FALSE(fs::exists(out)) << "no run directory for a run that could not start";

  const std::string ckpt = (fs::temp_directory_path() / "bmc_cli_foreign.safetensors").string();
  Tensor w = Tensor::zeros({16, 3, 3, 3});
  io::save_safetensors(ckpt, {{"conv.weight", &w}}, {{"arch", "cifar_resnet_20"}});
  const std::string mnist = std::string(BMC_SOURCE_DIR) + "/../shared/datasets/mnist";
  if (fs::exists(mnist)) {
    const CliResult foreign =
        run_cli("eval --model mnist_lenet_300_100 --checkpoint " + ckpt + " --data " + mnist + " --out " + out.string());
    EXPECT_EQ(foreign.code, 2) << foreign.output;
    EXPECT_NE(foreign.output.find("cifar_resnet_20"), std::string::npos) << foreign.output;
  }
  fs::remove(ckpt);
  fs::remove_all(out);
}

}  // namespace
}  // namespace bmc

namespace bmc {
namespace {

TEST(Cli, PruneWritesAMaskOfTheRequestedDensity) {
  const fs::path out = fs::temp_directory_path() / ("bmc_cli_prune_" + std::to_string(::getpid()));
  fs::remove_all(out);
  fs::create_directories(out);
  auto model = models::make_model("mnist_lenet_300_100", Device::cpu());
  models::initialize(*model, 3);
  const std::string ckpt = (out / "weights.safetensors").string();
  train::save_weights(ckpt, *model);
  const CliResult r = run_cli("prune --model mnist_lenet_300_100 --checkpoint " + ckpt +
                              " --sparsity 0.75 --json --out " + out.string());
  ASSERT_EQ(r.code, 0) << r.output;
  const auto summary = nlohmann::json::parse(r.output.substr(r.output.find('{')));
  EXPECT_EQ(summary["prunable"].get<int64_t>(), 265200) << "fc.weight is left dense by default (OpenLTH)";
  EXPECT_EQ(summary["remaining"].get<int64_t>(), 265200 / 4);
  const CliResult random = run_cli("prune --model mnist_lenet_300_100 --checkpoint " + ckpt +
                                   " --sparsity 0.75 --random --seed 4 --json --out " + out.string());
  ASSERT_EQ(random.code, 0) << random.output;
  const auto random_summary = nlohmann::json::parse(random.output.substr(random.output.find('{')));
  EXPECT_EQ(random_summary["layers"], summary["layers"]) << "random pruning keeps the per-layer counts";
  EXPECT_NE(random_summary["mask"], summary["mask"]);
  if (!test::real_mnist_dir().empty()) {
    // Training under a mask that leaves fc.weight out (dense, as OpenLTH's masks do): the density
    // is over every prunable weight, the mask's own beside it.
    const CliResult t = run_cli("train --model mnist_lenet_300_100 --training-steps 1it --device cpu --json --mask " +
                                summary["mask"].get<std::string>() + " --out " + out.string());
    ASSERT_EQ(t.code, 0) << t.output;
    const auto ts = nlohmann::json::parse(t.output.substr(t.output.rfind("\n{") + 1));
    EXPECT_DOUBLE_EQ(ts["density"].get<double>(), (265200 / 4 + 1000) / 266200.0);
    EXPECT_DOUBLE_EQ(ts["mask_density"].get<double>(), 0.25);
    EXPECT_EQ(ts["dense_layers"], nlohmann::json::array({"fc.weight"}));
  }
  fs::remove_all(out);
}

TEST(Cli, ReportTabulatesAndPlotsRuns) {
  const fs::path out = fs::temp_directory_path() / ("bmc_cli_report_" + std::to_string(::getpid()));
  fs::remove_all(out);
  fs::create_directories(out / "lottery_x");
  fs::create_directories(out / "train_a");
  io::write_file_atomic((out / "lottery_x" / "summary.json").string(),
                        R"({"finished":true,"levels":[{"level":0,"remaining":10,"prunable":10,"density":1.0,)"
                        R"("test_top1":0.98,"best_top1":0.985,"test_loss":0.1},{"level":1,"remaining":8,"prunable":10,)"
                        R"("density":0.8,"test_top1":0.97,"best_top1":0.975,"test_loss":0.1}]})");
  io::write_file_atomic((out / "train_a" / "summary.json").string(),
                        R"({"finished":true,"density":0.8,"test_top1":0.9,"best_top1":0.91})");
  const std::string svg = (out / "plot.svg").string();
  const CliResult r = run_cli("report " + (out / "lottery_x").string() + " rr=" + (out / "train_a").string() +
                              " --svg " + svg);
  ASSERT_EQ(r.code, 0) << r.output;
  EXPECT_NE(r.output.find("97.00 (97.50)"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("90.00 (91.00)"), std::string::npos) << r.output;
  EXPECT_NE(io::read_file(svg).find("stroke=\"#1f77b4\" stroke-width=\"2\""), std::string::npos);
  EXPECT_EQ(fs::exists(out / "plot.png"), !io::find_plot_font().empty());
  EXPECT_EQ(run_cli("report " + (out / "missing").string()).code, 2);

  // A second replicate of the lottery experiment: one series, mean +- standard deviation.
  fs::create_directories(out / "lottery_x_r2");
  io::write_file_atomic((out / "lottery_x_r2" / "summary.json").string(),
                        R"({"finished":true,"levels":[{"level":0,"remaining":10,"prunable":10,"density":1.0,)"
                        R"("test_top1":0.96,"best_top1":0.965,"test_loss":0.1},{"level":1,"remaining":8,"prunable":10,)"
                        R"("density":0.8,"test_top1":0.97,"best_top1":0.975,"test_loss":0.1}]})");
  const CliResult rep = run_cli("report " + (out / "lottery_x").string() + " " + (out / "lottery_x_r2").string() +
                                " --svg " + svg);
  ASSERT_EQ(rep.code, 0) << rep.output;
  EXPECT_NE(rep.output.find("97.00+-1.41 (97.50) n=2"), std::string::npos) << rep.output;  // 98 and 96
  EXPECT_NE(rep.output.find("97.00+-0.00 (97.50) n=2"), std::string::npos) << rep.output;
  EXPECT_EQ(rep.output.find("lottery_x_r2"), std::string::npos) << "one series, named by the experiment";
  fs::remove_all(out);
}

TEST(Cli, ReplicatesShareTheHashAndShiftTheSeeds) {
  train::TrainHparams hp;
  hp.model = "mnist_lenet_300_100";
  hp.seed = 3;
  hp.data_seed = 5;
  const std::string first = train::run_id(hp.to_json());
  hp.replicate = 3;
  hp.seed += 2;
  hp.data_seed += 2;
  EXPECT_EQ(train::run_id(hp.to_json()), first + "_r3");
  EXPECT_EQ(train::without_replicate_suffix("lottery_" + first + "_r3"), "lottery_" + first);
  EXPECT_EQ(train::without_replicate_suffix("train_ab_rx"), "train_ab_rx");
  hp.replicate = 1;
  EXPECT_NE(train::run_id(hp.to_json()), first) << "seed 5 replicate 1 is another experiment";
}

}  // namespace
}  // namespace bmc
