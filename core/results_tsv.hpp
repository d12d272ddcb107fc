#pragma once
// The tab-separated results file of `calc -o` (README, "The command line"): a comment line with
// the units, a header, then one row per configuration (index, digits, status, energy_Ry, charge_e
// and moment_muB as comma-separated per-site lists, iterations, wall_s; nan for a missing
// energy).
#include <ostream>
#include <vector>

#include "core/configuration.hpp"
#include "core/properties.hpp"

namespace lsmss {

void write_results_tsv(std::ostream& out, const std::vector<Configuration>& configs,
                       const std::vector<Properties>& results);

}  // namespace lsmss
