// Layer fusion: a ReLU that runs inside the layer before it (one pass over the tensor instead of
// two, the same values), while nothing has to see the tensor between the two: no output
// transform on the layer, no transform on the ReLU, neither folded away. Containers ask before
// each forward, so a compression pass that hangs a transform on the ReLU turns the fusion off.
#pragma once

#include "nn/module.h"

namespace bmc::nn {

// Tells `layer` whether to run `next` (null: nothing follows) inside its forward and backward, and
// returns that choice; the container then skips `next` in both. Only a batch norm followed by a
// ReLU fuses.
bool fuse_relu_into(Module& layer, Module* next);

// Whether a ReLU module may run inside an op before it (a residual add's): it has no transforms
// and is not folded away.
bool relu_fusable(const Module& relu);

}  // namespace bmc::nn
