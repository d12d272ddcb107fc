#include "core/output_file.hpp"

#include <fmt/format.h>

#include "core/error.hpp"

namespace lsmss {

std::ofstream open_output_file(const std::filesystem::path& path) {
  std::ofstream f(path);
  if (!f) throw FileError(fmt::format("cannot write '{}'", path.string()));
  return f;
}

}  // namespace lsmss
