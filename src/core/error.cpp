#include "core/error.h"

namespace bmc {
namespace {

std::string format_what(const std::string& message, const char* statement, const std::string& where) {
  std::string what = message;
  if (statement && *statement) what += detail::concat(" [", statement, "]");
  what += " at " + where;
  return what;
}

}  // namespace

Error::Error(const std::string& message, const char* statement, const char* file, int line,
             const char* function)
    : std::runtime_error(format_what(message, statement,
                                     detail::concat(file, ":", line, " in ", function))),
      message_(message),
      statement_(statement ? statement : ""),
      location_(detail::concat(file, ":", line, " in ", function)) {}

namespace detail {

void throw_error(const std::string& message, const char* statement, const char* file, int line,
                 const char* function) {
  throw Error(message, statement, file, line, function);
}

}  // namespace detail
}  // namespace bmc
