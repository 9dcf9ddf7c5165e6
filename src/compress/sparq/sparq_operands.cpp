#include "compress/sparq/sparq_operands.h"

#include "compress/sparq/sparq_gemm.h"

namespace bmc::compress {

SparqOperands sparq_operands(const std::vector<int8_t>& codes, int64_t o, int64_t k) {
  SparqOperands s;
  s.o = o;
  s.k = k;
  s.op = (o + 15) / 16 * 16;
  s.kp = (k + 31) / 32 * 32;
  s.dense.assign(static_cast<size_t>(s.op * s.kp), 0);
  for (int64_t j = 0; j < o; ++j)
    for (int64_t t = 0; t < k; ++t) s.dense[j * s.kp + t] = codes[j * k + t];
  if (two_of_four(s.dense.data(), s.op, s.kp)) s.sparse = compress_two_of_four(s.dense.data(), s.op, s.kp);
  return s;
}

}  // namespace bmc::compress
