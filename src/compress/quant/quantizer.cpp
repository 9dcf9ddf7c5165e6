#include "compress/quant/quantizer.h"

#include <sstream>

#include "kernels/bit_planes.cuh"
#include "kernels/sparq.cuh"
#include "ops/fake_quant.h"
#include "ops/lattice.h"

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
  BMC_CHECK(q.dim >= 1 && q.dim <= kMaxLatticeDim, "lattice dimension must be in 1..", kMaxLatticeDim, ", got ", q.dim);
  BMC_CHECK(!q.bases.empty() && q.bases.size() % static_cast<size_t>(q.dim * q.dim) == 0, "lattice quantizer: ",
            q.bases.size(), " basis entries for dimension ", q.dim);
  LatticeSearchShape shape;
  shape.channels = x.dim(0);
  shape.per = x.numel() / shape.channels;
  shape.n = q.dim;
  shape.bits = q.bits;
  shape.shared_basis = q.basis_count() == 1;
  BMC_CHECK(q.basis_count() == 1 || q.basis_count() == shape.channels, "lattice quantizer: ", q.basis_count(),
            " bases for ", shape.channels, " channels");
  const Tensor bases = Tensor::from_vector(q.bases, Shape{q.basis_count(), q.dim, q.dim}, x.device());
  Tensor y(x.shape(), DType::F32, x.device());
  ops::lattice_quantize(y, nullptr, x, bases, q.layer_scale, shape);
  return y;
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
