// A test that provokes a warning on purpose declares it with an ExpectWarnings scope; any other
// logged warning fails the test.
#pragma once

namespace bmc::test {

class ExpectWarnings {
 public:
  ExpectWarnings();
  ~ExpectWarnings();
  ExpectWarnings(const ExpectWarnings&) = delete;
  ExpectWarnings& operator=(const ExpectWarnings&) = delete;
  long count() const;  // warnings logged since this scope opened

 private:
  long start_;
};

}  // namespace bmc::test
