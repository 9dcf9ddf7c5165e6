// bmc: the command-line entry point. Dispatches to one file per command; turns usage errors and
// bmc::Error (bad input, a failed check) and JSON of the wrong shape in an input file into one
// line on stderr with exit code 2, a diverged training run into one line with exit code 3, and
// any other exception (out of memory, say) into one line with exit code 1. In a data-parallel
// run the failing rank stops the whole job, so no other rank waits for it.
#include <cstdio>
#include <cstring>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "cli/args.h"
#include "cli/commands.h"
#include "core/error.h"
#include "io/run_dir.h"
#include "core/version.h"
#include "dist/communicator.h"
#include "train/diverged.h"

namespace {

using Command = int (*)(const std::vector<std::string>&);

struct CommandEntry {
  Command run;
  const char* summary;
};

const std::map<std::string, CommandEntry>& commands() {
  static const std::map<std::string, CommandEntry> table = {
      {"data", {bmc::cli::run_data, "fetch a dataset (mnist, cifar10, cifar100) or describe a dataset folder"}},
      {"info", {bmc::cli::run_info, "devices, CUDA/cuDNN/cuBLAS versions, CPU threads, BLAS"}},
      {"train", {bmc::cli::run_train, "train a model into a run directory (resumable)"}},
      {"eval", {bmc::cli::run_eval, "evaluate a checkpoint: top-1/top-5/loss, optional logits"}},
      {"lottery", {bmc::cli::run_lottery, "iterative magnitude pruning (lottery tickets), resumable per level"}},
      {"prune", {bmc::cli::run_prune, "one-shot magnitude or random pruning of a trained model -> mask"}},
      {"quantize", {bmc::cli::run_quantize, "post-training range-linear quantization (Distiller) of a checkpoint"}},
      {"qlth", {bmc::cli::run_qlth, "quantize every ticket of a lottery run at several bit widths (table + plot)"}},
      {"import", {bmc::cli::run_import, "PyTorch checkpoint (.pth, .pth.tar) -> bmc safetensors, read without Python"}},
      {"sparq", {bmc::cli::run_sparq, "SPARQ: 8-bit PTQ, then bSPARQ / vSPARQ windows (STC on 2:4) on integer GEMMs"}},
      {"bsq", {bmc::cli::run_bsq, "BSQ: bit-plane training with precision adjustment, convert, fine-tune, evaluate"}},
      {"latticeq", {bmc::cli::run_latticeq, "LatticeQ: lattice weight quantization with searched bases (post-training)"}},
      {"report", {bmc::cli::run_report, "accuracy-vs-density table and SVG plot of lottery/train runs"}},
  };
  return table;
}

void print_help() {
  std::printf("bmc %s: bare-metal compression (training and model compression on cuDNN/cuBLAS and CPU)\n\n",
              bmc::kVersion);
  std::printf("usage: bmc <command> [flags]     bmc <command> --help for its flags\n\ncommands:\n");
  for (const auto& [name, entry] : commands()) std::printf("  %-10s %s\n", name.c_str(), entry.summary);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || !std::strcmp(argv[1], "--help") || !std::strcmp(argv[1], "-h") || !std::strcmp(argv[1], "help")) {
    print_help();
    return argc < 2 ? 2 : 0;
  }
  if (!std::strcmp(argv[1], "--version")) {
    std::printf("bmc %s\n", bmc::kVersion);
    return 0;
  }
  const auto it = commands().find(argv[1]);
  if (it == commands().end()) {
    std::fprintf(stderr, "bmc: unknown command '%s' (see bmc --help)\n", argv[1]);
    return 2;
  }
  try {
    return it->second.run(std::vector<std::string>(argv + 2, argv + argc));
  } catch (const bmc::cli::UsageError& e) {
    bmc::io::RunDir::remove_unused_created();
    std::fprintf(stderr, "%s\n", e.message.c_str());
    bmc::dist::abort_job(2);
    return 2;
  } catch (const bmc::Error& e) {
    bmc::io::RunDir::remove_unused_created();
    std::fprintf(stderr, "bmc %s: %s\n", argv[1], e.message().c_str());
    bmc::dist::abort_job(2);
    return 2;
  } catch (const nlohmann::json::exception& e) {
    // A JSON value of the wrong type in a file the command read (run directories are JSON).
    bmc::io::RunDir::remove_unused_created();
    std::fprintf(stderr, "bmc %s: malformed JSON in an input file: %s\n", argv[1], e.what());
    bmc::dist::abort_job(2);
    return 2;
  } catch (const bmc::train::DivergedError& e) {
    std::fprintf(stderr, "bmc %s: %s\n", argv[1], e.what());
    bmc::dist::abort_job(3);
    return 3;
  } catch (const std::exception& e) {
    bmc::io::RunDir::remove_unused_created();
    std::fprintf(stderr, "bmc %s: %s\n", argv[1], e.what());
    bmc::dist::abort_job(1);
    return 1;
  }
}
