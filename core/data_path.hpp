#pragma once
#include <filesystem>
#include <string>

namespace lsmss {
// Locates a data file shipped with the project (e.g. "tb/parameters.lua"): $LSMSS_DATA_DIR
// first, then the installed share/ folder beside the executable, then the source tree.
std::filesystem::path data_file(const std::string& relative);
}  // namespace lsmss
