#include "lsms_plugin/kout.hpp"

#include <cmath>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "core/error.hpp"

namespace lsmss::lsms {

std::vector<KoutRow> parse_kout_text(std::string_view text, const std::string& name) {
  std::vector<KoutRow> rows;
  std::istringstream in{std::string(text)};
  std::string line;
  int lineno = 0;
  while (std::getline(in, line)) {
    ++lineno;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    std::istringstream ls(line);
    std::vector<std::string> tok;
    for (std::string t; ls >> t;) tok.push_back(t);
    if (tok.size() < 4)
      throw FileError(fmt::format(
          "{}:{}: expected at least 4 columns (iteration, energy, Fermi energy, rms), got {}", name,
          lineno, tok.size()));
    KoutRow r;
    std::vector<double> v;
    for (std::size_t k = 0; k < tok.size(); ++k) {
      char* end = nullptr;
      const double x = std::strtod(tok[k].c_str(), &end);
      if (end == tok[k].c_str() || *end != '\0' || !std::isfinite(x))
        throw FileError(fmt::format("{}:{}: column {} is not a finite number: '{}'", name, lineno,
                                    k + 1, tok[k]));
      v.push_back(x);
    }
    r.iteration = static_cast<int>(v[0]);
    r.total_energy = v[1];
    r.fermi_energy = v[2];
    r.extra.assign(v.begin() + 3, v.end());
    rows.push_back(std::move(r));
  }
  return rows;
}

std::vector<KoutRow> parse_kout(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in) throw FileError(fmt::format("{}: cannot open LSMS k.out file", path.string()));
  std::ostringstream ss;
  ss << in.rdbuf();
  return parse_kout_text(ss.str(), path.string());
}

Convergence judge_convergence(const std::vector<KoutRow>& rows, double rms_tolerance, int nscf) {
  Convergence c;
  if (rows.empty()) {
    c.reason = "k.out has no SCF iteration";
    return c;
  }
  c.iterations = static_cast<int>(rows.size());
  c.rms = std::abs(rows.back().rms());
  c.converged = c.rms <= rms_tolerance;
  if (!c.converged)
    c.reason = fmt::format("rms {:.3e} above tolerance {:.3e} after {} iterations{}", c.rms,
                           rms_tolerance, c.iterations,
                           c.iterations >= nscf ? " (nscf reached)" : " (run stopped early)");
  return c;
}

}  // namespace lsmss::lsms
