// The part of MATLAB's level-5 MAT-file format that ImageNet's devkit uses for data/meta.mat: named
// top-level variables (compressed or not), struct arrays, char arrays and real numeric arrays of
// any storage type. Enough to read the devkit's `synsets` table; every length is checked against
// the data before it is used.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace bmc::data {

struct MatValue {
  enum class Kind { Numeric, Char, Struct, Cell, Other };
  Kind kind = Kind::Other;
  std::vector<int64_t> dims;
  std::vector<double> numbers;  // Numeric, column-major
  std::string text;             // Char (UTF-16 code units above 127 become '?')
  // Struct: field names, and per element (column-major) one value per field.
  std::vector<std::string> fields;
  std::vector<std::vector<MatValue>> elements;
  std::vector<MatValue> cells;  // Cell, column-major

  const MatValue& field(size_t element, const std::string& name) const;
};

// Top-level variables by name; `what` names the source in errors.
std::map<std::string, MatValue> read_mat_file(const std::string& path);

}  // namespace bmc::data
