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

// Draws a run's figure from the gnuplot script write_outputs writes. The library only writes
// files; the program supplies the plotter that runs an external tool (app/plot.hpp).
class Plotter {
 public:
  virtual ~Plotter() = default;
  // gnuplot terminal the script should use: "pngcairo", "png" or "svg"; "" when it cannot draw.
  virtual std::string terminal() const = 0;
  // Why terminal() is empty (e.g. which package to install).
  virtual std::string unavailable() const = 0;
  // Runs the script; "" on success, else why there is no figure.
  virtual std::string draw(const std::string& script) const = 0;
};

// Writes the result files; draws the figure when settings.plot and the plotter can (nullptr:
// no figure, and plot_message says so).
OutputFiles write_outputs(const McResult& result, const Settings& settings, const System& system,
                          const Plotter* plotter);

// The JSON document of <prefix>_results.json (NaN written as null).
std::string results_json(const McResult& result, const System& system);

// Human-readable summary (the table printed at the end of `lsms-surrogate mc`).
std::string format_summary(const McResult& result, const System& system);

}  // namespace lsmss::mc
