#include "models/name_parse.h"

#include <algorithm>

namespace bmc::models {

std::vector<int64_t> positive_fields_after(const std::string& name, const std::string& prefix) {
  if (name.rfind(prefix, 0) != 0 || name.size() == prefix.size()) return {};
  std::vector<int64_t> fields;
  size_t start = prefix.size();
  while (start <= name.size()) {
    const size_t end = std::min(name.find('_', start), name.size());
    const std::string field = name.substr(start, end - start);
    if (field.empty() || field.size() > 9 || field.find_first_not_of("0123456789") != std::string::npos) return {};
    const int64_t value = std::stoll(field);
    if (value <= 0) return {};
    fields.push_back(value);
    start = end + 1;
  }
  return fields;
}

}  // namespace bmc::models
