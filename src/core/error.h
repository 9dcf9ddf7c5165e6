// bmc::Error and the precondition macros every layer of bmc reports through.
// One exception type carries the message, the failing statement, file:line and function, so the
// CLI's top-level handler can print one line and tests can EXPECT_THROW(..., bmc::Error).
#pragma once

#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>

namespace bmc {

class Error : public std::runtime_error {
 public:
  Error(const std::string& message, const char* statement, const char* file, int line,
        const char* function);

  const std::string& message() const { return message_; }
  const std::string& statement() const { return statement_; }
  const std::string& location() const { return location_; }

 private:
  std::string message_;
  std::string statement_;
  std::string location_;
};

namespace detail {

template <class... Parts>
std::string concat(Parts&&... parts) {
  std::ostringstream out;
  (out << ... << std::forward<Parts>(parts));
  return out.str();
}

[[noreturn]] void throw_error(const std::string& message, const char* statement, const char* file,
                              int line, const char* function);

}  // namespace detail
}  // namespace bmc

// A user-facing precondition: the message says what was expected and what was received.
#define BMC_CHECK(cond, ...)                                                                    \
  do {                                                                                          \
    if (!(cond))                                                                                \
      ::bmc::detail::throw_error(::bmc::detail::concat(__VA_ARGS__), #cond, __FILE__, __LINE__, \
                                 __func__);                                                     \
  } while (0)

#define BMC_FAIL(...) \
  ::bmc::detail::throw_error(::bmc::detail::concat(__VA_ARGS__), "", __FILE__, __LINE__, __func__)

