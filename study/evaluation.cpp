#include "study/evaluation.hpp"

#include <chrono>
#include <cmath>
#include <ctime>
#include <fstream>
#include <map>
#include <sstream>

#include <fmt/format.h>

#include "core/error.hpp"
#include "core/output_file.hpp"
#include "core/progress.hpp"
#include "nn/core/network.hpp"
#include "nn/core/trainer.hpp"
#include "nn/model.hpp"

namespace lsmss::study {
namespace {

std::ofstream open_csv(const std::filesystem::path& path, const std::string& header) {
  auto f = open_output_file(path);
  f << header;
  return f;
}

// Sums of squared errors per (model, task, composition) over every fold model.
struct CompositionErrors {
  std::map<std::tuple<std::size_t, std::string, int>, std::pair<double, std::size_t>> sums;
  void add(std::size_t model, const std::string& task, int comp, double err) {
    auto& s = sums[{model, task, comp}];
    s.first += err * err;
    ++s.second;
  }
};

double cpu_seconds() {
  return static_cast<double>(std::clock()) / CLOCKS_PER_SEC;
}

// Wall and CPU seconds per configuration of `model`: one call per configuration (as a driver
// or Monte Carlo asks), and one batch of all of them.
Measurements time_predictions(const nn::Model& model, const dataset::Dataset& data, long count) {
  std::vector<Configuration> configs;
  for (long i = 0; i < count; ++i) configs.push_back(data.configuration(i % data.rows()));
  nn::ModelWorkspace ws(model);
  ws.predict(std::span(configs.data(), 1));  // first call sets the backend up: not timed
  const auto t0 = std::chrono::steady_clock::now();
  const double c0 = cpu_seconds();
  for (const auto& c : configs) ws.predict(std::span(&c, 1));
  const double c1 = cpu_seconds();
  const auto t1 = std::chrono::steady_clock::now();
  ws.predict(configs);
  const auto t2 = std::chrono::steady_clock::now();
  const double n = static_cast<double>(count);
  return {{"predict_seconds_single", std::chrono::duration<double>(t1 - t0).count() / n},
          {"predict_cpu_seconds_single", (c1 - c0) / n},
          {"predict_seconds_batched", std::chrono::duration<double>(t2 - t1).count() / n},
          {"predict_configurations", n}};
}

void write_learning_curve(std::ofstream& f, const std::string& name, const nn::Model& m) {
  const nn::LearningCurve& c = m.learning_curve();
  const std::size_t samples = c.epoch.size();
  if (samples == 0) return;
  const std::size_t tasks = c.train.size() / samples;
  for (std::size_t s = 0; s < samples; ++s) {
    double tr = 0, va = 0;
    for (std::size_t t = 0; t < tasks; ++t) {
      tr += c.train[s * tasks + t];
      va += c.validation.size() == c.train.size() ? c.validation[s * tasks + t] : std::nan("");
    }
    f << fmt::format("{},{},{},{:.6e},{:.6e}\n", name, m.fold(), c.epoch[s], tr, va);
  }
  f << "\n";  // a blank line ends the fold's curve (gnuplot draws no line across it)
}

// Least-squares line E = a + b n through the test rows' energies against the composition n:
// the part of a total energy that is linear in composition (for LSMS energies, 1e5-1e6 Ry,
// against the mRy-scale mixing energies a parity plot must show).
std::pair<double, double> linear_in_composition(const dataset::Dataset& data,
                                                const std::vector<std::size_t>& rows) {
  if (data.energy.size() != data.rows()) return {0.0, 0.0};
  double sn = 0, se = 0, snn = 0, sne = 0;
  for (auto r : rows) {
    const double n = data.composition[r], e = data.energy[r];
    sn += n, se += e, snn += n * n, sne += n * e;
  }
  const double k = static_cast<double>(rows.size());
  const double det = k * snn - sn * sn;
  if (det == 0) return {se / k, 0.0};
  return {(snn * se - sn * sne) / det, (k * sne - sn * se) / det};
}

}  // namespace

Measurements evaluate_models(const std::vector<TrainedModel>& models, const dataset::Dataset& data,
                             const std::filesystem::path& report, const EvaluateOptions& options) {
  const std::vector<std::size_t> test = data.test_rows();
  if (test.empty()) throw Error("the dataset has no test rows (fold = -1): nothing to evaluate");
  std::size_t members = 0;
  for (const auto& m : models) members += nn::Model::count_in_file(m.file);
  Progress bar("evaluate", static_cast<long>(members), "models", options.progress);

  auto rmse = open_csv(report / "rmse_folds.csv",
                       "# test RMSE per fold model; energy Ry per cell (and meV/atom), charge e, "
                       "moment muB\nmodel,fold,task,count,rmse,unit,rmse_mev_per_atom\n");
  auto curves = open_csv(report / "learning_curves.csv",
                         "# loss = sum over the model's tasks of the standardized MSE\n"
                         "model,fold,epoch,train_loss,validation_loss\n");
  std::map<std::string, std::ofstream> parity;
  const auto [e0, e1] = linear_in_composition(data, test);
  CompositionErrors comp;
  Measurements timing;
  for (std::size_t k = 0; k < models.size(); ++k) {
    const auto& tm = models[k];
    const std::size_t n = nn::Model::count_in_file(tm.file);
    for (std::size_t i = 0; i < n; ++i) {
      const nn::Model m = nn::Model::load_member(tm.file, i);
      const nn::Evaluation ev = nn::evaluate_model(m, data, test, true);
      const bool plotted = static_cast<long>(i) == std::min<long>(options.parity_fold, n - 1);
      for (std::size_t t = 0; t < ev.tasks.size(); ++t) {
        const auto& e = ev.tasks[t];
        const std::string task = nn::task_name(e.task);
        rmse << fmt::format(
            "{},{},{},{},{:.9e},{},{}\n", tm.name, ev.fold, task, e.count, e.rmse,
            nn::task_unit(e.task),
            e.task == nn::Task::energy ? fmt::format("{:.9e}", e.rmse_mev_per_atom) : "");
        auto it = parity.find(task);
        if (it == parity.end())
          it = parity
                   .emplace(task,
                            open_csv(report / ("parity_" + task + ".csv"),
                                     fmt::format("# test set: reference (dataset) vs "
                                                 "predicted {}, {}; the _shown columns: energy "
                                                 "minus a line in composition fitted to the "
                                                 "test energies (E = {:.10g} + {:.10g} n), "
                                                 "other tasks unchanged\nmodel_index,model,"
                                                 "fold,row,composition,site,reference,"
                                                 "predicted,reference_shown,predicted_shown\n",
                                                 task, nn::task_unit(e.task), e0, e1)))
                   .first;
        for (const auto& p : ev.parity[t]) {
          const int n = data.composition[p.row];
          comp.add(k, task, n, p.predicted - p.reference);
          // Shown: the energy less its line in composition, the charge less the site's Z (the
          // charge transfer, not the atomic number's clusters), the moment as it is.
          double line = 0.0;
          if (e.task == nn::Task::energy) line = e0 + e1 * n;
          if (e.task == nn::Task::charge)
            line = data.system.species[data.occupation[p.row * data.num_sites + p.site]].Z;
          if (plotted)
            it->second << fmt::format("{},{},{},{},{},{},{:.12g},{:.12g},{:.9g},{:.9g}\n", k,
                                      tm.name, ev.fold, p.row, n, p.site, p.reference, p.predicted,
                                      p.reference - line, p.predicted - line);
        }
      }
      write_learning_curve(curves, tm.name, m);
      if (timing.empty()) timing = time_predictions(m, data, options.cost_predictions);
      bar.advance(1, tm.name);
    }
  }
  auto per_comp = open_csv(report / "rmse_composition.csv",
                           "# test RMSE per composition (atoms of the first species), every fold "
                           "model; energy Ry per cell, charge e, moment muB\n"
                           "model_index,model,task,composition,count,rmse\n");
  for (const auto& [key, s] : comp.sums) {
    const auto& [k, task, c] = key;
    per_comp << fmt::format("{},{},{},{},{},{:.9e}\n", k, models[k].name, task, c, s.second,
                            std::sqrt(s.first / s.second));
  }
  bar.finish();
  return timing;
}

std::vector<FoldError> read_fold_errors(const std::filesystem::path& csv) {
  std::ifstream in(csv);
  if (!in) throw FileError(fmt::format("cannot read '{}'", csv.string()));
  std::vector<FoldError> rows;
  std::string line;
  int lineno = 0;
  while (std::getline(in, line)) {
    ++lineno;
    if (line.empty() || line[0] == '#' || line.rfind("model,", 0) == 0) continue;
    std::vector<std::string> f;
    std::stringstream ss(line);
    std::string item;
    while (std::getline(ss, item, ',')) f.push_back(item);
    if (line.back() == ',') f.emplace_back();
    if (f.size() != 7)
      throw FileError(
          fmt::format("{}:{}: expected 7 columns, found {}", csv.string(), lineno, f.size()));
    try {
      rows.push_back({f[0], f[2], f[5], std::stoi(f[1]), std::stod(f[4]),
                      f[6].empty() ? std::nan("") : std::stod(f[6])});
    } catch (const std::exception&) {
      throw FileError(
          fmt::format("{}:{}: not a number where one is expected", csv.string(), lineno));
    }
  }
  return rows;
}

}  // namespace lsmss::study
