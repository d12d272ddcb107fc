#include "core/data_path.hpp"

#include <unistd.h>

#include <cstdlib>
#include <vector>

#include "core/error.hpp"
#include "core/version.hpp"

namespace lsmss {

std::filesystem::path data_file(const std::string& relative) {
  std::vector<std::filesystem::path> candidates;
  if (const char* env = std::getenv("LSMSS_DATA_DIR")) candidates.emplace_back(env);
  std::error_code ec;
  const auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (!ec) candidates.push_back(exe.parent_path().parent_path() / "share" / "lsms-surrogate");
  candidates.emplace_back(kSourceDataDir);
  for (const auto& dir : candidates)
    if (std::filesystem::exists(dir / relative)) return dir / relative;
  std::string tried;
  for (const auto& dir : candidates) tried.append(" ").append((dir / relative).string());
  throw FileError(
      fmt::format("data file '{}' not found; tried:{} (set LSMSS_DATA_DIR)", relative, tried));
}

}  // namespace lsmss
