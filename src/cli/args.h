// A small flag parser for the bmc commands: `--name value` or `--name=value`, boolean switches,
// defaults shown in --help, and one-line errors (exit code 2) for unknown or malformed flags.
#pragma once

#include <map>
#include <string>
#include <vector>

namespace bmc::cli {

// Thrown for bad command lines; main prints "bmc: <message>" and exits with code 2.
struct UsageError {
  std::string message;
};

class Args {
 public:
  Args(std::string command, std::string summary);

  // Declarations (before parse).
  void option(const std::string& name, const std::string& default_value, const std::string& help);
  void flag(const std::string& name, const std::string& help);
  // Alternative spelling accepted for an option (e.g. Distiller's --qebw).
  void alias(const std::string& alias_name, const std::string& name);
  // Accept bare arguments (e.g. run directories); without this they are an error.
  void positionals(const std::string& name, const std::string& help);

  // Returns false when --help was given (usage already printed).
  bool parse(const std::vector<std::string>& argv);

  std::string get(const std::string& name) const;
  bool given(const std::string& name) const;  // set on the command line (not a default)
  bool on(const std::string& name) const;     // a boolean flag
  const std::vector<std::string>& positional() const { return positional_; }
  int get_int(const std::string& name) const;
  long long get_int64(const std::string& name) const;
  double get_double(const std::string& name) const;
  std::string usage() const;

 private:
  struct Spec {
    std::string default_value, help;
    bool is_flag = false;
  };
  std::string command_, summary_;
  std::vector<std::string> order_;
  std::map<std::string, Spec> specs_;
  std::map<std::string, std::string> aliases_;
  std::map<std::string, std::string> values_;
  std::string positional_name_, positional_help_;
  std::vector<std::string> positional_;
};

}  // namespace bmc::cli
