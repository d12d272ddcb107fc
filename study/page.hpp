#pragma once
// The study's tables and pages: table_rmse.csv (the paper's Tables 2/3: test RMSE mean and
// std over the fold models), cost.csv (the paper's Table 1 from this run's measurements),
// report.md and index.html (tables, figures, links to every CSV).
#include <filesystem>
#include <set>
#include <string>
#include <vector>

#include "study/evaluation.hpp"
#include "study/plots.hpp"
#include "study/stages.hpp"

namespace lsmss::study {

struct TableRow {
  std::string model, task, unit;
  std::size_t folds = 0;
  double mean = 0, std = 0;          // physical units
  double mev_mean = 0, mev_std = 0;  // energy only (NaN otherwise)
};
// Mean and sample std over the fold models, per model (in `order`) and task.
std::vector<TableRow> summarize(const std::vector<FoldError>& errors,
                                const std::vector<std::string>& order);

struct CostRow {
  std::string what;
  double seconds = 0;  // NaN: not measured
  std::string note;
};
// The cost table from the stages' measurements (dataset, train:<model>, evaluate).
std::vector<CostRow> cost_table(const Measurements& dataset,
                                const std::vector<Measurements>& training,
                                const Measurements& evaluate);

// "MTL E+C lowers the energy RMSE ..." lines: every MTL model with energy against the STL
// energy model, from the measured table (empty without both).
// Only the paper's networks (`networks`: model names of kind mlp) take part: a cluster expansion
// fitting several tasks is not an MTL network.
std::vector<std::string> mtl_vs_stl(const std::vector<TableRow>& table,
                                    const std::set<std::string>& networks);

struct PageInputs {
  std::string title;               // e.g. "CuAu on fcc 2x2x2 (32 sites)"
  std::string data_source;         // how the dataset was made
  std::vector<std::string> facts;  // dataset size, folds, ... (one line each)
  std::vector<TableRow> table;
  std::vector<CostRow> cost;
  std::vector<Figure> figures;
  std::vector<std::string> comparison;  // mtl_vs_stl
};

// Writes table_rmse.csv, cost.csv, report.md and index.html into `report`.
void write_pages(const std::filesystem::path& report, const PageInputs& in);

// "1.23e-03 +- 4.5e-04" (empty for NaN).
std::string mean_pm_std(double mean, double std);

}  // namespace lsmss::study
