#include "lsms_plugin/info_evec.hpp"

#include <cmath>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "core/error.hpp"

namespace lsmss::lsms {
namespace {

// Parses whitespace-separated finite numbers of one line; error names file, line and column.
std::vector<double> numbers_of(const std::string& line, const std::string& name, int lineno) {
  std::vector<double> v;
  std::istringstream ls(line);
  int col = 0;
  for (std::string tok; ls >> tok;) {
    ++col;
    char* end = nullptr;
    const double x = std::strtod(tok.c_str(), &end);
    if (end == tok.c_str() || *end != '\0' || !std::isfinite(x))
      throw FileError(fmt::format("{}:{}: column {} is not a finite number: '{}'", name, lineno, col, tok));
    v.push_back(x);
  }
  return v;
}

}  // namespace

InfoEvec parse_info_evec_text(std::string_view text, const std::string& name) {
  std::istringstream in{std::string(text)};
  std::string line;
  int lineno = 0;
  InfoEvec out;
  bool header = false;
  while (std::getline(in, line)) {
    ++lineno;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    const auto v = numbers_of(line, name, lineno);
    if (!header) {
      if (v.size() != 3)
        throw FileError(fmt::format("{}:{}: expected 3 numbers (total, band, Fermi energy in Ry), got {}", name,
                                    lineno, v.size()));
      out.total_energy = v[0];
      out.band_energy = v[1];
      out.fermi_energy = v[2];
      header = true;
      continue;
    }
    if (v.size() < 10)
      throw FileError(fmt::format("{}:{}: expected 18 columns per atom (Z, index, x, y, z, electrons, moment, "
                                  "evec, ...), got {}",
                                  name, lineno, v.size()));
    InfoEvecAtom a;
    a.Z = static_cast<int>(v[0]);
    if (a.Z != v[0] || a.Z < 1 || a.Z > 118)
      throw FileError(fmt::format("{}:{}: atomic number '{}' is not an integer in 1..118", name, lineno, v[0]));
    a.index = static_cast<int>(v[1]);
    a.position = {v[2], v[3], v[4]};
    a.electrons = v[5];
    a.moment = v[6];
    a.evec = {v[7], v[8], v[9]};
    out.atoms.push_back(a);
  }
  if (!header) throw FileError(fmt::format("{}: empty file (no energy line)", name));
  if (out.atoms.empty()) throw FileError(fmt::format("{}: no atom lines after the energy line", name));
  return out;
}

InfoEvec parse_info_evec(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in) throw FileError(fmt::format("{}: cannot open LSMS info_evec file", path.string()));
  std::ostringstream ss;
  ss << in.rdbuf();
  return parse_info_evec_text(ss.str(), path.string());
}

}  // namespace lsmss::lsms
