#pragma once
// The study's figures: gnuplot scripts written beside the CSV files they read, each drawing a
// PNG and an SVG. The library writes the scripts; the program's mc::Plotter runs gnuplot
// (libraries do not run programs).
#include <filesystem>
#include <string>
#include <vector>

#include "montecarlo/output.hpp"

namespace lsmss::study {

struct Figure {
  std::string name;     // file stem in the report folder: <name>.gp/.png/.svg
  std::string title;    // caption
  std::string data;     // the CSV/TSV file it plots (relative to the report folder)
  bool drawn = false;   // the SVG (and the PNG where the plotter has a PNG terminal) exist
  std::string image;    // what a page shows: <name>.png, else <name>.svg
  std::string message;  // why not, when not drawn
};

// What the figures need to know besides the CSV files: the model names (in study order, their
// index is the model_index column), which tasks each model predicts, the number of sites (for
// meV/atom) and whether a Monte Carlo thermo file exists.
struct FigureInputs {
  std::vector<std::string> models;
  std::vector<std::vector<std::string>> tasks;  // per model: "energy", "charge", "moment"
  std::string mc_thermo;                        // relative path of the thermo TSV ("" = none)
};

// Writes every figure's script and draws it with `plotter` (nullptr: scripts only).
std::vector<Figure> draw_figures(const std::filesystem::path& report, const FigureInputs& in,
                                 const mc::Plotter* plotter, bool progress);

}  // namespace lsmss::study
