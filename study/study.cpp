#include "study/study.hpp"

#include <chrono>
#include <cmath>
#include <ctime>
#include <fstream>
#include <set>
#include <sstream>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "core/defaults.hpp"
#include "core/error.hpp"
#include "dataset_builder/builder.hpp"
#include "dataset_builder/dataset.hpp"
#include "dataset_builder/importer.hpp"
#include "dataset_builder/store.hpp"
#include "montecarlo/job.hpp"
#include "montecarlo/sampler.hpp"
#include "nn/core/architecture_search.hpp"
#include "nn/core/fold_training.hpp"
#include "nn/core/network.hpp"
#include "nn/core/trainer.hpp"
#include "study/evaluation.hpp"
#include "study/page.hpp"
#include "study/plots.hpp"
#include "study/settings.hpp"
#include "study/stages.hpp"

namespace lsmss::study {
namespace {

namespace fs = std::filesystem;

int rank_in(MPI_Comm comm) {
  int init = 0;
  MPI_Initialized(&init);
  int r = 0;
  if (init) MPI_Comm_rank(comm, &r);
  return r;
}

void barrier(MPI_Comm comm) {
  int init = 0;
  MPI_Initialized(&init);
  if (init) MPI_Barrier(comm);
}

// Wall and CPU seconds of a piece of work.
class Stopwatch {
 public:
  Measurements elapsed() const {
    return {
        {"seconds", std::chrono::duration<double>(std::chrono::steady_clock::now() - t0_).count()},
        {"cpu_seconds", static_cast<double>(std::clock() - c0_) / CLOCKS_PER_SEC}};
  }

