// Where a named dataset lives on this machine, in the order datasets/fetch uses (without
// downloading): $BMC_DATA/<name>, ../shared/datasets/<name> (relative to the working directory,
// the repository root), then data/<name> (fetch's default destination).
#pragma once

#include <string>
#include <vector>

namespace bmc::data {

// The folders searched for `name`, in order.
std::vector<std::string> dataset_search_path(const std::string& name);
// True when `dir` holds the files of dataset `name` (mnist, fashion-mnist, cifar10, cifar100, cifar10-jpeg).
bool dataset_dir_complete(const std::string& name, const std::string& dir);
// The first complete folder; throws bmc::Error listing every place looked in and the fetch command.
std::string find_dataset_dir(const std::string& name);

}  // namespace bmc::data
