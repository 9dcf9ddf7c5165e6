#include "datasets/normalization.h"

#include "core/error.h"

namespace bmc::data {

Normalization standard_normalization(const std::string& name) {
  // Statistics of each training set (CIFAR std is the per-pixel std over the whole set, not the
  // often-copied 0.2023/0.1994/0.2010 which is a per-image average).
  if (name == "mnist") return {{0.1307f}, {0.3081f}};
  if (name == "fashion-mnist") return {{0.2860f}, {0.3530f}};
  if (name == "cifar10") return {{0.4914f, 0.4822f, 0.4465f}, {0.2470f, 0.2435f, 0.2616f}};
  if (name == "cifar100" || name == "cifar100-coarse")
    return {{0.5071f, 0.4865f, 0.4409f}, {0.2673f, 0.2564f, 0.2762f}};
  if (name == "imagenet") return {{0.485f, 0.456f, 0.406f}, {0.229f, 0.224f, 0.225f}};
  BMC_FAIL("no standard normalisation for dataset '", name,
           "' (known: mnist, fashion-mnist, cifar10, cifar100, imagenet)");
}

}  // namespace bmc::data
