#include "cli/args.h"

#include <cstdio>
#include <sstream>

namespace bmc::cli {

Args::Args(std::string command, std::string summary) : command_(std::move(command)), summary_(std::move(summary)) {}

void Args::option(const std::string& name, const std::string& default_value, const std::string& help) {
  order_.push_back(name);
  specs_[name] = {default_value, help, false};
}

void Args::flag(const std::string& name, const std::string& help) {
  order_.push_back(name);
  specs_[name] = {"", help, true};
}

void Args::alias(const std::string& alias_name, const std::string& name) { aliases_[alias_name] = name; }

void Args::positionals(const std::string& name, const std::string& help) {
  positional_name_ = name;
  positional_help_ = help;
}

bool Args::parse(const std::vector<std::string>& argv) {
  for (size_t i = 0; i < argv.size(); ++i) {
    const std::string& arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      std::printf("%s", usage().c_str());
      return false;
    }
    if (arg.rfind("--", 0) != 0) {
      if (positional_name_.empty()) throw UsageError{"bmc " + command_ + ": unexpected argument '" + arg + "'"};
      positional_.push_back(arg);
      continue;
    }
    std::string name = arg.substr(2), value;
    const size_t eq = name.find('=');
    const bool inline_value = eq != std::string::npos;
    if (inline_value) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
    }
    if (auto a = aliases_.find(name); a != aliases_.end()) name = a->second;
    auto spec = specs_.find(name);
    if (spec == specs_.end())
      throw UsageError{"bmc " + command_ + ": unknown flag --" + name + " (see bmc " + command_ + " --help)"};
    if (spec->second.is_flag) {
      if (inline_value) throw UsageError{"bmc " + command_ + ": --" + name + " takes no value"};
      values_[name] = "1";
      continue;
    }
    if (!inline_value) {
      if (i + 1 >= argv.size()) throw UsageError{"bmc " + command_ + ": --" + name + " needs a value"};
      value = argv[++i];
    }
    values_[name] = value;
  }
  return true;
}

std::string Args::get(const std::string& name) const {
  auto v = values_.find(name);
  if (v != values_.end()) return v->second;
  auto s = specs_.find(name);
  return s == specs_.end() ? std::string() : s->second.default_value;
}

bool Args::given(const std::string& name) const { return values_.count(name) > 0; }

bool Args::on(const std::string& name) const { return given(name); }

int Args::get_int(const std::string& name) const {
  const long long v = get_int64(name);
  if (v < INT32_MIN || v > INT32_MAX) throw UsageError{"bmc " + command_ + ": --" + name + " out of range"};
  return static_cast<int>(v);
}

long long Args::get_int64(const std::string& name) const {
  const std::string text = get(name);
  try {
    size_t used = 0;
    const long long v = std::stoll(text, &used);
    if (used == text.size()) return v;
  } catch (const std::exception&) {
  }
  throw UsageError{"bmc " + command_ + ": --" + name + " expects an integer, got '" + text + "'"};
}

double Args::get_double(const std::string& name) const {
  const std::string text = get(name);
  try {
    size_t used = 0;
    const double v = std::stod(text, &used);
    if (used == text.size()) return v;
  } catch (const std::exception&) {
  }
  throw UsageError{"bmc " + command_ + ": --" + name + " expects a number, got '" + text + "'"};
}

std::string Args::usage() const {
  std::ostringstream out;
  out << "usage: bmc " << command_ << " [flags]" << (positional_name_.empty() ? "" : " " + positional_name_ + "...")
      << "\n" << summary_ << "\n\n";
  if (!positional_name_.empty()) out << "  " << positional_name_ << "...  " << positional_help_ << "\n\n";
  out << "flags:\n";
  for (const auto& name : order_) {
    const Spec& s = specs_.at(name);
    std::string left = "  --" + name + (s.is_flag ? "" : " VALUE");
    if (left.size() < 30) left.append(30 - left.size(), ' ');
    out << left << " " << s.help;
    if (!s.is_flag && !s.default_value.empty()) out << " (default: " << s.default_value << ")";
    out << "\n";
  }
  return out.str();
}

}  // namespace bmc::cli
