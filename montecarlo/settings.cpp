#include "montecarlo/settings.hpp"

#include <cmath>
#include <filesystem>
#include <numeric>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "core/defaults.hpp"

namespace lsmss::mc {

int Settings::num_sites() const {
  return std::accumulate(counts.begin(), counts.end(), 0);
}

std::string Settings::fingerprint() const {
  // Output paths and the checkpoint cadence do not change the trajectory, so they are left out.
  std::string s = fmt::format(
      "method={} counts={} initial={} T={:.17g} anneal={} sweeps={} eq={} walkers={} seed={} "
      "shells={} blocks={} fast={} cache={}",
      method == Method::metropolis ? "metropolis" : "wang_landau", fmt::join(counts, ","),
      initial ? initial->to_string() : "-", fmt::join(temperatures, ","), anneal, sweeps,
      equilibration, walkers, seed, shells, blocks, fast_path, cache);
  if (method == Method::wang_landau)
    s += fmt::format(" wl={:.17g},{:.17g},{:.17g},{},{:.17g},{:.17g},{:.17g},{},{},{},{},{:.17g}",
                     wl.energy_min.value_or(NAN), wl.energy_max.value_or(NAN), wl.bin_width,
                     wl.bins, wl.flatness, wl.ln_f_initial, wl.ln_f_final, wl.one_over_t,
                     wl.check_interval, wl.max_sweeps, wl.scan_sweeps, wl.margin);
  if (fallback.enabled)
    s += fmt::format(" fallback={:.17g},{},{},{}", fallback.threshold, fallback.driver,
                     fallback.dataset, fallback.max_fallbacks);
  return s;
}

namespace {

std::vector<int> read_counts(const DeckTable& t, const System& sys) {
  const int n = sys.num_sites();
  const int ns = sys.num_species();
  const int given = t.has("composition") + t.has("fraction") + t.has("counts");
  if (given > 1) t.error("composition", "give only one of 'composition', 'fraction' and 'counts'");
  std::vector<int> counts(ns, 0);
  if (t.has("counts")) {
    const auto c = t.integers("counts", {});
    if (static_cast<int>(c.size()) != ns)
      t.error("counts",
              fmt::format("expected {} atom counts (one per species), got {}", ns, c.size()));
    long sum = 0;
    for (int s = 0; s < ns; ++s) {
      if (c[s] < 0) t.error("counts", fmt::format("atom counts must be >= 0, got {}", c[s]));
      counts[s] = static_cast<int>(c[s]);
      sum += c[s];
    }
    if (sum != n)
      t.error("counts", fmt::format("atom counts add up to {}, the cell has {} sites", sum, n));
    return counts;
  }
  if (ns != 2 && given == 1)
    t.error(t.has("composition") ? "composition" : "fraction",
            fmt::format("the system has {} species: give 'counts' (atoms of each species)", ns));
  if (t.has("composition")) {
    counts[0] = static_cast<int>(t.integer("composition", 0, 0, n));
  } else if (t.has("fraction")) {
    const double x = t.number_in("fraction", 0.5, 0.0, 1.0);
    counts[0] = static_cast<int>(std::lround(x * n));
    if (std::abs(counts[0] - x * n) > 1e-6)
      t.error("fraction",
              fmt::format("{} x {} sites = {:.4g} atoms is not a whole number; use "
                          "'composition' (atoms of species A) or a representable fraction",
                          x, n, x * n));
  } else {
    // Default: as equal as possible.
    for (int s = 0; s < ns; ++s) counts[s] = n / ns + (s < n % ns ? 1 : 0);
    return counts;
  }
  counts[1] = n - counts[0];
  return counts;
}

// `initial`: one configuration for every walker, at the composition `counts`.
Configuration read_initial(const DeckTable& t, const System& sys, const std::vector<int>& counts) {
  const int n = sys.num_sites();
  const std::string digits = t.string("initial");
  Configuration c;
  try {
    c = Configuration::from_string(digits);
  } catch (const Error& e) {
    t.error("initial", e.what());
  }
  if (c.num_sites() != n)
    t.error("initial", fmt::format("has {} sites, the cell has {}", c.num_sites(), n));
  for (int sp = 0; sp < sys.num_species(); ++sp)
    if (c.count(sp) != counts[sp])
      t.error("initial", fmt::format("has {} atoms of {}, the composition asks for {}", c.count(sp),
                                     sys.species[sp].symbol, counts[sp]));
  for (int i = 0; i < n; ++i)
    if (c[i] >= sys.num_species())
      t.error("initial", fmt::format("species {} at site {} does not exist", c[i], i));
  return c;
}

// `temperatures` (K): required for Metropolis; Wang-Landau evaluates its thermodynamics at
// them, by default every 50 K from 100 to 2000 K.
std::vector<double> read_temperatures(const DeckTable& t, Method method) {
  std::vector<double> temperatures;
  if (method == Method::metropolis) {
    temperatures = t.numbers("temperatures");
  } else {
    std::vector<double> grid;
    for (double T = 100; T <= 2000 + 1e-9; T += 50) grid.push_back(T);
    temperatures = t.numbers("temperatures", grid);
  }
  if (temperatures.empty()) t.error("temperatures", "needs at least one temperature (K)");
  for (double T : temperatures)
    if (!(T > 0 && T < 1e6))
      t.error("temperatures", fmt::format("temperatures must lie in (0, 1e6) K, got {}", T));
  return temperatures;
}

// The table `wang_landau` (read with method = "wang_landau" only).
WangLandauSettings read_wang_landau(const DeckTable& w) {
  WangLandauSettings wl;
  if (w.has("energy_min") != w.has("energy_max"))
    w.error(w.has("energy_min") ? "energy_max" : "energy_min",
            "give both energy_min and energy_max (Ry, total energy of the cell), or neither "
            "(window found by a scan)");
  if (w.has("energy_min")) {
    wl.energy_min = w.number_in("energy_min", 0.0, -1e9, 1e9);
    wl.energy_max = w.number_in("energy_max", 0.0, -1e9, 1e9);
    if (!(*wl.energy_max > *wl.energy_min))
      w.error("energy_max", fmt::format("must exceed energy_min ({} Ry), got {} Ry", *wl.energy_min,
                                        *wl.energy_max));
  }
  if (w.has("bin_width") && w.has("bins")) w.error("bins", "give either bins or bin_width");
  wl.bin_width = w.has("bin_width") ? w.number_in("bin_width", 0.0, 1e-12, 1e12) : 0.0;
  wl.bins = static_cast<int>(w.integer("bins", 100, 1, 10'000'000));
  if (wl.bin_width > 0 && wl.energy_min) {
    const double nb = std::ceil((*wl.energy_max - *wl.energy_min) / wl.bin_width - 1e-9);
    if (nb > 1e7) w.error("bin_width", fmt::format("gives {} bins (max 1e7)", nb));
  }
  wl.flatness = w.number_in("flatness", 0.8, 0.01, 0.999);
  wl.ln_f_initial = w.number_in("ln_f_initial", 1.0, 1e-12, 10.0);
  wl.ln_f_final = w.number_in("ln_f_final", 1e-6, 1e-15, 10.0);
  if (wl.ln_f_final > wl.ln_f_initial)
    w.error("ln_f_final", fmt::format("must not exceed ln_f_initial ({})", wl.ln_f_initial));
  wl.one_over_t = w.choice("schedule", "halving", {"halving", "one_over_t"}) == "one_over_t";
  wl.check_interval = static_cast<int>(w.integer("check_interval", 10, 1, 1'000'000));
  wl.max_sweeps = w.integer("max_sweeps", 10'000'000, 1, 1'000'000'000'000);
  wl.scan_sweeps = static_cast<int>(w.integer("scan_sweeps", 200, 1, 100'000'000));
  wl.margin = w.number_in("margin", 0.02, 0.0, 10.0);
  w.finish();
  return wl;
}

// The table `fallback`; `output` is the run's output prefix (the run's identity in the dataset).
FallbackSettings read_fallback(const DeckTable& f, const std::string& output) {
  FallbackSettings fb;
  fb.enabled = f.boolean("enabled", true);
  fb.threshold = f.number("threshold");
  if (!(fb.threshold >= 0 && fb.threshold <= 1e6))
    f.error("threshold", fmt::format("must lie in [0, 1e6] Ry, got {}", fb.threshold));
  fb.driver = f.string("driver", defaults::kDriver);
  if (fb.driver == "surrogate") f.error("driver", "must name a DFT driver (e.g. \"tb\", \"lsms\")");
  fb.dataset = f.string("dataset", "");
  fb.max_fallbacks = f.integer("max_fallbacks", 0, 0, std::numeric_limits<long>::max());
  fb.flush_interval = static_cast<int>(f.integer("flush_interval", 16, 1, 1'000'000));
  fb.run = "mc:" + output;
  f.finish();
  return fb;
}

// The run's length, walkers, seed, statistics and output keys.
void read_run_keys(const DeckTable& t, const std::string& deck_file, Settings& s) {
  s.anneal = t.choice("schedule", "independent", {"independent", "anneal"}) == "anneal";
  s.sweeps = t.integer("sweeps", 1000, 1, 1'000'000'000);
  s.equilibration = t.integer("equilibration", 200, 0, 1'000'000'000);
  s.walkers = static_cast<int>(t.integer("walkers", 1, 1, 1'000'000));
  s.seed = static_cast<std::uint64_t>(t.integer("seed", 1, 0, std::numeric_limits<long>::max()));
  s.shells = static_cast<int>(t.integer("shells", 3, 1, 8));
  s.blocks = static_cast<int>(t.integer("blocks", 10, 2, 1000));
  if (s.method == Method::metropolis && s.sweeps < s.blocks)
    t.error("sweeps", fmt::format("must be >= blocks ({}) so every block has samples", s.blocks));
  s.fast_path = t.boolean("fast_path", true);
  s.cache = t.boolean("cache", true);
  const std::string stem = std::filesystem::path(deck_file).stem().string();
  s.output = t.string("output", stem.empty() ? "mc" : stem + "_mc");
  if (s.output.empty()) t.error("output", "the output prefix must not be empty");
  s.checkpoint = t.string("checkpoint", s.output + "_checkpoint.h5");
  s.checkpoint_interval = t.integer("checkpoint_interval", 100, 0, 1'000'000'000);
  s.plot = t.boolean("plot", true);
}

}  // namespace

Settings read_settings(const DeckTable& t, const System& sys, const std::string& deck_file) {
  Settings s;
  s.method = t.choice("method", "metropolis", {"metropolis", "wang_landau"}) == "metropolis"
                 ? Method::metropolis
                 : Method::wang_landau;
  s.counts = read_counts(t, sys);
  if (t.has("initial")) s.initial = read_initial(t, sys, s.counts);
  s.temperatures = read_temperatures(t, s.method);
  read_run_keys(t, deck_file, s);
  const DeckTable w = t.table("wang_landau");
  if (w.present() && s.method != Method::wang_landau)
    w.error("", "is only read with method = \"wang_landau\"");
  if (s.method == Method::wang_landau) s.wl = read_wang_landau(w);
  const DeckTable f = t.table("fallback");
  if (f.present()) s.fallback = read_fallback(f, s.output);
  t.finish();
  return s;
}

}  // namespace lsmss::mc
