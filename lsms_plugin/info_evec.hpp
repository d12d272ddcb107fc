#pragma once
// Parser of LSMS "info_evec" output files (written by LSMS at the end of a run, file name from
// the deck key infoEvecFileOut; also the per-configuration files of the published CuAu/FePt
// datasets). Format: line 1 = total energy, band energy, Fermi energy (Ry); then one
// 18-column line per atom (type): Z, index, x, y, z (Bohr), electrons in the site (e, incl.
// core), moment (muB), evec (3), placeholder (-1.00), constraint (3), spin shift, evec_out (3).
// Shared by the importer (dataset_builder), the LSMS driver (drivers/lsms) and `predict`.
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "core/configuration.hpp"
#include "core/system.hpp"
#include "core/vec3.hpp"

namespace lsmss::lsms {

struct InfoEvecAtom {
  int Z = 0;
  int index = 0;
  Vec3 position{};         // Bohr
  double electrons = 0.0;  // e, including core
  double moment = 0.0;     // muB
  Vec3 evec{};             // spin direction
};

struct InfoEvec {
  double total_energy = 0.0;  // Ry
  double band_energy = 0.0;   // Ry
  double fermi_energy = 0.0;  // Ry
  std::vector<InfoEvecAtom> atoms;
};

// Throws lsmss::FileError naming the file and line for anything malformed (missing columns,
// non-numeric fields, non-finite numbers, truncated file, no atoms).
InfoEvec parse_info_evec(const std::filesystem::path& path);
InfoEvec parse_info_evec_text(std::string_view text, const std::string& name);

// Writes `info` in the same format (full precision), e.g. for fixtures and round-trip tests;
// the constraint columns are written as zeros and evec_out repeats evec.
std::string format_info_evec(const InfoEvec& info);

// An info_evec run on a system's lattice, in the lattice's site order.
struct SiteValues {
  Configuration config;        // species index per site
  std::vector<double> charge;  // e per site, including core
  std::vector<double> moment;  // muB per site
};

// The one mapping of info_evec atoms onto a system: each atom goes to the lattice site at its
// position (Lattice::match_positions, within `tolerance` Bohr), its species is the system's
// species of its Z. The files of one dataset nearly always list the same positions, so the last
// match is reused (one mapper per thread).
class SiteMapper {
 public:
  // `owner` names the system in messages: "the deck", "the model".
  SiteMapper(const System& system, std::string owner, double tolerance = 1e-3);
  // Throws lsmss::Error naming the atom (1-based, file order) when the atom count differs from
  // the lattice's sites, a position matches no site, or a Z is not a species of the system.
  SiteValues map(const InfoEvec& info);

 private:
  const System& system_;
  std::string owner_;
  double tolerance_;
  std::vector<Vec3> last_positions_;
  std::vector<int> last_sites_;
};

}  // namespace lsmss::lsms
