#include "drivers/lsms/lsms_driver.hpp"

#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "core/mpi.hpp"
#include "lsms_plugin/info_evec.hpp"
#include "lsms_plugin/inprocess/inprocess.hpp"
#include "lsms_plugin/kout.hpp"
#include "lsms_plugin/process.hpp"

namespace lsmss::drivers {
namespace {

namespace fs = std::filesystem;

// Most compositions whose potentials one driver instance keeps for warm starts.
constexpr std::size_t kMaxWarmSources = 16;

bool is_executable_file(const fs::path& p) {
  std::error_code ec;
  return fs::is_regular_file(p, ec) && access(p.c_str(), X_OK) == 0;
}

fs::path find_on_path(const std::string& name) {
  const char* path = std::getenv("PATH");
  std::stringstream dirs(path ? path : "/usr/local/bin:/usr/bin:/bin");
  for (std::string d; std::getline(dirs, d, ':');) {
    const fs::path candidate = fs::path(d.empty() ? "." : d) / name;
    if (is_executable_file(candidate)) return fs::absolute(candidate);
  }
  return {};
}

// A program named in the deck: a name without '/' is searched on PATH; a relative path is taken
// relative to the deck file's folder (so a deck can point at an LSMS beside it), an absolute
// one as it is. Errors name the key and say what was looked at.
std::string resolve_program(const DeckTable& t, std::string_view key, const std::string& name,
                            bool relative_to_deck) {
  if (name.empty()) t.error(key, "empty program name");
  if (name.find('/') == std::string::npos) {
    const fs::path found = find_on_path(name);
    if (found.empty())
      t.error(key, fmt::format("'{}' is not an executable program on PATH (give its path; a "
                               "relative path is taken from the deck's folder)",
                               name));
    return found.string();
  }
  fs::path p(name);
  if (p.is_relative() && relative_to_deck)
    p = fs::absolute(fs::path(t.file()).parent_path() / p).lexically_normal();
  if (!fs::exists(p))
    t.error(key, fmt::format("'{}' does not exist{}", p.string(),
                             fs::path(name).is_relative() && relative_to_deck
                                 ? " (relative paths are taken from the deck's folder)"
                                 : ""));
  if (!is_executable_file(p))
    t.error(key, fmt::format("'{}' is not an executable file", p.string()));
  return p.string();
}

bool stdout_declares_convergence(const fs::path& path) {
  std::ifstream in(path);
  for (std::string line; std::getline(in, line);)
    if (line.find(lsms::kConvergedPotentialsLine) != std::string::npos) return true;
  return false;
}

// The lines of LSMS's stdout that name an error (LSMS prints some of its fatal errors there).
std::string stdout_error_lines(const fs::path& dir) {
  const std::string lines = lsms::error_excerpt(dir / "stdout.txt", 10, 0);
  return lines.empty() ? "" : "stdout error lines:\n" + lines;
}

std::vector<int> species_counts(const Configuration& c, int num_species) {
  std::vector<int> n(num_species, 0);
  for (int i = 0; i < c.num_sites(); ++i) ++n[c[i]];
  return n;
}

// The programs (executable, launcher) and how LSMS runs (kind, mode).
void read_programs(const DeckTable& t, LsmsSettings& s) {
  const std::string executable = t.string("executable", s.executable);
  s.launcher = t.strings("launcher", s.launcher);
  // Untrusted decks (no --allow-commands) may name only LSMS itself and a known MPI launcher
  // with plain flags (docs/reliability.md).
  t.require_trust_unless("executable", harmless_program(fs::path(executable).filename().string(),
                                                        {"lsms", "lsms_asa"}));
  t.require_trust_unless("launcher", harmless_launcher(s.launcher));
  const std::string default_kind = default_executable_kind(executable);
  if (default_kind.empty() && !t.has("kind"))
    t.error("kind", fmt::format("cannot tell from the name '{}' whether it is lsms or lsms_asa "
                                "(only those two names imply a kind): set kind = \"lsms_asa\" or "
                                "\"lsms\"",
                                executable));
  s.deck.executable_kind = t.choice("kind", default_kind, {"lsms", "lsms_asa"});
  s.in_process = t.choice("mode", "launcher", {"launcher", "in_process"}) == "in_process";
  if (s.in_process && !lsms::inprocess_available())
    t.error("mode", lsms::inprocess_unavailable_message());
  if (s.in_process && s.deck.executable_kind != "lsms_asa")
    t.error("kind", "mode = \"in_process\" runs lsms_asa (kind = \"lsms_asa\") only");
  // In-process, neither program is started: only a launched run needs them to exist.
  if (!s.in_process) {
    s.executable = resolve_program(t, "executable", executable, true);
    if (!s.launcher.empty()) resolve_program(t, "launcher", s.launcher.front(), false);
  } else {
    s.executable = executable;
  }
}

// Each calculation's ranks, run directory, time limit and environment.
void read_run_settings(const DeckTable& t, LsmsSettings& s) {
  s.ranks = static_cast<int>(t.integer("ranks", 1, 1, 1 << 20));
  s.work_dir = fs::absolute(t.string("work_dir", "lsms-runs"));
  s.keep_runs = t.boolean("keep_runs", false);
  s.warm_start = t.boolean("warm_start", false);
  s.timeout = t.number_in("timeout", 3600.0, 1.0, 1e7);
  const DeckTable env = t.table("environment");
  for (const auto& k : env.keys()) {
    env.require_trust_unless(k, harmless_environment_name(k),
                             "sets a variable other than OMPI_MCA_* or OMP_* for LSMS (it could "
                             "load code into it)");
    s.environment[k] = env.string(k);
  }
}

// The calculation's parameters that go into LSMS's own deck.
void read_deck_spec(const DeckTable& t, lsms::DeckSpec& d) {
  d.nspin = static_cast<int>(t.integer("nspin", 2, 1, 2));
  d.nscf = static_cast<int>(t.integer("nscf", 40, 1, 100000));
  d.rms_tolerance = t.number_in("rms_tolerance", 1e-6, 0.0, 1.0);
  d.energy_tolerance = t.number_in("energy_tolerance", 1e-8, 0.0, 1.0);
  d.efermi = t.number_in("efermi", 0.7, -5.0, 5.0);
  d.use_voronoi = static_cast<int>(t.integer("use_voronoi", 0, 0, 1));
  d.rmax = t.number_in("rmax", 30.0, 1.0, 1000.0);
  d.h_step = t.number_in("h_step", 0.015, 1e-4, 0.1);
  d.mixing_algorithm = t.choice("mixing_algorithm", "broyden", {"broyden", "simple"});
  d.mixing_quantity = t.choice("mixing_quantity", "potential", {"potential", "charge"});
  d.mixing_parameter = t.number_in("mixing_parameter", 0.05, 0.0, 1.0);
  // These are written into LSMS's deck, which LSMS runs with Lua's os and io libraries: from an
  // untrusted deck only plain tables of numbers, and no extra code.
  d.energy_contour = t.string("energy_contour", d.energy_contour);
  t.require_trust_unless("energy_contour", harmless_lua_table(d.energy_contour),
                         "is not a plain Lua table of numbers (LSMS would run it as code)");
  d.xc_functional = t.string("xc_functional", d.xc_functional);
  t.require_trust_unless("xc_functional", harmless_lua_table(d.xc_functional),
                         "is not a plain Lua table of numbers (LSMS would run it as code)");
  d.extra_lua = t.string("extra_lua", "");
  t.require_trust_unless("extra_lua", d.extra_lua.empty(),
                         "adds Lua code to LSMS's deck (LSMS runs it with os and io)");
  const std::string start = t.choice("start", "scratch", {"scratch", "potentials"});
  d.pot_in_type = start == "scratch" ? -1 : 1;
}

// One species' setup from lsms.species.<symbol> (the built-in default for its element when
// the deck gives no Zc/Zs/Zv), and its potential file when the run starts from potentials.
lsms::SpeciesSetup read_species_setup(const DeckTable& species, const DeckTable& potentials,
                                      const Species& sp, int pot_in_type) {
  lsms::SpeciesSetup setup;
  const DeckTable st = species.table(sp.symbol);
  if (st.has("Zc") || st.has("Zs") || st.has("Zv")) {
    setup.species = sp;
    setup.Zc = static_cast<int>(st.integer("Zc"));
    setup.Zs = static_cast<int>(st.integer("Zs"));
    setup.Zv = static_cast<int>(st.integer("Zv"));
  } else {
    try {
      setup = lsms::default_species_setup(sp);
    } catch (const Error& e) {
      species.error(sp.symbol, e.what());
    }
  }
  if (setup.Zc + setup.Zs + setup.Zv != sp.Z)
    species.error(sp.symbol, fmt::format("Zc + Zs + Zv = {} must equal Z = {}",
                                         setup.Zc + setup.Zs + setup.Zv, sp.Z));
  setup.mag_mom = st.number_in("mag_mom", setup.mag_mom, -10.0, 10.0);
  setup.lmax = static_cast<int>(st.integer("lmax", 3, 0, 6));
  setup.rLIZ = st.number_in("rLIZ", 9.0, 0.0, 100.0);
  const auto rs = st.numbers("rsteps", {89.5, 91.5, 93.2, 99.9});
  if (rs.size() != 4) species.error(sp.symbol + ".rsteps", "expected 4 numbers");
  for (double r : rs)
    if (!(r > 0 && r <= 1000))
      species.error(sp.symbol + ".rsteps", fmt::format("must lie in (0, 1000], got {}", r));
  std::copy(rs.begin(), rs.end(), setup.rsteps.begin());
  st.finish();
  if (pot_in_type == 1) {
    setup.potential_file = potentials.string(sp.symbol);
    if (!fs::exists(setup.potential_file))
      potentials.error(sp.symbol,
                       fmt::format("potential file '{}' does not exist", setup.potential_file));
  }
  return setup;
}

}  // namespace

std::string default_executable_kind(const std::string& executable) {
  std::string base = fs::path(executable).filename().string();
  if (base == "lsms_asa" || base == "lsms") return base;
  return "";
}

lsms::ConvergenceCriteria LsmsSettings::criteria() const {
  return {deck.executable_kind, deck.rms_tolerance, deck.energy_tolerance, deck.nscf};
}

LsmsSettings LsmsSettings::from_deck(const DeckTable& t, const System& system) {
  LsmsSettings s;
  read_programs(t, s);
  read_run_settings(t, s);
  read_deck_spec(t, s.deck);
  const DeckTable species = t.table("species");
  const DeckTable potentials = t.table("potentials");
  for (const auto& sp : system.species)
    s.species.push_back(read_species_setup(species, potentials, sp, s.deck.pot_in_type));
  species.finish();
  potentials.finish();
  return s;
}

Properties harvest_run(const System& system, const LsmsSettings& s, const fs::path& dir,
                       const Configuration& config, std::optional<bool> declared) {
  Properties p;
  try {
    const fs::path file = dir / "info_evec_out";
    const lsms::InfoEvec info = lsms::parse_info_evec(file);
    lsms::SiteValues mapped;
    try {
      mapped = lsms::SiteMapper(system, "the system").map(info);
    } catch (const Error& e) {
      fail("{}: {}", file.string(), e.what());
    }
    for (int i = 0; i < system.num_sites(); ++i)
      if (mapped.config[i] != config[i])
        fail("{}: site {} holds {} but the configuration puts {} there", file.string(), i,
             system.species[mapped.config[i]].symbol, system.species[config[i]].symbol);
    p.charge = std::move(mapped.charge);
    p.moment = std::move(mapped.moment);
    p.energy = info.total_energy;
    p.band_energy = info.band_energy;
    p.fermi_energy = info.fermi_energy;
    const auto conv = lsms::judge_convergence(
        lsms::parse_kout(dir / "k.out"), s.criteria(),
        declared.has_value() ? *declared : stdout_declares_convergence(dir / "stdout.txt"));
    p.iterations = conv.iterations;
    p.residual = conv.rms;
    p.status = conv.converged ? Status::ok : Status::not_converged;
    if (!conv.converged)
      p.message =
          fmt::format("LSMS did not converge: {} (run directory {})", conv.reason, dir.string());
  } catch (const Error& e) {
    p = Properties{};
    p.status = Status::failed;
    p.message = fmt::format("cannot harvest LSMS output: {}", e.what());
  }
  return p;
}

LsmsDriver::LsmsDriver(const System& system, LsmsSettings settings, MPI_Comm comm)
    : system_(system), s_(std::move(settings)), comm_(comm) {
  // In-process LSMS needs MPI even under commands that run serially (calc). Started once and
  // kept until the process ends: MPI cannot be started again after MPI_Finalize.
  if (s_.in_process) {
    static const mpi::Session session;
  }
}

LsmsDriver::~LsmsDriver() {
  if (!warm_dir_.empty()) {
    std::error_code ec;
    fs::remove_all(warm_dir_, ec);  // only copies; a failure here must not throw
  }
}

std::vector<Properties> LsmsDriver::evaluate(std::span<const Configuration> configs) {
  std::vector<Properties> out;
  out.reserve(configs.size());
  for (const auto& c : configs) out.push_back(run_one(c));
  return out;
}

Properties LsmsDriver::harvest(const fs::path& run_dir, const Configuration& config) const {
  return harvest_run(system_, s_, run_dir, config);
}

const LsmsDriver::WarmSource* LsmsDriver::pick_warm_source(const Configuration& config) const {
  const std::vector<int> counts = species_counts(config, system_.num_species());
  const WarmSource* best = nullptr;
  int best_distance = 0;
  // Most recent first: among equally near compositions the latest potentials win.
  for (auto it = warm_.rbegin(); it != warm_.rend(); ++it) {
    int distance = 0;
    bool covers = true;  // LSMS reads either all potentials from files or none
    for (std::size_t sp = 0; sp < counts.size(); ++sp) {
      distance += std::abs(counts[sp] - it->counts[sp]);
      if (counts[sp] > 0 && it->counts[sp] == 0) covers = false;
    }
    if (covers && (!best || distance < best_distance)) {
      best = &*it;
      best_distance = distance;
    }
  }
  return best;
}

void LsmsDriver::remember_potentials(const fs::path& run_dir, const Configuration& config) {
  if (warm_dir_.empty())
    warm_dir_ =
        s_.work_dir / fmt::format("warm-{}-{:x}", getpid(), reinterpret_cast<std::uintptr_t>(this));
  WarmSource w;
  w.counts = species_counts(config, system_.num_species());
  std::string key;
  for (int n : w.counts) key += fmt::format("{}-", n);
  const fs::path dest = warm_dir_ / key;
  std::error_code ec;
  fs::remove_all(dest, ec);
  fs::create_directories(dest);
  for (int i = 0; i < config.num_sites(); ++i) {
    // makeTypesUnique (LSMS's default) gives every site its own type, numbered in site order.
    const fs::path src = run_dir / fmt::format("{}.{}", s_.deck.potential_file_out(), i);
    if (!fs::exists(src)) return;  // nothing usable was written: keep the older sources
    w.site_species.push_back(config[i]);
    w.potentials.push_back(dest / std::to_string(i));
    fs::copy_file(src, w.potentials.back(), fs::copy_options::overwrite_existing);
  }
  std::erase_if(warm_, [&](const WarmSource& o) { return o.counts == w.counts; });
  warm_.push_back(std::move(w));
  if (warm_.size() > kMaxWarmSources) {
    fs::remove_all(warm_.front().potentials.front().parent_path(), ec);
    warm_.erase(warm_.begin());
  }
}

fs::path LsmsDriver::prepare_run(const Configuration& config, const WarmSource*& warm) {
  auto dir = fs::absolute(s_.work_dir /
                          fmt::format("run-{:016x}-{}-{}", config.hash(), getpid(), counter_++));
  fs::create_directories(dir);
  lsms::DeckSpec spec = s_.deck;
  warm = nullptr;
  if (s_.warm_start && !warm_start_failed_.count(config.hash())) warm = pick_warm_source(config);
  if (warm) {
    // Each site gets the potential of a site of the same species in the earlier calculation:
    // the same site where the species agrees (most sites after a swap), else the next one of
    // that species in turn.
    spec.pot_in_type = 1;
    std::vector<std::vector<int>> of_species(system_.num_species());
    for (int j = 0; j < static_cast<int>(warm->site_species.size()); ++j)
      of_species[warm->site_species[j]].push_back(j);
    std::vector<std::size_t> next(system_.num_species(), 0);
    for (int i = 0; i < config.num_sites(); ++i) {
      int j = i;
      if (warm->site_species[i] != config[i]) {
        const auto& list = of_species[config[i]];
        j = list[next[config[i]]++ % list.size()];
      }
      fs::copy_file(warm->potentials[j], dir / fmt::format("{}.{}", spec.potential_file_in, i),
                    fs::copy_options::overwrite_existing);
    }
  } else if (spec.pot_in_type == 1) {
    for (int i = 0; i < config.num_sites(); ++i)
      fs::copy_file(s_.species[config[i]].potential_file,
                    dir / fmt::format("{}.{}", spec.potential_file_in, i),
                    fs::copy_options::overwrite_existing);
  }
  std::ofstream deck(dir / "i_lsms");
  deck << lsms::write_deck(spec, system_.lattice, config, s_.species);
  if (!deck) fail("cannot write LSMS deck into {}", dir.string());
  return dir;
}

Properties LsmsDriver::classify(const lsms::ProcessResult& run, const fs::path& dir,
                                const Configuration& config) const {
  Properties p;
  if (run.timed_out) {
    p.status = Status::timeout;
    p.message = fmt::format("LSMS exceeded the time limit of {} s in {}", s_.timeout, dir.string());
  } else if (run.exit_code != 0) {
    p.status = Status::failed;
    p.message = fmt::format("LSMS {} (run directory {}); stderr:\n{}{}",
                            run.signal ? fmt::format("killed by signal {}", run.signal)
                                       : fmt::format("exited with status {}", run.exit_code),
                            dir.string(), run.stderr_tail, stdout_error_lines(dir));
  } else {
    p = harvest(dir, config);
    // LSMS's Fortran parts may stop with status 0 after printing why (on stdout).
    if (p.status == Status::failed)
      p.message += fmt::format("\nstderr:\n{}{}", run.stderr_tail, stdout_error_lines(dir));
  }
  p.wall_time = run.wall_time;
  return p;
}

void LsmsDriver::finish_run(Properties& p, const fs::path& dir, const Configuration& config,
                            const WarmSource* warm) {
  if (warm && !p.ok()) {
    warm_start_failed_.insert(config.hash());
    p.message +=
        "\n(started from the potentials of an earlier configuration; the next attempt "
        "starts as lsms.start says)";
  }
  if (p.ok() && s_.warm_start) {
    try {
      remember_potentials(dir, config);
    } catch (const std::exception&) {
      // Only an optimization: a copy that fails (disk full) must not cost the result.
    }
  }
  if (p.ok() && !s_.keep_runs) fs::remove_all(dir);
}

Properties LsmsDriver::run_one(const Configuration& config) {
  if (s_.in_process) return run_in_process(config);
  const int rank = mpi::rank_of(comm_);  // 0 in a serial program that never starts MPI
  if (rank != 0) {
    // The launcher runs the parallel job; other ranks of the group have nothing to do.
    Properties p;
    p.status = Status::ok;
    p.message = "evaluated by the group leader";
    return p;
  }
  const WarmSource* warm = nullptr;
  const fs::path dir = prepare_run(config, warm);
  std::vector<std::string> argv;
  for (const auto& a : s_.launcher) {
    std::string arg = a;
    const auto pos = arg.find("{ranks}");
    if (pos != std::string::npos) arg.replace(pos, 7, std::to_string(s_.ranks));
    argv.push_back(arg);
  }
  argv.push_back(s_.executable);
  argv.push_back("i_lsms");
  const lsms::ProcessResult run =
      lsms::run_process(argv, dir, s_.timeout, lsms::clean_child_environment(s_.environment));
  Properties p = classify(run, dir, config);
  finish_run(p, dir, config, warm);
  return p;
}

void register_lsms_driver(DriverRegistry& registry) {
  registry.add(
      "lsms",
      "real LSMS (DFT): writes decks, launches lsms/lsms_asa, parses info_evec_out and k.out",
      [](const DriverContext& ctx) {
        LsmsSettings s = LsmsSettings::from_deck(ctx.settings, ctx.system);
        // In-process, LSMS runs on the builder's rank group: its size must be lsms.ranks.
        if (s.in_process) {
          const long group =
              ctx.deck_root.table("dataset").integer("ranks_per_calculation", 1, 1, 1'000'000);
          if (group != s.ranks)
            ctx.settings.error(
                "ranks",
                fmt::format("mode = \"in_process\" runs LSMS on the rank group of one "
                            "calculation: set dataset.ranks_per_calculation = {} (it is {})",
                            s.ranks, group));
        }
        return std::make_unique<LsmsDriver>(ctx.system, std::move(s), ctx.comm);
      });
}

}  // namespace lsmss::drivers
