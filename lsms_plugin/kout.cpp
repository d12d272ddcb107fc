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

double KoutRow::charge_rms(const std::string& kind) const {
  const std::size_t column = kind == "lsms" ? 1 : 0;  // index into extra (columns 4..)
  return column < extra.size() ? extra[column] : std::nan("");
}

Convergence judge_convergence(const std::vector<KoutRow>& rows, const ConvergenceCriteria& k,
                              bool declared) {
  Convergence c;
  if (rows.empty()) {
    c.reason = "k.out has no SCF iteration";
    return c;
  }
  c.iterations = static_cast<int>(rows.size());
  const KoutRow& last = rows.back();
  c.rms = std::abs(last.charge_rms(k.kind));
  const bool stopped_early = c.iterations < k.nscf;
  if (std::isnan(c.rms)) {
    c.reason = fmt::format("k.out has no charge rms column for {}", k.kind);
    return c;
  }
  const bool rms_ok = c.rms < k.rms_tolerance;
  bool energy_ok = true;
  if (k.energy_tolerance > 0) {
    if (rows.size() >= 2) {
      c.energy_change =
          std::abs((last.total_energy - rows[rows.size() - 2].total_energy) / last.total_energy);
      energy_ok = c.energy_change < k.energy_tolerance;
    } else {
      energy_ok = stopped_early;  // LSMS compared with its starting energy, which we cannot see
    }
  }
  const std::string where = fmt::format(
      "after {} iteration{}{}", c.iterations, c.iterations == 1 ? "" : "s",
      stopped_early ? " (LSMS stopped before nscf)" : fmt::format(" (nscf = {} reached)", k.nscf));
  if (!rms_ok)
    c.reason = fmt::format("charge rms {:.3e} not below rms_tolerance {:.3e} {}", c.rms,
                           k.rms_tolerance, where);
  else if (!energy_ok)
    c.reason =
        rows.size() >= 2
            ? fmt::format("relative energy change {:.3e} not below energy_tolerance {:.3e} {}",
                          c.energy_change, k.energy_tolerance, where)
            : fmt::format("a single SCF iteration cannot show the energy change {}", where);
  else if (!declared)
    c.reason = fmt::format("LSMS did not print \"{}\" {}", kConvergedPotentialsLine, where);
  else
    c.converged = true;
  return c;
}

}  // namespace lsmss::lsms
