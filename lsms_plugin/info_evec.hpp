#pragma once
// Parser of LSMS "info_evec" output files (written by LSMS at the end of a run, file name from
// the deck key infoEvecFileOut; also the per-configuration files of the published CuAu/FePt
// datasets). Format: line 1 = total energy, band energy, Fermi energy (Ry); then one
// 18-column line per atom (type): Z, index, x, y, z (Bohr), electrons in the site (e, incl.
// core), moment (muB), evec (3), placeholder (-1.00), constraint (3), spin shift, evec_out (3).
// Shared by the importer (dataset_builder) and the LSMS driver (drivers/lsms).
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

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

}  // namespace lsmss::lsms
