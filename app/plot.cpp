#include "app/plot.hpp"

#include <cstdlib>
#include <filesystem>

#include <fmt/format.h>

namespace lsmss::app {
namespace {

std::string shell_quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

// Best terminal this gnuplot offers: "pngcairo", "png" or "svg" ("" without gnuplot).
std::string probe_terminal() {
  if (std::system("command -v gnuplot >/dev/null 2>&1") != 0) return "";
  for (const char* t : {"pngcairo", "png", "svg"})
    if (std::system(fmt::format("gnuplot -e 'set terminal {}' >/dev/null 2>&1", t).c_str()) == 0)
      return t;
  return "";
}

}  // namespace

std::string GnuplotPlotter::terminal() const {
  if (!terminal_) terminal_ = probe_terminal();
  return *terminal_;
}

std::string GnuplotPlotter::unavailable() const {
  return "gnuplot is not installed (apt-get install gnuplot-nox): no plot";
}

std::string GnuplotPlotter::draw(const std::string& script) const {
  // gnuplot resolves the data files relative to its working directory: run it in the folder.
  const auto folder = std::filesystem::absolute(script).parent_path();
  const int rc =
      std::system(fmt::format("cd {} && gnuplot {} >/dev/null 2>&1", shell_quote(folder.string()),
                              shell_quote(std::filesystem::path(script).filename().string()))
                      .c_str());
  if (rc != 0) return fmt::format("gnuplot failed on '{}' (status {}): no plot", script, rc);
  return "";
}

}  // namespace lsmss::app
