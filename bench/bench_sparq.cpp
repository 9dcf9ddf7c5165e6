// SPARQ's CPU GEMM at the ResNet-18 3x3 layer shapes (batch 2, 224 x 224 input: M output pixels,
// K = 9 C, O output channels) against OpenBLAS SGEMM of the same M x K x O: the exact u8 x s8
// integer GEMM, bSPARQ, vSPARQ and STC (on 2:4 weights, which does 4x the dense MACs through its
// 16-slot expansion). BM_sparq_gemm/<mode>/m<M>_k<K>_o<O> and BM_sgemm/m<M>_k<K>_o<O>, with
// GOP/s counting 2 M K O operations for every one of them; `path` names the integer path.
#include <benchmark/benchmark.h>
#include <cblas.h>

#include <random>
#include <string>
#include <vector>

#include "compress/sparq/sparq_gemm.h"

namespace {

using bmc::compress::SparqMode;

struct GemmShape {
  int64_t m, k, o;
};

// layer1..layer4 of ResNet-18 at batch 2.
constexpr GemmShape kShapes[] = {{2 * 56 * 56, 576, 64}, {2 * 28 * 28, 1152, 128}, {2 * 14 * 14, 2304, 256},
                                 {2 * 7 * 7, 4608, 512}};

std::string shape_name(const GemmShape& s) {
  return "m" + std::to_string(s.m) + "_k" + std::to_string(s.k) + "_o" + std::to_string(s.o);
}

void set_rate(benchmark::State& state, const GemmShape& s) {
  state.counters["GOP/s"] =
      benchmark::Counter(2.0 * double(s.m) * double(s.k) * double(s.o), benchmark::Counter::kIsIterationInvariantRate);
}

void run_sparq(benchmark::State& state, GemmShape s, SparqMode mode) {
  std::mt19937 gen(1);
  std::uniform_int_distribution<int> code(0, 255), wcode(-128, 127);
  std::vector<uint8_t> a(static_cast<size_t>(s.m * s.k));
  std::vector<int8_t> b(static_cast<size_t>(s.o * s.k));
  for (auto& v : a) v = gen() % 3 == 0 ? 0 : static_cast<uint8_t>(code(gen));  // post-ReLU zeros
  for (size_t i = 0; i < b.size(); ++i) b[i] = (mode == SparqMode::Stc && i % 4 < 2) ? 0 : static_cast<int8_t>(wcode(gen));
  std::vector<int32_t> c(static_cast<size_t>(s.m * s.o));
  const bmc::BitWindow w = bmc::sparq_window(4, 5, bmc::WindowRound::Round);
  for (auto _ : state) {
    bmc::compress::sparq_gemm(a.data(), b.data(), c.data(), s.m, s.k, s.o, mode, w);
    benchmark::DoNotOptimize(c.data());
  }
  set_rate(state, s);
  state.SetLabel(std::string("path ") + bmc::compress::int_gemm_path_name(bmc::compress::best_int_gemm_path()));
}

void run_sgemm(benchmark::State& state, GemmShape s) {
  std::vector<float> a(static_cast<size_t>(s.m * s.k), 0.5f), b(static_cast<size_t>(s.o * s.k), 0.25f),
      c(static_cast<size_t>(s.m * s.o));
  for (auto _ : state) {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, static_cast<int>(s.m), static_cast<int>(s.o),
                static_cast<int>(s.k), 1.0f, a.data(), static_cast<int>(s.k), b.data(), static_cast<int>(s.k), 0.0f,
                c.data(), static_cast<int>(s.o));
    benchmark::DoNotOptimize(c.data());
  }
  set_rate(state, s);
}

bool register_sparq_benchmarks() {
  const struct {
    SparqMode mode;
    const char* name;
  } modes[] = {{SparqMode::Exact, "exact"}, {SparqMode::Window, "bsparq"}, {SparqMode::Pairs, "vsparq"},
               {SparqMode::Stc, "stc"}};
  for (const GemmShape& s : kShapes) {
    benchmark::RegisterBenchmark(("BM_sgemm/" + shape_name(s)).c_str(), run_sgemm, s)
        ->UseRealTime()
        ->Unit(benchmark::kMillisecond);
    for (const auto& m : modes)
      benchmark::RegisterBenchmark(("BM_sparq_gemm/" + std::string(m.name) + "/" + shape_name(s)).c_str(), run_sparq, s,
                                   m.mode)
          ->UseRealTime()
          ->Unit(benchmark::kMillisecond);
  }
  return true;
}

const bool registered = register_sparq_benchmarks();

}  // namespace
