#include "study/plots.hpp"

#include <algorithm>
#include <fstream>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "core/output_file.hpp"
#include "core/progress.hpp"
#include "nn/core/network.hpp"

namespace lsmss::study {
namespace {

const std::vector<std::string> kTasks = {"energy", "charge", "moment"};

std::string unit_label(const std::string& task) {
  return task == "energy" ? "Ry per cell" : nn::task_unit(nn::task_from_name(task));
}

// Indices of the models predicting `task`.
std::vector<std::size_t> models_with(const FigureInputs& in, const std::string& task) {
  std::vector<std::size_t> k;
  for (std::size_t i = 0; i < in.models.size(); ++i)
    if (std::count(in.tasks[i].begin(), in.tasks[i].end(), task)) k.push_back(i);
  return k;
}

std::vector<std::string> tasks_present(const FigureInputs& in) {
  std::vector<std::string> t;
  for (const auto& task : kTasks)
    if (!models_with(in, task).empty()) t.push_back(task);
  return t;
}

// gnuplot text quoted in single quotes.
std::string q(const std::string& s) {
  std::string r = "'";
  for (char c : s) r += c == '\'' ? std::string("''") : std::string(1, c);
  return r + "'";
}

// The script draws `body` twice: PNG (when the plotter has a PNG terminal) and SVG.
std::string script_for(const std::string& name, const std::string& body, int width, int height,
                       const std::string& png_terminal) {
  std::string s = "# lsms-surrogate study figure; run: gnuplot " + name + ".gp\n";
  if (!png_terminal.empty() && png_terminal != "svg")
    s += fmt::format(
        "set terminal {} size {},{} noenhanced font ',10'\nset output '{}.png'\n{}\n"
        "unset multiplot\nunset output\nreset\n",
        png_terminal, width, height, name, body);
  s += fmt::format(
      "set terminal svg size {},{} noenhanced font 'sans,10' background '#ffffff'\n"
      "set output '{}.svg'\n{}\nunset multiplot\nunset output\n",
      width, height, name, body);
  return s;
}

std::string parity_body(const FigureInputs& in, const std::string& task) {
  const auto ks = models_with(in, task);
  // Energies are shown less their line in composition (parity_energy.csv's header gives it).
  const std::string shown = task == "energy"   ? "energy minus a line in composition, Ry per cell"
                            : task == "charge" ? "charge transfer: charge minus Z, e"
                                               : unit_label(task);
  std::string b = fmt::format(
      "set datafile separator ','\nset format '%.3g'\nset multiplot layout 1,{} title {}\n",
      ks.size(), q(fmt::format("test set, {}: reference vs predicted ({})", task, shown)));
  for (auto k : ks)
    b += fmt::format(
        "set title {}\nset xlabel 'reference'\nset ylabel 'predicted'\nset key top left\n"
        "plot 'parity_{}.csv' using ($1=={}?$9:1/0):($1=={}?$10:1/0) with points pt 7 ps 0.4 "
        "lc rgb '#1f77b4' title 'test values', x with lines dt 2 lc rgb 'black' title 'y = x'\n",
        q(in.models[k]), task, k, k);
  return b + "unset multiplot\n";
}

std::string learning_body(const FigureInputs& in) {
  std::string b =
      "set datafile separator ','\nset logscale y\nset xlabel 'epoch'\n"
      "set ylabel 'loss (sum of standardized MSE over the tasks)'\nset key outside right\n"
      "set title 'learning curves: validation (solid) and training (dashed) loss, every fold'\n"
      "plot ";
  std::vector<std::string> parts;
  for (std::size_t k = 0; k < in.models.size(); ++k) {
    const std::string m = q(in.models[k]);
    parts.push_back(fmt::format(
        "'learning_curves.csv' using (strcol(1) eq {0}?$3:1/0):5 with lines lw 1.5 lc {1} "
        "title {0}, '' using (strcol(1) eq {0}?$3:1/0):4 with lines dt 2 lc {1} notitle",
        m, k + 1));
  }
  return b + fmt::format("{}\n", fmt::join(parts, ", \\\n  "));
}

std::string composition_body(const FigureInputs& in) {
  const auto tasks = tasks_present(in);
  std::string b = fmt::format(
      "set datafile separator ','\nset multiplot layout 1,{} title 'test RMSE per composition "
      "(every fold model)'\n",
      tasks.size());
  for (const auto& task : tasks) {
    b += fmt::format(
        "set title '{0}'\nset xlabel 'atoms of the first species'\nset ylabel 'RMSE ({1})'\n"
        "set key top left\nplot ",
        task, unit_label(task));
    std::vector<std::string> parts;
    for (auto k : models_with(in, task))
      parts.push_back(fmt::format(
          "'rmse_composition.csv' using (($1=={0} && strcol(3) eq '{1}')?$4:1/0):6 with "
          "linespoints pt 7 ps 0.5 lc {2} title {3}",
          k, task, k + 1, q(in.models[k])));
    b += fmt::format("{}\n", fmt::join(parts, ", \\\n  "));
  }
  return b + "unset multiplot\n";
}

std::string scatter_body(const FigureInputs& in) {
  const auto tasks = tasks_present(in);
  std::vector<std::string> tics;
  for (std::size_t k = 0; k < in.models.size(); ++k)
    tics.push_back(fmt::format("{} {}", q(in.models[k]), k));
  std::string b = fmt::format(
      "set datafile separator ','\nset multiplot layout 1,{} title 'test RMSE of every fold "
      "model'\nset xtics ({}) rotate by -30\nset xrange [-0.5:{}]\n",
      tasks.size(), fmt::join(tics, ", "), in.models.size() - 0.5);
  // rmse_folds.csv names models by text: the index comes from the model column's position.
  std::vector<std::string> index_of;
  for (std::size_t k = 0; k < in.models.size(); ++k)
    index_of.push_back(fmt::format("strcol(1) eq {} ? {}", q(in.models[k]), k));
  const std::string index = fmt::format("({} : 1/0)", fmt::join(index_of, " : "));
  for (const auto& task : tasks)
    b += fmt::format(
        "set title '{0}'\nset ylabel 'test RMSE ({1})'\nunset key\n"
        "plot 'rmse_folds.csv' using (strcol(3) eq '{0}' ? {2} + 0.15*(($2/7.0) - floor($2/7.0) "
        "- 0.5) : 1/0):5 with points pt 7 ps 0.8 lc rgb '#d62728'\n",
        task, unit_label(task), index);
  return b + "unset multiplot\n";
}

std::string mc_body(const std::string& thermo) {
  return fmt::format(
      "set datafile separator '\\t'\nset multiplot layout 1,2 title 'Monte Carlo on the "
      "surrogate'\nset xlabel 'T (K)'\nunset key\n"
      "set title 'energy above the lowest visited'\nset ylabel 'dE (mRy per site)'\n"
      "plot {0} using 'T_K':'dE_mRy_per_site' with linespoints pt 7 lc rgb '#1f77b4'\n"
      "set title 'heat capacity'\nset ylabel 'C (k_B per site)'\n"
      "plot {0} using 'T_K':'heat_capacity_kB_per_site' with linespoints pt 7 lc rgb "
      "'#d62728'\nunset multiplot\n",
      q(thermo));
}

Figure figure(std::string name, std::string title, std::string data) {
  Figure f;
  f.name = std::move(name);
  f.title = std::move(title);
  f.data = std::move(data);
  return f;
}

}  // namespace

std::vector<Figure> draw_figures(const std::filesystem::path& report, const FigureInputs& in,
                                 const mc::Plotter* plotter, bool progress) {
  struct Job {
    Figure fig;
    std::string body;
    int width, height;
  };
  std::vector<Job> jobs;
  for (const auto& task : tasks_present(in)) {
    const int panels = static_cast<int>(models_with(in, task).size());
    jobs.push_back(
        {figure("parity_" + task, "Parity: " + task + ", reference vs predicted (test set)",
                "parity_" + task + ".csv"),
         parity_body(in, task), std::max(420, 360 * panels), 400});
  }
  jobs.push_back({figure("learning_curves", "Learning curves", "learning_curves.csv"),
                  learning_body(in), 900, 480});
  const int tasks = static_cast<int>(tasks_present(in).size());
  jobs.push_back({figure("rmse_composition", "Test RMSE per composition", "rmse_composition.csv"),
                  composition_body(in), 420 * tasks, 400});
  jobs.push_back({figure("fold_scatter", "Test RMSE of every fold model", "rmse_folds.csv"),
                  scatter_body(in), 420 * tasks, 420});
  if (!in.mc_thermo.empty())
    jobs.push_back({figure("mc_thermo", "Monte Carlo thermodynamics", in.mc_thermo),
                    mc_body(in.mc_thermo), 900, 400});

  const std::string terminal = plotter ? plotter->terminal() : "";
  Progress bar("plots", static_cast<long>(jobs.size()), "figures", progress);
  std::vector<Figure> figures;
  for (auto& j : jobs) {
    const auto script = report / (j.fig.name + ".gp");
    {
      auto f = open_output_file(script);
      f << script_for(j.fig.name, j.body, j.width, j.height, terminal);
    }
    if (!plotter)
      j.fig.message = "no plotter: script only";
    else if (terminal.empty())
      j.fig.message = plotter->unavailable();
    else
      j.fig.message = plotter->draw(script.string());
    j.fig.drawn = j.fig.message.empty() && std::filesystem::exists(report / (j.fig.name + ".svg"));
    if (j.fig.message.empty() && !j.fig.drawn) j.fig.message = "gnuplot wrote no SVG";
    const bool png = std::filesystem::exists(report / (j.fig.name + ".png"));
    j.fig.image = j.fig.name + (png ? ".png" : ".svg");
    figures.push_back(j.fig);
    bar.advance(1, j.fig.name);
  }
  bar.finish();
  return figures;
}

}  // namespace lsmss::study
