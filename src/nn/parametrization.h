// Weight parametrizations (the idea of torch.nn.utils.parametrize): a parameter layer computes with
// its parameter's *effective* tensor, which a chain of parametrizations derives from the stored
// value, and hands the gradient of the effective tensor back through the chain, which maps it onto
// whatever it trains (the stored value, or state of its own). Layers never see the chain; methods
// attach and remove parametrizations at run time.
//
// Writing one: derive from Parametrization, compute forward(w) (keep what backward needs) and
// backward(dy) -> gradient with respect to forward's input (accumulate the gradients of your own
// trainable state there too), and expose your state through visit_state. A parametrization whose
// forward is the identity on the stored value because something else keeps that true (a mask:
// every writer of the arena keeps pruned weights at zero) says so with passthrough(); a chain of
// such links costs nothing, and the identity (no chain) is the stored tensor itself, no copy.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "nn/state.h"

namespace bmc::nn {

class Parametrization : public StateOwner {
 public:
  // The effective tensor for input w (the stored value or the previous link's output).
  virtual Tensor forward(const Tensor& w) = 0;
  // The gradient with respect to forward's input, given the gradient of its output.
  virtual Tensor backward(const Tensor& dy) = 0;
  // True when forward(stored value) == stored value and backward is the identity there.
  virtual bool passthrough() const { return false; }
};

// The chain of one parameter and the effective tensor it produced in the last forward.
class ParametrizationChain {
 public:
  // Appended at the end (applied last).
  void append(std::unique_ptr<Parametrization> p) { links_.push_back(std::move(p)); }
  void insert_front(std::unique_ptr<Parametrization> p) { links_.insert(links_.begin(), std::move(p)); }
  // Removes every link whose describe() starts with `kind`; returns how many.
  size_t remove(const std::string& kind);
  void clear() { links_.clear(); }
  bool empty() const { return links_.empty(); }
  const std::vector<std::unique_ptr<Parametrization>>& links() const { return links_; }
  // True when no link does work: the effective tensor is the stored one.
  bool identity() const;

  // The effective tensor of `stored`: a view of it when identity(), else computed by the chain.
  Tensor forward(const Tensor& stored);
  // Maps the gradient of the effective tensor onto the stored tensor's gradient (accumulated).
  void backward(const Tensor& d_effective, Tensor& stored_grad);

 private:
  std::vector<std::unique_ptr<Parametrization>> links_;
  size_t first_active_ = 0;  // links before it are passthrough (set by forward)
};

}  // namespace bmc::nn
