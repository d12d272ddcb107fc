#include "core/results_tsv.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

namespace lsmss {

void write_results_tsv(std::ostream& out, const std::vector<Configuration>& configs,
                       const std::vector<Properties>& results) {
  out << "# lsms-surrogate calc: energy in Ry, charge in e (electrons on the site), moment "
         "in muB\n"
         "index\tconfiguration\tstatus\tenergy_Ry\tcharge_e\tmoment_muB\titerations\twall_"
         "s\n";
  for (std::size_t k = 0; k < configs.size(); ++k) {
    const Properties& p = results.at(k);
    out << k << '\t' << configs[k].to_string() << '\t' << status_name(p.status) << '\t'
        << (p.energy ? fmt::format("{:.10f}", *p.energy) : "nan") << '\t'
        << fmt::format("{:.6f}", fmt::join(p.charge, ",")) << '\t'
        << fmt::format("{:.6f}", fmt::join(p.moment, ",")) << '\t' << p.iterations << '\t'
        << p.wall_time << '\n';
  }
}

}  // namespace lsmss
