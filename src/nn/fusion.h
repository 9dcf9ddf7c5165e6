// Layer fusion: layers that run inside the layer before them, one pass over the tensor instead of
// two with the same values, while nothing has to see the tensor in between: no output transform
// on the first, no transform on the others, none folded away. A ReLU runs inside the batch norm
// before it; in eval mode on the CPU, a batch norm (and its ReLU) runs inside the convolution
// before it, on each image's output while that is in cache, and so do a residual block's add
// and ReLU after its last batch norm. Containers ask before each forward,
// so a compression pass that hangs a transform on a layer turns the fusion there off.
#pragma once

#include "nn/module.h"

namespace bmc::nn {

// Tells `layer` whether to run `next` (null: nothing follows) inside its forward and backward, and
// returns that choice; the container then skips `next` in both. Only a batch norm followed by a
// ReLU fuses.
bool fuse_relu_into(Module& layer, Module* next);

// Tells `layer` whether to run `next` (a batch norm, and `after` its ReLU) inside its forward,
// given its input x; returns how many modules that is (0, 1 or 2), which the container then
// skips. Only an eval-mode convolution followed by an eval-mode batch norm fuses, on the CPU.
int fuse_into_convolution(Module& layer, Module* next, Module* after, const Tensor& x);

// Whether a ReLU module may run inside an op before it (a residual add's): it has no transforms
// and is not folded away.
bool relu_fusable(const Module& relu);

// Tells `layer`, a convolution that will run its batch norm inside (fuse_into_convolution), to
// add `residual` to that batch norm's output and apply `relu` after the sum too, as a residual
// block's add and ReLU would; returns whether it will (not with a ReLU that cannot fuse).
bool fuse_residual_into(Module& layer, const Tensor& residual, const Module& relu);

}  // namespace bmc::nn
