// The post-training quantization flags shared by `bmc quantize` and `bmc qlth` (Distiller's
// --qe-* names, with its short spellings as aliases). The pipeline is compress/quant/ptq_pipeline.h.
#pragma once

#include <nlohmann/json.hpp>

#include "cli/args.h"
#include "compress/quant/range_linear.h"

namespace bmc::cli {

void declare_quant_flags(Args& args);
// Everything but the weight bits is read from the flags; `bits_weights` comes from the caller.
compress::QuantConfig quant_config_from_flags(const Args& args, int bits_weights);
// --calib-batches, or --calib-images rounded up to whole batches of `batch_size`.
int64_t calib_batches_from_flags(const Args& args, int batch_size);
nlohmann::json quant_flags_json(const compress::QuantConfig& config, int64_t calib_batches);

}  // namespace bmc::cli