 private:
  std::chrono::steady_clock::time_point t0_ = std::chrono::steady_clock::now();
  std::clock_t c0_ = std::clock();
};

std::string read_text(const fs::path& p) {
  std::ifstream in(p);
  if (!in) throw FileError(fmt::format("cannot read '{}'", p.string()));
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// One model the study trains: its name, its file, and the deck text that sets its `training`.
struct PlannedModel {
  std::string name, slug;
  std::string deck_text;
  fs::path file;
  nn::TrainingOptions options;  // read up front: a bad key fails before any work
};

// The training options of a model: the deck run again with the model's `training` merged in.
nn::TrainingOptions model_options(const std::string& text, const std::string& name,
                                  const Deck& deck, const DeckOptions& deck_options) {
  const Deck d = Deck::from_string(text, deck.file(), deck_options);
  try {
    return nn::TrainingOptions::from_deck(d.root().table("training"), deck.file());
  } catch (const DeckError& e) {
    throw DeckError(fmt::format("study model '{}': {}", name, e.what()));
  }
}

class Runner {
 public:
  Runner(const Deck& deck, const System& sys, const StudyOptions& opt)
      : deck_(deck),
        sys_(sys),
        opt_(opt),
        settings_(StudySettings::from_deck(deck.root(), deck.file())),
        markers_(settings_.report),
        root_(rank_in(opt.comm) == 0),
        data_path_(defaults::dataset_file(deck.root(), deck.file())) {}

  StudySummary run();

 private:
  void log(const std::string& line) const {
    if (root_ && opt_.log) opt_.log(line);
  }
  // Runs `work` unless the stage has finished (and nothing before it changed); returns the
  // stage's measurements either way.
  template <class Work>
  Measurements stage(const std::string& name, Work work);
  std::vector<PlannedModel> plan_models() const;
  Measurements make_dataset();
  Measurements train(const PlannedModel& m, const dataset::Dataset& data);
  Measurements monte_carlo(const PlannedModel& m);
  std::vector<std::string> report(const std::vector<PlannedModel>& models,
                                  const dataset::Dataset& data, const Measurements& ds,
                                  const std::vector<Measurements>& training,
                                  const Measurements& eval, bool mc_done, bool write);

  const Deck& deck_;
  const System& sys_;
  const StudyOptions& opt_;
  StudySettings settings_;
  StageMarkers markers_;
  bool root_;
  std::string data_path_;
  bool changed_ = false;  // a stage ran in this invocation: every later stage runs again
  std::vector<std::string> ran_, skipped_;
};

template <class Work>
Measurements Runner::stage(const std::string& name, Work work) {
  if (!changed_) {
    if (auto m = markers_.finished(name)) {
      skipped_.push_back(name);
      log(fmt::format("stage {:<22} done before (marker {})", name,
                      markers_.marker(name).string()));
      return *m;
    }
  }
  log(fmt::format("stage {:<22} running", name));
  Measurements m = work();
  barrier(opt_.comm);
  if (root_) markers_.mark(name, m);
  changed_ = true;
  ran_.push_back(name);
  return m;
}

std::vector<PlannedModel> Runner::plan_models() const {
  std::vector<PlannedModel> out;
  auto add = [&](const std::string& name, const std::string& slug, const std::string& text) {
    out.push_back({name, slug, text, settings_.report / "models" / (slug + ".h5"),
                   model_options(text, name, deck_, opt_.deck_options)});
  };
  for (const auto& e : settings_.models)
    add(e.name, e.slug, deck_.text() + training_override_lua(e));
  if (!settings_.search_fragment.empty()) {
    if (fs::exists(settings_.search_fragment)) {
      (void)nn::read_winner_fragment(settings_.search_fragment);  // checked: errors name the file
      add("search", "search",
          deck_.text() + search_override_lua(read_text(settings_.search_fragment)));
    } else
      log(
          fmt::format("note: study.search = '{}' does not exist yet (`lsms-surrogate search` "
                      "writes it): no search model",
                      settings_.search_fragment.string()));
  }
  return out;
}

Measurements Runner::make_dataset() {
  Measurements m;
  if (!settings_.import_source.empty()) {
    if (root_) {
      dataset::ImportOptions io;
      io.force = true;  // an unfinished earlier import (no marker) is replaced
      io.progress = opt_.progress;
      const auto r = dataset::import_lsms(deck_, sys_, settings_.import_source, io);
      m["import_seconds"] = r.total_seconds;
      m["imported_files"] = static_cast<double>(r.files);
    }
  } else {
    dataset::BuildOptions bo;
    bo.progress = opt_.progress && root_;
    bo.verbose = false;
    bo.on_rank_failure = opt_.on_rank_failure;
    const auto s = dataset::build_dataset(deck_, sys_, *opt_.registry, bo, opt_.comm);
    if (s.coordinator) {
      std::size_t pending = 0;
      for (const auto& c : s.compositions) pending += c.pending;
      if (pending > 0)
        throw Error(
            fmt::format("{}: {} configurations are still pending: rerun the study to "
                        "continue the build",
                        s.file.string(), pending));
    }
  }
  if (!root_) return m;
  // Seconds per calculation from the calculations' own wall times (an import has none).
  const auto file = dataset::DatasetFile::open(data_path_, h5::Mode::read);
  const auto& res = file.results();
  m["rows"] = static_cast<double>(dataset::read_dataset(data_path_).rows());
  double sum = 0;
  std::size_t timed = 0;
  for (std::size_t r = 0; r < res.rows(); ++r)
    if (res.row_status(r) == Status::ok && std::isfinite(res.wall_time[r]) && res.wall_time[r] > 0)
      sum += res.wall_time[r], ++timed;
  if (timed > 0) {
    m["driver_seconds_per_calculation"] = sum / timed;
    m["timed_calculations"] = static_cast<double>(timed);
  }
  return m;
}

Measurements Runner::train(const PlannedModel& pm, const dataset::Dataset& data) {
  nn::TrainingOptions topt = pm.options;
  topt.model = pm.file.string();
  topt.progress = opt_.progress && root_;
  fs::create_directories(pm.file.parent_path());
  nn::FoldTrainingRun run;
  run.output = pm.file;
  run.deck_text = pm.deck_text;
  run.system = &sys_;
  run.comm = opt_.comm;
  const Stopwatch watch;
  const auto result = nn::train_folds(data, topt, nn::folds_to_train(data, topt), run);
  Measurements m = watch.elapsed();
  m["folds"] = static_cast<double>(result.models.size());
  return m;
}

Measurements Runner::monte_carlo(const PlannedModel& pm) {
  // The deck's Monte Carlo section with the driver line switched to the surrogate (what a user
  // does by hand), the model being the study's.
  const std::string text =
      deck_.text() +
      fmt::format("\ndriver = \"surrogate\"\nsurrogate = {{ model = \"{}\" }}\n", pm.file.string());
  const Deck d = Deck::from_string(text, deck_.file(), opt_.deck_options);
  mc::Job job = mc::prepare_job(d.root(), sys_, *opt_.registry, deck_.file(), opt_.warn);
  job.settings.output = (settings_.report / "mc").string();
  if (!job.settings.checkpoint.empty())
    job.settings.checkpoint = (settings_.report / "mc_checkpoint.h5").string();
  for (const auto& n : job.notes) log("  " + n);
  mc::RunOptions ro;
  ro.progress = opt_.progress && root_;
  ro.comm = opt_.comm;
  // An earlier stage ran now (e.g. the model was retrained): its checkpoint belongs to the old
  // model, start over. Otherwise an interrupted run continues from it.
  ro.restart = changed_;
  const Stopwatch watch;
  const mc::McResult r = mc::run(sys_, job.settings, *job.evaluator, ro);
  Measurements m = watch.elapsed();
  if (root_) {
    const auto files = mc::write_outputs(r, job.settings, sys_, opt_.plotter);
    for (const auto& line : std::vector<std::string>{mc::format_summary(r, sys_)}) log(line);
    if (!files.plot_message.empty()) log("note: " + files.plot_message);
  }
  return m;
}

StudySummary Runner::run() {
  fs::create_directories(settings_.report);
  const auto models = plan_models();
  const Measurements ds = stage("dataset", [&] { return make_dataset(); });
  barrier(opt_.comm);
  const dataset::Dataset data = dataset::read_dataset(data_path_);
  std::vector<Measurements> training;
  training.reserve(models.size());
  for (const auto& m : models)
    training.push_back(stage("train_" + m.slug, [&] { return train(m, data); }));
  std::vector<TrainedModel> trained;
  trained.reserve(models.size());
  for (const auto& m : models) trained.push_back({m.name, m.file});
  const Measurements eval = stage("evaluate", [&] {
    if (!root_) return Measurements{};
    EvaluateOptions eo;
    eo.parity_fold = settings_.parity_fold;
    eo.cost_predictions = settings_.cost_predictions;
    eo.progress = opt_.progress;
    return evaluate_models(trained, data, settings_.report, eo);
  });
  bool mc_done = false;
  if (settings_.montecarlo) {
    for (const auto& m : models)
      if (m.name == settings_.mc_model) stage("montecarlo", [&] { return monte_carlo(m); });
    mc_done = true;
  }
  StudySummary summary;
  summary.report = settings_.report;
  stage("report", [&] {
    if (root_) summary.lines = report(models, data, ds, training, eval, mc_done, true);
    return Measurements{};
  });
  if (!root_) return summary;
  if (summary.lines.empty())  // a rerun: the summary again, from the files
    summary.lines = report(models, data, ds, training, eval, mc_done, false);
  summary.lines.push_back(
      fmt::format("stages run now: {}; done before: {}",
                  ran_.empty() ? "none" : fmt::format("{}", fmt::join(ran_, " ")),
                  skipped_.empty() ? "none" : fmt::format("{}", fmt::join(skipped_, " "))));
  return summary;
}

std::vector<std::string> Runner::report(const std::vector<PlannedModel>& models,
                                        const dataset::Dataset& data, const Measurements& ds,
                                        const std::vector<Measurements>& training,
                                        const Measurements& eval, bool mc_done, bool write) {
  const fs::path& dir = settings_.report;
  std::vector<std::string> order;
  order.reserve(models.size());
  std::set<std::string> networks;
  for (const auto& m : models) {
    order.push_back(m.name);
    if (m.options.kind == nn::ModelKind::mlp) networks.insert(m.name);
  }
  const auto errors = read_fold_errors(dir / "rmse_folds.csv");
  PageInputs page;
  page.table = summarize(errors, order);
  page.cost = cost_table(ds, training, eval);
  page.comparison = mtl_vs_stl(page.table, networks);
  page.title = fmt::format("{} on {}", sys_.name(), sys_.lattice.describe());
  page.data_source =
      settings_.import_source.empty()
          ? fmt::format("Dataset {} computed with the driver '{}'.", data_path_, data.driver)
          : fmt::format("Dataset {} imported from {}.", data_path_,
                        settings_.import_source.string());
  std::size_t test = 0;
  for (std::size_t r = 0; r < data.rows(); ++r) test += data.is_test(r);
  page.facts.push_back(
      fmt::format("{} configurations: {} in {} folds for training and validation, "
                  "{} held-out test rows",
                  data.rows(), data.rows() - test, data.num_folds, test));
  FigureInputs fig;
  for (std::size_t k = 0; k < models.size(); ++k) {
    const nn::Model first = nn::Model::load_member(models[k].file, 0);
    const std::string what =
        first.kind() == "mlp"
            ? fmt::format("network {}, {} fold models, {} epochs", first.network().describe(),
                          nn::Model::count_in_file(models[k].file), first.epochs_run())
            : fmt::format("{} ({}), {} fold models", first.kind(), first.describe(),
                          nn::Model::count_in_file(models[k].file));
    page.facts.push_back(fmt::format("{}: {}, trained in {:.1f} s (wall; CPU {:.1f} s)",
                                     models[k].name, what, training[k].at("seconds"),
                                     training[k].at("cpu_seconds")));
    fig.models.push_back(models[k].name);
    std::vector<std::string> tasks;  // of the model, not of its network (a CE has none)
    for (nn::Task t : {nn::Task::energy, nn::Task::charge, nn::Task::moment})
      if (first.tasks() & nn::task_bit(t)) tasks.push_back(nn::task_name(t));
    fig.tasks.push_back(tasks);
  }
  if (mc_done && fs::exists(dir / "mc_thermo.tsv")) fig.mc_thermo = "mc_thermo.tsv";
  if (write) {
    page.figures = draw_figures(dir, fig, opt_.plotter, opt_.progress);
    write_pages(dir, page);
  }

  std::vector<std::string> lines = {page.title, page.data_source, page.facts.front(), "",
                                    "test RMSE, mean +- std over the fold models:"};
  for (const auto& r : page.table)
    lines.push_back(fmt::format(
        "  {:<12} {:<7} {:>24} {}{}", r.model, r.task, mean_pm_std(r.mean, r.std), r.unit,
        std::isnan(r.mev_mean)
            ? ""
            : fmt::format("  ({} meV/atom)", mean_pm_std(r.mev_mean, r.mev_std))));
  for (const auto& c : page.comparison) lines.push_back(c);
  lines.emplace_back("");
  lines.emplace_back("cost (wall seconds):");
  for (const auto& c : page.cost)
    lines.push_back(
        fmt::format("  {:<42} {:>12}", c.what,
                    std::isnan(c.seconds) ? "not measured" : fmt::format("{:.3g}", c.seconds)));
  std::size_t drawn = 0;
  for (const auto& f : page.figures) drawn += f.drawn;
  lines.emplace_back("");
  lines.push_back(write
                      ? fmt::format("report: {} ({} of {} figures drawn; report.md, tables as "
                                    "CSV)",
                                    (dir / "index.html").string(), drawn, page.figures.size())
                      : fmt::format("report: {} (written before)", (dir / "index.html").string()));
  for (const auto& f : page.figures)
    if (!f.drawn) lines.push_back(fmt::format("note: {} not drawn: {}", f.name, f.message));
  return lines;
}

}  // namespace

std::vector<std::string> check_study(const Deck& deck, const DeckOptions& deck_options) {
  const StudySettings s = StudySettings::from_deck(deck.root(), deck.file());
  std::vector<std::string> names;
  for (const auto& e : s.models) {
    model_options(deck.text() + training_override_lua(e), e.name, deck, deck_options);
    names.push_back(e.name);
  }
  return names;
}

StudySummary run_study(const Deck& deck, const System& system, const StudyOptions& options) {
  if (!options.registry) throw Error("run_study: no driver registry");
  Runner runner(deck, system, options);
  return runner.run();
}

}  // namespace lsmss::study
