#include "study/page.hpp"

#include <cctype>
#include <cmath>
#include <fstream>
#include <map>
#include <set>

#include <fmt/format.h>

#include "core/output_file.hpp"
#include "nn/core/evaluation_report.hpp"
#include "nn/core/network.hpp"

namespace lsmss::study {
namespace {

double value_or_nan(const Measurements& m, const std::string& key) {
  const auto it = m.find(key);
  return it == m.end() ? std::nan("") : it->second;
}

std::string seconds_text(double s) {
  return std::isnan(s) ? "not measured" : fmt::format("{:.3g}", s);
}

std::string html_escape(const std::string& s) {
  std::string r;
  for (char c : s) {
    if (c == '<')
      r += "&lt;";
    else if (c == '>')
      r += "&gt;";
    else if (c == '&')
      r += "&amp;";
    else if (c == '"')
      r += "&quot;";
    else
      r += c;
  }
  return r;
}

const TableRow* find_row(const std::vector<TableRow>& t, const std::string& model,
                         const std::string& task) {
  for (const auto& r : t)
    if (r.model == model && r.task == task) return &r;
  return nullptr;
}

std::vector<std::string> models_in(const std::vector<TableRow>& t) {
  std::vector<std::string> m;
  for (const auto& r : t)
    if (m.empty() || m.back() != r.model) m.push_back(r.model);
  return m;
}

// The RMSE table as rows of cells: header first; `mev` adds the energy column in meV/atom.
std::vector<std::vector<std::string>> rmse_cells(const std::vector<TableRow>& t) {
  std::vector<std::vector<std::string>> rows = {{"model", "folds", "energy (Ry per cell)",
                                                 "energy (meV/atom)", "charge (e)",
                                                 "moment (muB)"}};
  for (const auto& m : models_in(t)) {
    std::vector<std::string> r = {m, ""};
    for (nn::Task task : nn::kTasks) {
      const TableRow* row = find_row(t, m, nn::task_name(task));
      if (row) r[1] = std::to_string(row->folds);
      r.push_back(row ? mean_pm_std(row->mean, row->std) : "");
      if (task == nn::Task::energy)
        r.push_back(row ? mean_pm_std(row->mev_mean, row->mev_std) : "");
    }
    rows.push_back(std::move(r));
  }
  return rows;
}

std::vector<std::vector<std::string>> cost_cells(const std::vector<CostRow>& cost) {
  std::vector<std::vector<std::string>> rows = {{"what", "seconds", "how it was measured"}};
  for (const auto& c : cost) rows.push_back({c.what, seconds_text(c.seconds), c.note});
  return rows;
}

std::string markdown_table(const std::vector<std::vector<std::string>>& rows) {
  std::string s;
  for (std::size_t i = 0; i < rows.size(); ++i) {
    s += "|";
    for (const auto& c : rows[i]) s += " " + c + " |";
    s += "\n";
    if (i == 0) {
      s += "|";
      for (std::size_t k = 0; k < rows[0].size(); ++k) s += " --- |";
      s += "\n";
    }
  }
  return s;
}

std::string html_table(const std::vector<std::vector<std::string>>& rows) {
  std::string s = "<table>\n";
  for (std::size_t i = 0; i < rows.size(); ++i) {
    s += "<tr>";
    for (const auto& c : rows[i]) {
      // Numbers align right, words left.
      const bool words = !c.empty() && !std::isdigit(static_cast<unsigned char>(c[0]));
      s += fmt::format("<{0}{2}>{1}</{0}>", i == 0 ? "th" : "td", html_escape(c),
                       i > 0 && words ? " class=\"text\"" : "");
    }
    s += "</tr>\n";
  }
  return s + "</table>\n";
}

void write_table_csv(const std::filesystem::path& report, const std::vector<TableRow>& t) {
  auto f = open_output_file(report / "table_rmse.csv");
  f << "# test RMSE over the fold models (mean and sample std); the paper's Tables 2/3\n"
       "model,task,folds,rmse_mean,rmse_std,unit,rmse_mev_per_atom_mean,rmse_mev_per_atom_std\n";
  for (const auto& r : t)
    f << fmt::format("{},{},{},{:.6e},{:.6e},{},{},{}\n", r.model, r.task, r.folds, r.mean, r.std,
                     r.unit, std::isnan(r.mev_mean) ? "" : fmt::format("{:.6e}", r.mev_mean),
                     std::isnan(r.mev_std) ? "" : fmt::format("{:.6e}", r.mev_std));
}

void write_cost_csv(const std::filesystem::path& report, const std::vector<CostRow>& cost) {
  auto f = open_output_file(report / "cost.csv");
  f << "# the paper's Table 1 from this run's measurements (wall-clock seconds)\n"
       "what,seconds,note\n";
  for (const auto& c : cost)
    f << fmt::format("\"{}\",{},\"{}\"\n", c.what,
                     std::isnan(c.seconds) ? "" : fmt::format("{:.6e}", c.seconds), c.note);
}

}  // namespace

std::string mean_pm_std(double mean, double std) {
  if (std::isnan(mean)) return "";
  return nn::mean_std_text({mean, std});
}

std::vector<TableRow> summarize(const std::vector<FoldError>& errors,
                                const std::vector<std::string>& order) {
  std::vector<TableRow> table;
  for (const auto& model : order)
    for (nn::Task t : nn::kTasks) {
      const std::string task = nn::task_name(t);
      std::vector<double> v, mev;
      TableRow row;
      for (const auto& e : errors)
        if (e.model == model && e.task == task) {
          v.push_back(e.rmse);
          mev.push_back(e.rmse_mev_per_atom);
          row.unit = e.unit;
        }
      if (v.empty()) continue;
      row.model = model;
      row.task = task;
      row.folds = v.size();
      const nn::MeanStd rmse = nn::mean_and_std(v);
      const nn::MeanStd mev_per_atom = nn::mean_and_std(mev);  // NaN for charge and moment
      row.mean = rmse.mean;
      row.std = rmse.std;
      row.mev_mean = mev_per_atom.mean;
      row.mev_std = mev_per_atom.std;
      table.push_back(row);
    }
  return table;
}

std::vector<CostRow> cost_table(const Measurements& dataset,
                                const std::vector<Measurements>& training,
                                const Measurements& evaluate) {
  const double calc = value_or_nan(dataset, "driver_seconds_per_calculation");
  const double rows = value_or_nan(dataset, "rows");
  double train = 0, cpu = 0;
  for (const auto& t : training)
    train += value_or_nan(t, "seconds"), cpu += value_or_nan(t, "cpu_seconds");
  const double per_model = training.empty() ? std::nan("") : train / training.size();
  const double predict = value_or_nan(evaluate, "predict_seconds_single");
  const double n = 1e6;
  std::vector<CostRow> c;
  c.push_back({"one driver calculation", calc,
               std::isnan(calc) ? "imported data: the dataset holds no calculation times"
                                : fmt::format("mean wall time of the dataset's {:.0f} calculations",
                                              value_or_nan(dataset, "timed_calculations"))});
  c.push_back({fmt::format("dataset ({:.0f} configurations)", rows), calc * rows,
               "configurations x one calculation (one process)"});
  c.push_back(
      {"training one model (all its folds)", per_model,
       fmt::format("mean over the study's {} models; CPU time of this process {:.3g} s in all",
                   training.size(), cpu)});
  c.push_back({"one surrogate prediction", predict,
               fmt::format("one configuration per call, one fold model, {:.0f} calls; batched: "
                           "{:.3g} s per configuration",
                           value_or_nan(evaluate, "predict_configurations"),
                           value_or_nan(evaluate, "predict_seconds_batched"))});
  c.push_back({"1e6 driver calculations", n * calc, "projected: 1e6 x one driver calculation"});
  if (std::isnan(calc))  // an imported dataset: its cost is not known here
    c.push_back({"training + 1e6 predictions", per_model + n * predict,
                 "projected: the surrogate route without the dataset's cost (not measured)"});
  else
    c.push_back({"dataset + training + 1e6 predictions", calc * rows + per_model + n * predict,
                 "projected: the surrogate route"});
  return c;
}

std::vector<std::string> mtl_vs_stl(const std::vector<TableRow>& table,
                                    const std::set<std::string>& networks) {
  std::map<std::string, std::set<std::string>> tasks;  // of the networks only: others have none
  for (const auto& r : table)
    if (networks.count(r.model)) tasks[r.model].insert(r.task);
  const TableRow* stl = nullptr;
  for (const auto& r : table)
    if (r.task == "energy" && tasks[r.model].size() == 1 && !stl) stl = &r;
  std::vector<std::string> lines;
  if (!stl) return lines;
  for (const auto& r : table) {
    if (r.task != "energy" || tasks[r.model].size() < 2) continue;
    lines.push_back(fmt::format(
        "{} vs {}: energy RMSE {:.3e} vs {:.3e} Ry ({:.2f}x), spread over folds (std) {:.2e} vs "
        "{:.2e} Ry ({:.2f}x): MTL has the {} mean error and the {} spread",
        r.model, stl->model, r.mean, stl->mean, r.mean / stl->mean, r.std, stl->std,
        stl->std > 0 ? r.std / stl->std : std::nan(""), r.mean < stl->mean ? "lower" : "higher",
        r.std < stl->std ? "smaller" : "larger"));
  }
  return lines;
}

void write_pages(const std::filesystem::path& report, const PageInputs& in) {
  write_table_csv(report, in.table);
  write_cost_csv(report, in.cost);
  const auto rmse = rmse_cells(in.table);
  const auto cost = cost_cells(in.cost);
  {
    auto md = open_output_file(report / "report.md");
    md << "# Study: " << in.title << "\n\n" << in.data_source << "\n\n";
    for (const auto& f : in.facts) md << "- " << f << "\n";
    md << "\n## Test RMSE (mean +- std over the fold models; table_rmse.csv, rmse_folds.csv)\n\n"
       << markdown_table(rmse);
    if (!in.comparison.empty()) {
      md << "\n## MTL against STL (energy)\n\n";
      for (const auto& l : in.comparison) md << "- " << l << "\n";
    }
    md << "\n## Cost (cost.csv)\n\n" << markdown_table(cost) << "\n## Figures\n\n";
    for (const auto& f : in.figures) {
      if (f.drawn)
        md << fmt::format(
            "### {}\n\n![{}]({})\n\n[SVG]({}.svg), data [{}]({}), script "
            "[{}.gp]({}.gp)\n\n",
            f.title, f.title, f.image, f.name, f.data, f.data, f.name, f.name);
      else
        md << fmt::format("### {}\n\nnot drawn: {} (data: [{}]({}))\n\n", f.title, f.message,
                          f.data, f.data);
    }
  }
  auto html = open_output_file(report / "index.html");
  html << "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>Study: "
       << html_escape(in.title)
       << "</title>\n<style>body{font-family:sans-serif;max-width:1200px;margin:1em auto;padding:0 "
          "1em}table{border-collapse:collapse;margin:0.5em 0}td,th{border:1px solid "
          "#999;padding:2px 8px;text-align:right}td:first-child,th:first-child{text-align:left}"
          "td.text{text-align:left}img{max-width:100%;border:1px solid "
          "#ddd}</style>\n</head>\n<body>\n<h1>Study: "
       << html_escape(in.title) << "</h1>\n<p>" << html_escape(in.data_source) << "</p>\n<ul>\n";
  for (const auto& f : in.facts) html << "<li>" << html_escape(f) << "</li>\n";
  html << "</ul>\n<h2>Test RMSE (mean &plusmn; std over the fold models)</h2>\n"
       << html_table(rmse)
       << "<p>Data: <a href=\"table_rmse.csv\">table_rmse.csv</a>, per fold model: <a "
          "href=\"rmse_folds.csv\">rmse_folds.csv</a></p>\n";
  if (!in.comparison.empty()) {
    html << "<h2>MTL against STL (energy)</h2>\n<ul>\n";
    for (const auto& l : in.comparison) html << "<li>" << html_escape(l) << "</li>\n";
    html << "</ul>\n";
  }
  html << "<h2>Cost</h2>\n"
       << html_table(cost) << "<p>Data: <a href=\"cost.csv\">cost.csv</a></p>\n"
       << "<h2>Figures</h2>\n";
  for (const auto& f : in.figures) {
    html << "<h3>" << html_escape(f.title) << "</h3>\n";
    if (f.drawn)
      html << fmt::format(
          "<p><img src=\"{3}\" alt=\"{1}\"></p>\n<p><a href=\"{0}.svg\">SVG</a>, "
          "data <a href=\"{2}\">{2}</a>, script <a href=\"{0}.gp\">{0}.gp</a></p>\n",
          f.name, html_escape(f.title), f.data, f.image);
    else
      html << fmt::format("<p>not drawn: {} (data <a href=\"{}\">{}</a>)</p>\n",
                          html_escape(f.message), f.data, f.data);
  }
  html << "</body>\n</html>\n";
}

}  // namespace lsmss::study
