#include "compress/latticeq/lattice_search.h"

#include <numeric>

#include "core/error.h"
#include "ops/lattice.h"

namespace bmc::compress {
namespace {

std::vector<float> scaled_identities(const LatticeSearchShape& shape, float value) {
  const int n = shape.n;
  std::vector<float> b(static_cast<size_t>(shape.bases() * n * n), 0.0f);
  for (int64_t g = 0; g < shape.bases(); ++g)
    for (int i = 0; i < n; ++i) b[static_cast<size_t>(g * n * n + i * n + i)] = value;
  return b;
}

double total(const std::vector<float>& v) { return std::accumulate(v.begin(), v.end(), 0.0); }

}  // namespace

LatticeSchedule lattice_schedule(LatticeLayerKind kind, int n, int bits, int steps, int restarts) {
  BMC_CHECK(steps >= 1 && restarts >= 1, "lattice search: --steps and --nb-restarts must be at least 1");
  const double sc = 1.0 / static_cast<double>((1 << bits) - 1);
  LatticeSchedule s;
  if (n == 1) {
    s.temperatures = {sc * 1e-4, sc, sc / 4, sc / 9};
    s.iterations = 100;
    s.restarts = kind == LatticeLayerKind::Other ? restarts : 1;
  } else {
    s.temperatures = {sc * 1e-4, sc, sc / 2, sc / 3, sc / 5, sc / 7, sc / 9, sc / 15, sc / 30};
    s.iterations = kind == LatticeLayerKind::Last ? 300 : steps;
    s.restarts = kind == LatticeLayerKind::Other ? restarts : 1;
  }
  return s;
}

std::vector<float> lattice_initial_bases(const LatticeSearchShape& shape) {
  const double half = static_cast<double>(1 << (shape.bits - 1));
  return scaled_identities(shape, static_cast<float>(shape.shared_basis ? 1.0 / (half - 1) : 1e-4 / half));
}

std::vector<float> lattice_uniform_bases(const LatticeSearchShape& shape) {
  return scaled_identities(shape, static_cast<float>(1.0 / static_cast<double>((1 << (shape.bits - 1)) - 1)));
}

LatticeSearchResult lattice_search(const Tensor& wn, const LatticeSearchShape& shape, const LatticeSchedule& schedule,
                                   uint64_t seed, uint32_t stream,
                                   const std::function<void(const LatticeSearchProgress&)>& progress) {
  const Device dev = wn.device();
  const int n = shape.n;
  const Shape bases_shape{shape.bases(), n, n};
  const Tensor norms = Tensor::from_vector(ops::lattice_centered_norms(wn, shape.channels), Shape{shape.channels}, dev);
  Tensor losses(Shape{shape.channels}, DType::F32, dev), best(Shape{shape.bases()}, DType::F32, dev);

  LatticeSearchResult result;
  {
    Tensor uniform = Tensor::from_vector(lattice_uniform_bases(shape), bases_shape, dev);
    ops::lattice_losses(losses, best, uniform, wn, norms, shape);
    result.uniform_loss = total(best.to_vector<float>());
  }
  const std::vector<float> start = lattice_initial_bases(shape);
  const int64_t per_restart = schedule.proposals_per_restart();
  for (int r = 0; r < schedule.restarts; ++r) {
    Tensor bases = Tensor::from_vector(start, bases_shape, dev);
    ops::lattice_losses(losses, best, bases, wn, norms, shape);
    for (size_t k = 0; k < schedule.temperatures.size(); ++k) {
      LatticeNoise noise;
      noise.seed = seed;
      noise.stream = stream;
      noise.sigma = static_cast<float>(schedule.temperatures[k] / 2);
      for (int i = 0; i < schedule.iterations; ++i) {
        noise.step = static_cast<uint32_t>(r * per_restart + static_cast<int64_t>(k) * schedule.iterations + i);
        ops::lattice_search_step(bases, best, losses, wn, norms, shape, noise);
      }
      result.proposals += schedule.iterations;
      if (progress) progress({r, static_cast<int>(k), total(best.to_vector<float>())});
    }
    std::vector<float> b = bases.to_vector<float>(), l = best.to_vector<float>();
    if (r == 0) {
      result.bases = std::move(b);
      result.losses = std::move(l);
      continue;
    }
    // Each basis keeps the better of the stored one and this restart's (ties keep the stored).
    for (size_t g = 0; g < l.size(); ++g) {
      if (!(l[g] < result.losses[g])) continue;
      result.losses[g] = l[g];
      std::copy(b.begin() + static_cast<int64_t>(g) * n * n, b.begin() + static_cast<int64_t>(g + 1) * n * n,
                result.bases.begin() + static_cast<int64_t>(g) * n * n);
    }
  }
  result.loss = total(result.losses);
  return result;
}

}  // namespace bmc::compress
