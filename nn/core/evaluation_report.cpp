#include "nn/core/evaluation_report.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "core/hdf5.hpp"
#include "core/output_file.hpp"

namespace lsmss::nn {
namespace {

// `field` of task `t` over the fold models of `s` (none when the file lacks the task).
std::vector<double> over_folds(const EvaluatedModel& s, Task t, double TaskError::*field) {
  std::vector<double> v;
  for (const auto& ev : s.folds)
    for (const auto& e : ev.tasks)
      if (e.task == t) v.push_back(e.*field);
  return v;
}

std::string file_name(const std::string& file) {
  return std::filesystem::path(file).filename().string();
}

// One scale of print_rmse_tables: a title, a header and a row per model file.
void print_rmse_table(std::ostream& out, const std::vector<EvaluatedModel>& models,
                      const char* title, double TaskError::*field) {
  out << fmt::format("\ntest RMSE, {}\n", title);
  const bool energy_only = field == &TaskError::rmse_mev_per_atom;
  out << fmt::format("{:<12} {:>6}", "model", "folds");
  for (Task t : kTasks)
    if (!energy_only || t == Task::energy) out << fmt::format(" {:>22}", task_name(t));
  out << "  file\n";
  for (const auto& s : models) {
    out << fmt::format("{:<12} {:>6}", s.label, s.folds.size());
    for (Task t : kTasks) {
      if (energy_only && t != Task::energy) continue;
      const auto v = over_folds(s, t, field);
      out << fmt::format(" {:>22}", v.empty() ? "" : mean_std_text(mean_and_std(v)));
    }
    // Several files of one kind (e.g. two runs of MTL E+C) stay distinguishable.
    out << fmt::format("  {}\n", file_name(s.file));
  }
}

// The JSON object of task `t` over the fold models of `s` (empty when the file lacks the task).
std::string task_json(const EvaluatedModel& s, Task t) {
  const auto rmse = over_folds(s, t, &TaskError::rmse);
  if (rmse.empty()) return "";
  const MeanStd r = mean_and_std(rmse);
  const MeanStd standardized = mean_and_std(over_folds(s, t, &TaskError::rmse_standardized));
  // JSON has no NaN (a spread of zero leaves the standardized RMSE undefined).
  auto number = [](double x) {
    return std::isnan(x) ? std::string("null") : fmt::format("{:.9e}", x);
  };
  std::string j = fmt::format(
      "\"{}\": {{\"folds\": {}, \"rmse_mean\": {:.9e}, \"rmse_std\": {:.9e}, \"unit\": \"{}\", "
      "\"rmse_standardized_mean\": {}, \"rmse_standardized_std\": {}",
      task_name(t), rmse.size(), r.mean, r.std, task_unit(t), number(standardized.mean),
      number(standardized.std));
  if (t == Task::energy) {
    const MeanStd mev = mean_and_std(over_folds(s, t, &TaskError::rmse_mev_per_atom));
    j += fmt::format(", \"rmse_mev_per_atom_mean\": {:.9e}, \"rmse_mev_per_atom_std\": {:.9e}",
                     mev.mean, mev.std);
  }
  return j + "}";
}

}  // namespace

MeanStd mean_and_std(const std::vector<double>& values) {
  const auto n = static_cast<double>(values.size());
  double m = 0, s = 0;
  for (double x : values) m += x / n;
  for (double x : values) s += (x - m) * (x - m);
  return {m, values.size() > 1 ? std::sqrt(s / (n - 1)) : 0.0};
}

std::string mean_std_text(const MeanStd& m) {
  return fmt::format("{:.3e} +- {:.2e}", m.mean, m.std);
}

std::string model_label(const Model& model) {
  std::vector<std::string> letters;
  for (Task t : kTasks)
    if (model.tasks() & task_bit(t))
      letters.push_back(fmt::format("{:c}", std::toupper(task_name(t)[0])));
  const std::string tasks = fmt::format("{}", fmt::join(letters, "+"));
  if (model.kind() == "cluster_expansion") return "CE " + tasks;
  const std::string mlp = fmt::format("{} {}", letters.size() > 1 ? "MTL" : "STL", tasks);
  return model.kind() == "mlp" ? mlp : "CE+" + mlp;
}

EvaluatedModel evaluate_models(const std::string& file, const std::string& label,
                               const std::vector<Model>& models, const dataset::Dataset& data,
                               const std::vector<std::size_t>& rows, bool parity,
                               const SymmetryOperations* average_over) {
  EvaluatedModel s{file, label, {}, std::nullopt};
  for (const auto& m : models)
    s.folds.push_back(evaluate_model(m, data, rows, parity, average_over));
  if (models.size() > 1) s.ensemble = evaluate_ensemble(models, data, rows, average_over);
  return s;
}

EvaluatedModel evaluate_file(const std::string& file, const dataset::Dataset& data,
                             const std::vector<std::size_t>& rows, const std::string& backend,
                             bool parity, const SymmetryOperations* average_over,
                             const NoteSink& note) {
  EvaluatedModel s{file, "", {}, std::nullopt};
  const std::size_t n = Model::count_in_file(file);
  const std::string fingerprint = data.fingerprint();
  std::vector<Model> models;
  for (std::size_t i = 0; i < n; ++i) {
    models.push_back(Model::load_member(file, i, backend));
    const Model& m = models.back();
    if (s.label.empty()) s.label = model_label(m);
    if (m.dataset_hash() != fingerprint && note)
      note(fmt::format("{} model {} was trained on other data (dataset hash {} vs {})", file, i,
                       m.dataset_hash(), fingerprint));
    // Scored as loaded, so a note comes before an error of a later model of the file.
    s.folds.push_back(evaluate_model(m, data, rows, parity, average_over));
  }
  if (models.size() > 1) s.ensemble = evaluate_ensemble(models, data, rows, average_over);
  if (average_over != nullptr) s.label += fmt::format(" sym{}", average_over->size());
  return s;
}

void print_rmse_tables(std::ostream& out, const std::vector<EvaluatedModel>& models) {
  print_rmse_table(out, models,
                   "standardized (RMSE / RMS spread of the test values within each composition)",
                   &TaskError::rmse_standardized);
  // ../shared/paper-notes.md gives the paper's Tables 2/3 in these units.
  print_rmse_table(out, models,
                   "physical units (energy Ry per cell, charge e, moment muB; the paper's tables)",
                   &TaskError::rmse);
  print_rmse_table(out, models, "energy in meV/atom", &TaskError::rmse_mev_per_atom);
}

void print_fold_scatter(std::ostream& out, const std::vector<EvaluatedModel>& models) {
  // Issue 15: energy in mRy/cell, the scale of the fold scatter on the paper's data.
  auto scaled = [](Task t, double rmse) { return rmse * (t == Task::energy ? 1000.0 : 1.0); };
  out << "\ntest RMSE over the fold models (energy mRy/cell, charge e, moment muB)\n";
  out << fmt::format("{:<12} {:<7} {:>6} {:>10} {:>10} {:>10} {:>8} {:>10}  file\n", "model",
                     "task", "folds", "min", "median", "max", "max/med", "ensemble");
  for (const auto& s : models)
    for (Task t : kTasks) {
      std::vector<double> v = over_folds(s, t, &TaskError::rmse);
      if (v.empty()) continue;
      for (double& x : v) x = scaled(t, x);
      std::sort(v.begin(), v.end());
      const std::size_t n = v.size();
      const double median = n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
      std::string ensemble = "-";
      if (s.ensemble)
        for (const auto& e : s.ensemble->tasks)
          if (e.task == t) ensemble = fmt::format("{:.4g}", scaled(t, e.rmse));
      out << fmt::format("{:<12} {:<7} {:>6} {:>10.4g} {:>10.4g} {:>10.4g} {:>8.2f} {:>10}  {}\n",
                         s.label, task_name(t), n, v.front(), median, v.back(),
                         median > 0 ? v.back() / median : 0.0, ensemble, file_name(s.file));
    }
}

void write_rmse_csv(const std::filesystem::path& csv, const std::vector<EvaluatedModel>& models) {
  auto f = open_output_file(csv);
  f << "# lsms-surrogate evaluate: test-set errors per fold model\n"
       "model_file,model,fold,task,count,rmse,unit,rmse_standardized,rmse_mev_per_atom,mae\n";
  for (const auto& s : models) {
    std::vector<const Evaluation*> rows;
    for (const auto& ev : s.folds) rows.push_back(&ev);
    if (s.ensemble) rows.push_back(&*s.ensemble);
    for (const Evaluation* ev : rows) {
      const std::string fold =
          s.ensemble && ev == &*s.ensemble ? std::string("ensemble") : std::to_string(ev->fold);
      for (const auto& e : ev->tasks)
        f << fmt::format(
            "{},{},{},{},{},{:.9e},{},{:.9e},{},{:.9e}\n", s.file, s.label, fold, task_name(e.task),
            e.count, e.rmse, task_unit(e.task), e.rmse_standardized,
            std::isnan(e.rmse_mev_per_atom) ? "" : fmt::format("{:.9e}", e.rmse_mev_per_atom),
            e.mae);
    }
  }
}

void write_rmse_json(const std::filesystem::path& json, const std::vector<EvaluatedModel>& models) {
  auto f = open_output_file(json);
  f << "{\n  \"models\": [\n";
  for (std::size_t i = 0; i < models.size(); ++i) {
    const auto& s = models[i];
    f << fmt::format("    {{\"file\": \"{}\", \"model\": \"{}\", \"tasks\": {{", s.file, s.label);
    bool first = true;
    for (Task t : kTasks) {
      const std::string task = task_json(s, t);
      if (task.empty()) continue;
      f << (first ? "\n      " : ",\n      ") << task;
      first = false;
    }
    f << fmt::format("}}}}{}\n", i + 1 < models.size() ? "," : "");
  }
  f << "  ]\n}\n";
}

void write_parity_csv(const std::filesystem::path& csv, const std::vector<EvaluatedModel>& models,
                      const dataset::Dataset& data) {
  auto f = open_output_file(csv);
  f << "# parity data: reference (dataset) vs predicted, physical units (energy Ry, charge e, "
       "moment muB)\n"
       "model,fold,task,row,composition,site,reference,predicted\n";
  for (const auto& s : models)
    for (const auto& ev : s.folds)
      for (std::size_t t = 0; t < ev.tasks.size(); ++t)
        for (const auto& p : ev.parity[t])
          f << fmt::format("{},{},{},{},{},{},{:.17g},{:.17g}\n", s.label, ev.fold,
                           task_name(ev.tasks[t].task), p.row, data.composition[p.row], p.site,
                           p.reference, p.predicted);
}

void report_evaluation(std::ostream& out, const std::vector<EvaluatedModel>& models,
                       const std::filesystem::path& csv, const std::filesystem::path& json) {
  print_rmse_tables(out, models);
  print_fold_scatter(out, models);
  write_rmse_csv(csv, models);
  write_rmse_json(json, models);
}

void record_test_errors(const std::filesystem::path& file, const EvaluatedModel& model) {
  auto f = h5::File::open(file, h5::Mode::read_write);
  for (std::size_t i = 0; i < model.folds.size(); ++i) {
    const Evaluation& ev = model.folds[i];
    h5::Handle g = h5::open_group(f, fmt::format("models/{}", i));
    std::vector<std::string> tasks;
    std::vector<double> rmse;
    for (const auto& e : ev.tasks) {
      tasks.emplace_back(task_name(e.task));
      rmse.push_back(e.rmse);
    }
    h5::write_attr(g, "test_tasks", tasks);
    h5::write_attr(g, "test_rmse", rmse);
    h5::write_attr(g, "test_rows",
                   static_cast<std::int64_t>(ev.tasks.empty() ? 0 : ev.tasks[0].count));
  }
}

std::optional<RecordedTestErrors> read_test_errors(const std::filesystem::path& file,
                                                   std::size_t member) {
  auto f = h5::File::open(file);
  h5::Handle g = h5::open_group(f, fmt::format("models/{}", member));
  if (!h5::has_attr(g, "test_rmse")) return std::nullopt;
  RecordedTestErrors r;
  for (const auto& name : h5::read_attr_strings(g, "test_tasks"))
    r.tasks.push_back(task_from_name(name));
  r.rmse = h5::read_attr_doubles(g, "test_rmse");
  r.rows = h5::read_attr_int(g, "test_rows");
  return r;
}

}  // namespace lsmss::nn
