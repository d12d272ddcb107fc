// `check`: validate a deck; `calc`: evaluate configurations with the deck's driver.
#include <algorithm>
#include <fstream>
#include <numeric>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "app/common.hpp"
#include "core/defaults.hpp"
#include "core/output_file.hpp"
#include "core/progress.hpp"
#include "core/results_tsv.hpp"
#include "core/rng.hpp"
#include "dataset_builder/configuration_inputs.hpp"
#include "dataset_builder/settings.hpp"
#include "montecarlo/job.hpp"
#include "montecarlo/settings.hpp"
#include "nn/core/architecture_search.hpp"
#include "nn/core/trainer.hpp"
#include "study/study.hpp"

namespace lsmss::app {
namespace {

void print_system(const LoadedDeck& d) {
  fmt::print("deck      {}\n", d.deck.file());
  fmt::print("system    {} on {}\n", d.system.name(), d.system.lattice.describe());
  for (int s = 0; s < d.system.num_species(); ++s)
    fmt::print("species   {}: {} (Z = {}, {} valence e)\n", s, d.system.species[s].symbol,
               d.system.species[s].Z, d.system.species[s].valence);
}

// Every section but the driver, read exactly as the stage that uses it reads it.
void check_sections(const LoadedDeck& d, AppContext& ctx) {
  const DeckTable& root = d.root();
  const std::string file = d.deck.file();
  if (root.table("sampling").present()) {
    dataset::SamplingSettings::from_deck(root.table("sampling"), d.system);
    fmt::print("sampling  OK\n");
  }
  if (root.table("dataset").present()) {
    dataset::DatasetSettings::from_deck(root.table("dataset"), file);
    fmt::print("dataset   OK\n");
  }
  if (root.table("training").present()) {
    const nn::TrainingOptions t = nn::TrainingOptions::from_deck(root.table("training"), file);
    fmt::print("training  OK ({})\n", t.label());
  }
  if (root.table("search").present()) {
    const nn::SearchSettings s = nn::SearchSettings::from_deck(root.table("search"), file);
    fmt::print("search    OK (up to {} trials)\n", nn::max_trials(s));
  }
  if (root.table("montecarlo").present()) {
    const mc::Settings m = mc::read_settings(root.table("montecarlo"), d.system, file);
    if (m.fallback.enabled)  // the fallback driver reads its own table
      mc::create_fallback_driver(root, d.system, ctx.registry, m.fallback.driver);
    fmt::print("montecarlo OK ({}{})\n",
               m.method == mc::Method::metropolis ? "Metropolis" : "Wang-Landau",
               m.fallback.enabled ? ", DFT fallback to " + m.fallback.driver : "");
  }
  if (root.table("study").present()) {
    DeckOptions opts;
    opts.allow_io = ctx.allow_lua_io;
    opts.allow_commands = ctx.allow_lua_io || ctx.allow_commands;
    fmt::print("study     OK ({})\n", fmt::join(study::check_study(d.deck, opts), ", "));
  }
}

void add_check_command(CLI::App& app, AppContext& ctx) {
  auto* sub =
      app.add_subcommand("check", "validate a deck: run it, read every section, report errors");
  auto deck_path = std::make_shared<std::string>();
  sub->add_option("deck", *deck_path, "Lua input deck")->required()->check(CLI::ExistingFile);
  sub->callback([&ctx, deck_path] {
    LoadedDeck d = load_deck(*deck_path, ctx);
    print_system(d);
    const DeckTable& root = d.root();
    // The driver. One that cannot be created (e.g. a surrogate whose model is not trained
    // yet) is reported, the other sections are still checked, and `check` fails at the end:
    // "deck OK" means every stage can start.
    std::string driver_error;
    // An import/train/evaluate deck names no driver: the default is not shown as if it were used.
    const bool driver_used =
        root.has("driver") || root.table("montecarlo").present() || root.table("study").present();
    try {
      if (!driver_used)
        fmt::print(
            "driver    none named (import, train and evaluate use none; calc and build "
            "would use the default, {})\n",
            defaults::kDriver);
      else if (auto driver = ctx.registry.create_from_deck(root, d.system))
        fmt::print("driver    {} (provides {})\n", driver->name(),
                   property_mask_name(driver->provides()));
    } catch (const FileError& e) {
      driver_error = e.what();
      fmt::print("driver    not created: {} (run the step that writes it first)\n", e.what());
    }
    check_sections(d, ctx);
    if (!driver_error.empty())
      throw Error(fmt::format("{}: every section is valid, but the driver could not be created: {}",
                              d.deck.file(), driver_error));
    fmt::print("deck OK\n");
  });
}

struct CalcOptions {
  std::string deck, output;
  std::vector<std::string> configs;
  int random = 0, composition = -1;
  unsigned long seed = 1;
  bool sites = false;
};

// The configurations `calc` evaluates: the --config ones, then the --random ones.
std::vector<Configuration> calc_configurations(const CalcOptions& o, const System& sys) {
  std::vector<Configuration> configs;
  for (const auto& s : o.configs) {
    Configuration c = Configuration::from_string(s);
    if (c.num_sites() != sys.num_sites())
      fail("--config '{}' has {} sites, the deck's lattice has {}", s, c.num_sites(),
           sys.num_sites());
    for (int i = 0; i < c.num_sites(); ++i)
      if (c[i] >= sys.num_species())
        fail("--config '{}': species {} at site {} does not exist", s, c[i], i);
    configs.push_back(std::move(c));
  }
  if (o.composition > sys.num_sites())
    fail("--composition {} exceeds the {} sites", o.composition, sys.num_sites());
  Rng rng(o.seed);
  for (int k = 0; k < o.random; ++k)
    configs.push_back(dataset::random_configuration(sys, o.composition, rng));
  if (configs.empty()) fail("nothing to evaluate: give --config or --random");
  return configs;
}

// One line per configuration (and per-site tables with --sites) on stdout, and the
// tab-separated file of -o.
void print_calc_results(const CalcOptions& o, const System& sys,
                        const std::vector<Configuration>& configs,
                        const std::vector<Properties>& results) {
  std::ofstream tsv;
  if (!o.output.empty()) tsv = open_output_file(o.output);
  fmt::print("{:>5} {:>4} {:>14} {:>20} {:>12} {:>12} {:>5} {:>9}  {}\n", "#", "n_A", "status",
             "energy (Ry)", "<|m|> (muB)", "max|dq| (e)", "iter", "time (s)", "configuration");
  for (std::size_t k = 0; k < configs.size(); ++k) {
    const Properties& p = results[k];
    double mabs = 0, dq = 0;
    for (double m : p.moment) mabs += std::abs(m) / p.moment.size();
    for (int i = 0; i < static_cast<int>(p.charge.size()); ++i)
      dq = std::max(dq, std::abs(p.charge[i] - sys.species[configs[k][i]].Z));
    fmt::print("{:>5} {:>4} {:>14} {:>20} {:>12} {:>12} {:>5} {:>9.3f}  {}\n", k,
               configs[k].composition(), status_name(p.status),
               p.energy ? fmt::format("{:.8f}", *p.energy) : "-",
               p.moment.empty() ? "-" : fmt::format("{:.4f}", mabs),
               p.charge.empty() ? "-" : fmt::format("{:.4f}", dq), p.iterations, p.wall_time,
               configs[k].to_string());
    if (!p.ok() && !p.message.empty()) fmt::print("      reason: {}\n", p.message);
    if (o.sites && p.ok()) {
      fmt::print("      {:>4} {:>3} {:>12} {:>12} {:>10}\n", "site", "sp", "charge (e)", "dq (e)",
                 "m (muB)");
      for (int i = 0; i < sys.num_sites(); ++i) {
        const double q = p.charge.empty() ? NAN : p.charge[i];
        fmt::print("      {:>4} {:>3} {:>12.5f} {:>12.5f} {:>10.4f}\n", i,
                   sys.species[configs[k][i]].symbol, q, q - sys.species[configs[k][i]].Z,
                   p.moment.empty() ? NAN : p.moment[i]);
      }
    }
  }
  if (tsv.is_open()) write_results_tsv(tsv, configs, results);
}

void add_calc_command(CLI::App& app, AppContext& ctx) {
  auto* sub = app.add_subcommand("calc",
                                 "evaluate configurations with the deck's driver and print "
                                 "energy (Ry), charges (e), moments (muB); exit status 1 when "
                                 "no calculation succeeded");
  auto o = std::make_shared<CalcOptions>();
  sub->add_option("deck", o->deck, "Lua input deck")->required()->check(CLI::ExistingFile);
  sub->add_option(
      "-c,--config", o->configs,
      "configuration as species digits, one per site in the lattice's site order (repeatable)");
  sub->add_option("-r,--random", o->random, "number of random configurations to evaluate")
      ->check(finite_in(0, 10'000'000));
  sub->add_option(
      "-n,--composition", o->composition,
      "atoms of the first species in random configurations (default: random species per site)");
  sub->add_option("--seed", o->seed, "random seed")->capture_default_str();
  sub->add_flag("--sites", o->sites, "print per-site charge and moment tables");
  sub->add_option("-o,--output", o->output, "also write the results as a tab-separated file");
  sub->callback([&ctx, o] {
    LoadedDeck d = load_deck(o->deck, ctx);
    const System& sys = d.system;
    const std::vector<Configuration> configs = calc_configurations(*o, sys);

    print_system(d);
    auto driver = ctx.registry.create_from_deck(d.root(), sys);
    fmt::print("driver    {}\n\n", driver->name());
    std::vector<Properties> results;
    Progress progress("calc", static_cast<long>(configs.size()), "configs", configs.size() > 1);
    for (const auto& c : configs) {
      results.push_back(driver->evaluate_one(c));
      progress.advance(1);
    }
    progress.finish();

    print_calc_results(*o, sys, configs, results);
    // A script must see that nothing was computed (a wrong executable, a broken install).
    const auto ok =
        std::count_if(results.begin(), results.end(), [](const Properties& p) { return p.ok(); });
    if (ok == 0)
      fail("no calculation succeeded (0 of {} ok); the reasons are printed above", results.size());
  });
}

}  // namespace

void add_calc_commands(CLI::App& app, AppContext& ctx) {
  add_check_command(app, ctx);
  add_calc_command(app, ctx);
}

}  // namespace lsmss::app
