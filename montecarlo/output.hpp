#pragma once
// Result files of a Monte Carlo run, the printed summary, and the gnuplot figure.
//   <prefix>_thermo.tsv   one row per temperature (tab-separated, header line, '#' comments)
//   <prefix>_dos.tsv      Wang-Landau only: ln g(E) per energy bin
//   <prefix>_results.json everything above in one JSON document, with a "units" object
//   <prefix>.gp           gnuplot script that draws <prefix>.png (or .svg)
#include <string>

#include "core/system.hpp"
#include "montecarlo/results.hpp"
#include "montecarlo/settings.hpp"

namespace lsmss::mc {

struct OutputFiles {
  std::string thermo, dos, json, script, plot;  // empty where not written
  std::string plot_message;                     // why there is no plot, if there is none
};

OutputFiles write_outputs(const McResult& result, const Settings& settings, const System& system);

// The JSON document of <prefix>_results.json (NaN written as null).
std::string results_json(const McResult& result, const System& system);

// Human-readable summary (the table printed at the end of `lsms-surrogate mc`).
std::string format_summary(const McResult& result, const System& system);

// Best terminal this gnuplot offers: "pngcairo", "png" or "svg" ("" without gnuplot).
std::string gnuplot_terminal();

}  // namespace lsmss::mc
