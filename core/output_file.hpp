#pragma once
// Opening an output file (a CSV, a JSON, a report page) for writing, with the one error message
// every writer gives when it cannot.
#include <filesystem>
#include <fstream>

namespace lsmss {

// Creates or truncates `path`; throws FileError "cannot write '<path>'" when it cannot be opened.
std::ofstream open_output_file(const std::filesystem::path& path);

}  // namespace lsmss
