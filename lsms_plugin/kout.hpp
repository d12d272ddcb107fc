#pragma once
// LSMS k.out: one line per SCF iteration, opened in append mode by LSMS (delete it before a
// fresh run). Columns differ between executables, so lines are split on whitespace:
//   lsms:     iteration, total energy (Ry), Fermi energy (Ry), moment of first atom, rms
//   lsms_asa: iteration, total energy (Ry), Fermi energy (Ry), charge rms, potential rms
//             [, average moment when nspin = 2]
// In both, column 5 (index 4) is the rms that convergence is judged on.
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
  double rms() const { return extra.size() >= 2 ? extra[1] : (extra.empty() ? 0.0 : extra[0]); }
};

std::vector<KoutRow> parse_kout_text(std::string_view text, const std::string& name);
std::vector<KoutRow> parse_kout(const std::filesystem::path& path);

// LSMS prints no "converged" line: a run converged when its last rms is at or below the
// deck's tolerance. Reaching nscf iterations with a larger rms means not converged.
struct Convergence {
  bool converged = false;
  int iterations = 0;
  double rms = 0.0;
  std::string reason;  // why not converged
};
Convergence judge_convergence(const std::vector<KoutRow>& rows, double rms_tolerance, int nscf);

}  // namespace lsmss::lsms
