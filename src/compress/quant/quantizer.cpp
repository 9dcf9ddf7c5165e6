#include "compress/quant/quantizer.h"

#include <sstream>

#include "kernels/bit_planes.cuh"
#include "kernels/lattice.cuh"
#include "kernels/sparq.cuh"
#include "ops/fake_quant.h"

namespace bmc::compress {
namespace {

template <class... F>
struct Overload : F... {
  using F::operator()...;
};
template <class... F>
Overload(F...) -> Overload<F...>;

// Runs `fn` on a host copy of x and brings the result back to x's device.
template <class Fn>
Tensor on_host(const Tensor& x, Fn fn) {
  std::vector<float> v = x.to_vector<float>();
  fn(v);
  return Tensor::from_vector(v, x.shape(), x.device());
}

Tensor apply(const RangeLinearQuantizer& q, const Tensor& x) {
  BMC_CHECK(!q.params.empty(), "range-linear quantizer without parameters");
  Tensor y(x.shape(), DType::F32, x.device());
  ops::fake_quant_forward(y, x, q.params, q.channel_axis);
  return y;
}

Tensor apply(const BitWindowQuantizer& q, const Tensor& x) {
  BMC_CHECK(q.step > 0, "bit-window quantizer: step must be positive, got ", q.step);
  return on_host(x, [&](std::vector<float>& v) {
    for (float& e : v) {
      BMC_CHECK(!(e < 0.0f), "bit-window quantizer: negative activation ", e, " (SPARQ quantizes post-ReLU inputs)");
      e = static_cast<float>(bit_window_value(sparq_act_code(e, q.step, 8), q.window)) * q.step;
    }
  });
}

Tensor apply(const BitPlaneQuantizer& q, const Tensor& x) {
  BMC_CHECK(q.bits >= 0 && q.bits <= 16, "bit-plane quantizer: precision ", q.bits, " outside 0..16");
  return on_host(x, [&](std::vector<float>& v) {
    for (float& e : v) e = q.bits == 0 || q.scale == 0.0f ? 0.0f : mul_rn(q.scale, bit_plane_quantize(e / q.scale, q.bits));
  });
}

Tensor apply(const LatticeQuantizer& q, const Tensor& x) {
  const int n = q.dim;
  BMC_CHECK(n >= 1 && n <= kMaxLatticeDim, "lattice dimension must be in 1..", kMaxLatticeDim, ", got ", n);
  BMC_CHECK(q.bits >= 2 && q.bits <= 16, "lattice coordinate bits must be in 2..16, got ", q.bits);
  BMC_CHECK(!q.bases.empty() && q.bases.size() % static_cast<size_t>(n * n) == 0, "lattice quantizer: ",
            q.bases.size(), " basis entries for dimension ", n);
  const int64_t channels = x.dim(0), per = x.numel() / channels;
  BMC_CHECK(per % n == 0, "lattice quantizer: ", per, " weights per channel do not split into vectors of ", n);
  BMC_CHECK(q.basis_count() == 1 || q.basis_count() == channels, "lattice quantizer: ", q.basis_count(),
            " bases for ", channels, " channels");
  BMC_CHECK(q.layer_scale > 0, "lattice quantizer: layer scale must be positive");
  return on_host(x, [&](std::vector<float>& v) {
    float bt[kMaxLatticeDim * kMaxLatticeDim], z[kMaxLatticeDim], vec[kMaxLatticeDim], out[kMaxLatticeDim];
    for (int64_t c = 0; c < channels; ++c) {
      const float* b = &q.bases[static_cast<size_t>(q.basis_count() == 1 ? 0 : c) * n * n];
      lattice_gram_schmidt(b, n, bt);
      for (int64_t k = 0; k < per; k += n) {
        float* w = &v[static_cast<size_t>(c * per + k)];
        for (int i = 0; i < n; ++i) vec[i] = w[i] / q.layer_scale;
        lattice_babai(vec, b, bt, n, q.bits, z);
        lattice_point(z, b, n, out);
        for (int i = 0; i < n; ++i) w[i] = mul_rn(q.layer_scale, out[i]);
      }
    }
  });
}

}  // namespace

std::string describe(const Quantizer& q) {
  std::ostringstream s;
  std::visit(Overload{
                 [&](const RangeLinearQuantizer& r) {
                   s << "range_linear(" << r.params.size() << (r.params.size() == 1 ? " group" : " groups")
                     << ", axis " << r.channel_axis << ")";
                 },
                 [&](const BitWindowQuantizer& b) {
                   s << "bit_window(" << b.window.bits << " bits, shift step " << b.window.shift_step << ", "
                     << (b.window.round == WindowRound::Round ? "round" : "raw") << ", step " << b.step << ")";
                 },
                 [&](const BitPlaneQuantizer& b) { s << "bit_planes(" << b.bits << " bits, scale " << b.scale << ")"; },
                 [&](const LatticeQuantizer& l) {
                   s << "lattice(dim " << l.dim << ", " << l.bits << " bits, " << l.basis_count() << " bases)";
                 },
             },
             q);
  return s.str();
}

Tensor fake_quantize(const Quantizer& q, const Tensor& x) {
  BMC_CHECK(x.dtype() == DType::F32 && x.numel() > 0, "fake_quantize: expected a non-empty f32 tensor, got ",
            x.describe());
  return std::visit([&](const auto& quantizer) { return apply(quantizer, x); }, q);
}

}  // namespace bmc::compress
