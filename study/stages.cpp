#include "study/stages.hpp"

#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "core/error.hpp"

namespace lsmss::study {

StageMarkers::StageMarkers(const std::filesystem::path& report) : folder_(report / "stages") {}

std::filesystem::path StageMarkers::marker(const std::string& stage) const {
  return folder_ / (stage + ".done");
}

std::optional<Measurements> StageMarkers::finished(const std::string& stage) const {
  const auto path = marker(stage);
  std::ifstream in(path);
  if (!in) return std::nullopt;
  Measurements m;
  std::string line;
  int lineno = 0;
  while (std::getline(in, line)) {
    ++lineno;
    if (line.empty() || line[0] == '#') continue;
    std::istringstream ss(line);
    std::string key, eq;
    double value = 0;
    if (!(ss >> key >> eq >> value) || eq != "=")
      throw FileError(
          fmt::format("{}:{}: expected 'key = number' (remove the file to rerun the "
                      "stage)",
                      path.string(), lineno));
    m[key] = value;
  }
  return m;
}

void StageMarkers::mark(const std::string& stage, const Measurements& values) const {
  std::filesystem::create_directories(folder_);
  const auto path = marker(stage);
  const auto tmp = path.string() + ".tmp";
  {
    std::ofstream out(tmp);
    out << "# lsms-surrogate study: stage '" << stage
        << "' finished; its measurements (seconds in s). Remove this file to rerun the stage.\n";
    for (const auto& [k, v] : values) out << fmt::format("{} = {:.9g}\n", k, v);
    if (!out.flush()) throw FileError(fmt::format("cannot write '{}'", tmp));
  }
  std::filesystem::rename(tmp, path);
}

}  // namespace lsmss::study
