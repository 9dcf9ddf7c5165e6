#pragma once

namespace bmc {
constexpr const char* kVersion = "0.1.0";
}  // namespace bmc
