#pragma once
// LSMS k.out: one line per SCF iteration, opened in append mode by LSMS (delete it before a
// fresh run). Columns differ between executables, so lines are split on whitespace:
//   lsms:     iteration, total energy (Ry), Fermi energy (Ry), moment of the first atom (muB),
//             charge rms                                       (src/Main/lsms.cpp)
//   lsms_asa: iteration, total energy (Ry), Fermi energy (Ry), charge rms, potential rms
//             [, average moment when nspin = 2]                (src/Main/lsms_asa.cpp)
// The charge rms (lsms: column 5, lsms_asa: column 4) is the maximum over atoms of the charge
// density rms (spin-averaged when nspin = 2): the quantity LSMS judges convergence on.
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace lsmss::lsms {

struct KoutRow {
  int iteration = 0;
  double total_energy = 0.0;  // Ry
  double fermi_energy = 0.0;  // Ry
  std::vector<double> extra;  // columns 4.. as written
  // The charge rms of executable `kind` ("lsms" or "lsms_asa"); NaN when the column is missing.
  double charge_rms(const std::string& kind) const;
};

std::vector<KoutRow> parse_kout_text(std::string_view text, const std::string& name);
std::vector<KoutRow> parse_kout(const std::filesystem::path& path);

// The line LSMS prints (stdout, rank 0) when the charge rms fell below rmsTolerance; the
// driver's decks leave writeSteps at LSMS's default (30000), so no periodic write prints it.
inline constexpr std::string_view kConvergedPotentialsLine =
    "Writing new potentials and restart file.";

// LSMS's own criterion, the same in lsms and lsms_asa: the SCF loop stops after iteration n when
//   charge rms_n < rmsTolerance  and  |(E_n - E_{n-1}) / E_n| < energyTolerance
// (the energy test is skipped when energyTolerance <= 0; E_{-1} is the starting energy, which
// k.out does not hold, so a single iteration counts as energy-converged only when LSMS stopped
// by itself before nscf). A run is converged when the last k.out row meets both tests and LSMS
// printed kConvergedPotentialsLine (`declared`). Everything else is not converged, with a reason.
struct Convergence {
  bool converged = false;
  int iterations = 0;
  double rms = 0.0;            // charge rms of the last iteration
  double energy_change = 0.0;  // |(E_n - E_{n-1}) / E_n| of the last iteration (0 for one row)
  std::string reason;          // why not converged
};
struct ConvergenceCriteria {
  std::string kind = "lsms_asa";   // "lsms" or "lsms_asa": which column is the charge rms
  double rms_tolerance = 1e-6;     // the deck's rmsTolerance
  double energy_tolerance = 1e-8;  // the deck's energyTolerance (relative)
  int nscf = 40;                   // the deck's nscf
};
Convergence judge_convergence(const std::vector<KoutRow>& rows, const ConvergenceCriteria& criteria,
                              bool declared);

}  // namespace lsmss::lsms
