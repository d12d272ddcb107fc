#pragma once
// Stage markers of a study: <report>/stages/<stage>.done, written when a stage has finished,
// holding what the stage measured (key = value lines, e.g. seconds = 12.5). A rerun skips every
// stage with a marker and reads its measurements back; removing a marker reruns that stage.
#include <filesystem>
#include <map>
#include <optional>
#include <string>

namespace lsmss::study {

using Measurements = std::map<std::string, double>;

class StageMarkers {
 public:
  explicit StageMarkers(const std::filesystem::path& report);
  // The measurements of a finished stage; nullopt when it has not finished.
  std::optional<Measurements> finished(const std::string& stage) const;
  // Marks a stage finished (written atomically: a crash leaves no half marker).
  void mark(const std::string& stage, const Measurements& values) const;
  std::filesystem::path marker(const std::string& stage) const;

 private:
  std::filesystem::path folder_;
};

}  // namespace lsmss::study
