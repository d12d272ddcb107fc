#include "lsms_plugin/info_evec.hpp"

#include <charconv>
#include <cmath>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "core/error.hpp"

namespace lsmss::lsms {
namespace {

constexpr int kAtomColumns = 18;

// Splits one line into whitespace-separated fields without allocating.
int split_fields(std::string_view line, std::string_view* out, int max_fields) {
  int n = 0;
  std::size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t' || line[i] == '\r')) ++i;
    if (i >= line.size()) break;
    std::size_t j = i;
    while (j < line.size() && line[j] != ' ' && line[j] != '\t' && line[j] != '\r') ++j;
    if (n < max_fields) out[n] = line.substr(i, j - i);
    ++n;
    i = j;
  }
  return n;
}

struct LineContext {
  const std::string& name;
  int line;
  [[noreturn]] void fail(std::string_view what) const {
    throw FileError(fmt::format("{}:{}: {}", name, line, what));
  }
};

double to_double(std::string_view s, const LineContext& ctx, int column, const char* what) {
  double v = 0.0;
  const char* first = s.data();
  if (!s.empty() && s[0] == '+') ++first;  // from_chars rejects a leading '+'
  auto [p, ec] = std::from_chars(first, s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size())
    ctx.fail(fmt::format("column {} ({}): '{}' is not a number", column, what, s));
  if (!std::isfinite(v))
    ctx.fail(fmt::format("column {} ({}): '{}' is not finite", column, what, s));
  return v;
}

int to_int(std::string_view s, const LineContext& ctx, int column, const char* what) {
  int v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size())
    ctx.fail(fmt::format("column {} ({}): '{}' is not an integer", column, what, s));
  return v;
}

}  // namespace

InfoEvec parse_info_evec_text(std::string_view text, const std::string& name) {
  static constexpr const char* kColumn[kAtomColumns] = {"Z",
                                                        "index",
                                                        "x",
                                                        "y",
                                                        "z",
                                                        "electrons",
                                                        "moment",
                                                        "evec_x",
                                                        "evec_y",
                                                        "evec_z",
                                                        "placeholder",
                                                        "constraint_x",
                                                        "constraint_y",
                                                        "constraint_z",
                                                        "spin shift",
                                                        "evec_out_x",
                                                        "evec_out_y",
                                                        "evec_out_z"};
  InfoEvec out;
  bool header = false;
  std::size_t pos = 0;
  int line_no = 0;
  std::string_view f[kAtomColumns];
  while (pos < text.size()) {
    std::size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    const std::string_view line = text.substr(pos, end - pos);
    pos = end + 1;
    ++line_no;
    const LineContext ctx{name, line_no};
    const int n = split_fields(line, f, kAtomColumns);
    if (n == 0) continue;  // blank lines (e.g. a trailing newline) carry nothing
    if (!header) {
      if (n != 3)
        ctx.fail(fmt::format(
            "expected 3 numbers (total, band and Fermi energy in Ry), found {} fields", n));
      out.total_energy = to_double(f[0], ctx, 1, "total energy");
      out.band_energy = to_double(f[1], ctx, 2, "band energy");
      out.fermi_energy = to_double(f[2], ctx, 3, "Fermi energy");
      header = true;
      continue;
    }
    if (n != kAtomColumns)
      ctx.fail(fmt::format(
          "expected {} columns per atom, found {} (truncated or not an info_evec file?)",
          kAtomColumns, n));
    InfoEvecAtom a;
    a.Z = to_int(f[0], ctx, 1, kColumn[0]);
    if (a.Z < 1 || a.Z > 118)
      ctx.fail(fmt::format("column 1 (Z): {} is not an atomic number", a.Z));
    a.index = to_int(f[1], ctx, 2, kColumn[1]);
    for (int k = 0; k < 3; ++k) a.position[k] = to_double(f[2 + k], ctx, 3 + k, kColumn[2 + k]);
    a.electrons = to_double(f[5], ctx, 6, kColumn[5]);
    a.moment = to_double(f[6], ctx, 7, kColumn[6]);
    for (int k = 0; k < 3; ++k) a.evec[k] = to_double(f[7 + k], ctx, 8 + k, kColumn[7 + k]);
    // The remaining columns are not used, but a non-number there still means a broken file.
    for (int k = 10; k < kAtomColumns; ++k) to_double(f[k], ctx, k + 1, kColumn[k]);
    out.atoms.push_back(a);
  }
  if (!header) throw FileError(fmt::format("{}: empty file (no energy line)", name));
  if (out.atoms.empty())
    throw FileError(fmt::format("{}: no atom lines after the energy line (truncated file?)", name));
  return out;
}

InfoEvec parse_info_evec(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw FileError(fmt::format("{}: cannot open", path.string()));
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) throw FileError(fmt::format("{}: read error", path.string()));
  return parse_info_evec_text(ss.str(), path.string());
}

std::string format_info_evec(const InfoEvec& info) {
  std::string s = fmt::format("{:.15f} {:.15f} {:.15f}\n", info.total_energy, info.band_energy,
                              info.fermi_energy);
  for (const auto& a : info.atoms)
    s += fmt::format(
        "{:3d} {:8d} {:22.15f} {:22.15f} {:22.15f} {:13.6f} {:13.6f} {:22.15f} {:22.15f} "
        "{:22.15f}   -1.00 {:22.15f} {:22.15f} {:22.15f}    0.0000 {:22.15f} {:22.15f} {:22.15f}\n",
        a.Z, a.index, a.position[0], a.position[1], a.position[2], a.electrons, a.moment, a.evec[0],
        a.evec[1], a.evec[2], 0.0, 0.0, 0.0, a.evec[0], a.evec[1], a.evec[2]);
  return s;
}

SiteMapper::SiteMapper(const System& system, std::string owner, double tolerance)
    : system_(system), owner_(std::move(owner)), tolerance_(tolerance) {}

SiteValues SiteMapper::map(const InfoEvec& info) {
  const int n = system_.num_sites();
  if (static_cast<int>(info.atoms.size()) != n)
    throw Error(fmt::format("{} atoms, but {}'s lattice ({}) has {} sites", info.atoms.size(),
                            owner_, system_.lattice.describe(), n));
  std::vector<Vec3> pos(n);
  for (int k = 0; k < n; ++k) pos[k] = info.atoms[k].position;
  if (last_sites_.empty() || pos != last_positions_) {
    last_sites_ = system_.lattice.match_positions(pos, tolerance_);
    last_positions_ = std::move(pos);
  }
  std::vector<std::uint8_t> occ(n);
  SiteValues v{{}, std::vector<double>(n), std::vector<double>(n)};
  for (int k = 0; k < n; ++k) {
    const InfoEvecAtom& a = info.atoms[k];
    const int s = system_.species_index(a.Z);
    if (s < 0) {
      std::string known;
      for (const auto& sp : system_.species) known += (known.empty() ? "" : ", ") + sp.symbol;
      throw Error(fmt::format("atom {} has Z = {}, which is not a species of {} ({})", k + 1, a.Z,
                              owner_, known));
    }
    const int site = last_sites_[k];
    occ[site] = static_cast<std::uint8_t>(s);
    v.charge[site] = a.electrons;
    v.moment[site] = a.moment;
  }
  v.config = Configuration(std::move(occ));
  return v;
}

}  // namespace lsmss::lsms
