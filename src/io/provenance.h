// What produced a run directory: bmc's version and git commit (dirty or not), the compiler and its
// flags, the CUDA / cuDNN / cuBLAS / OpenBLAS versions, the CPU model and the ISA it offers and the
// build assumes, the GPUs, the thread count. Written as provenance.json beside hparams.json; a
// resume on another build or machine is recorded there too, and `bmc report` shows the records and
// warns when the runs it compares were made differently.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace bmc::io {

nlohmann::json provenance();

// The fields two runs must share for their numbers to be comparable run for run.
std::vector<std::string> provenance_differences(const nlohmann::json& a, const nlohmann::json& b);

// One line: "bmc 0.1.0 (abc1234, dirty), g++ 12.2, Intel Xeon ..., avx512f, 2 threads, cpu".
std::string provenance_line(const nlohmann::json& p);

}  // namespace bmc::io
