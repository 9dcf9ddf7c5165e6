// LatticeQ's derivative-free basis search for one layer (../shared/docs/algorithms/latticeq.md
// 2.4-2.5): from a fixed starting basis, proposals B + N(0, (T/2)^2) over a temperature schedule,
// each channel (or the layer, with a shared basis) keeping a candidate only when its cubic error
// strictly drops; restarts search again from the start and each basis keeps the better result.
// Runs on the device of the weights (one kernel launch per proposal on CUDA); the noise comes from
// one Philox stream per layer, so a search repeats to the same bits on any backend.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "core/tensor.h"
#include "kernels/lattice_search.cuh"

namespace bmc::compress {

// Which of the note's rules a layer follows (sections 2.5 and 2.9).
enum class LatticeLayerKind { First, Last, Other };

struct LatticeSchedule {
  std::vector<double> temperatures;  // T per stage; the noise std is T / 2
  int iterations = 0;                // proposals per stage
  int restarts = 1;
  int64_t proposals_per_restart() const { return static_cast<int64_t>(temperatures.size()) * iterations; }
};

// The schedule of section 2.5 with sc = 1 / (2^bits - 1): nine stages of `steps` proposals for
// n > 1 (300 and one restart for the last layer), four stages of 100 for scalar layers (one
// restart for the first layer).
LatticeSchedule lattice_schedule(LatticeLayerKind kind, int n, int bits, int steps, int restarts);

// The start of every restart: (1e-4 / 2^(b-1)) I per channel, I / (2^(b-1) - 1) for a shared basis.
std::vector<float> lattice_initial_bases(const LatticeSearchShape& shape);
// The uniform scalar grid I / (2^(b-1) - 1), once per basis: the reference the report compares to.
std::vector<float> lattice_uniform_bases(const LatticeSearchShape& shape);

struct LatticeSearchProgress {
  int restart = 0;  // 0-based
  int stage = 0;    // 0-based, within the restart
  double loss = 0;  // the restart's current total
};

struct LatticeSearchResult {
  std::vector<float> bases;   // [bases x n x n]
  std::vector<float> losses;  // per basis
  double loss = 0;            // their sum
  double uniform_loss = 0;    // the same objective on lattice_uniform_bases
  int64_t proposals = 0;
};

// wn: the layer's weights divided by max |W| (channels x per), on the device to search on.
LatticeSearchResult lattice_search(const Tensor& wn, const LatticeSearchShape& shape, const LatticeSchedule& schedule,
                                   uint64_t seed, uint32_t stream,
                                   const std::function<void(const LatticeSearchProgress&)>& progress = {});

}  // namespace bmc::compress
