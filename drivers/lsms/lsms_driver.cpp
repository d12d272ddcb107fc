#include "drivers/lsms/lsms_driver.hpp"

#include <unistd.h>

#include <fstream>

#include <fmt/format.h>

#include "core/mpi.hpp"
#include "lsms_plugin/info_evec.hpp"
#include "lsms_plugin/kout.hpp"
#include "lsms_plugin/process.hpp"

namespace lsmss::drivers {

LsmsSettings LsmsSettings::from_deck(const DeckTable& t, const System& system) {
  LsmsSettings s;
  s.executable = t.string("executable", s.executable);
  const std::string base = std::filesystem::path(s.executable).filename().string();
  s.deck.executable_kind = t.choice(
      "kind", base.find("asa") != std::string::npos ? "lsms_asa" : "lsms", {"lsms", "lsms_asa"});
  s.launcher = t.strings("launcher", s.launcher);
  t.require_trust_unless("executable", harmless_program(s.executable, {"lsms", "lsms_asa"}));
  t.require_trust_unless("launcher", harmless_launcher(s.launcher));
  s.ranks = static_cast<int>(t.integer("ranks", 1, 1, 1 << 20));
  s.work_dir = t.string("work_dir", "lsms-runs");
  s.keep_runs = t.boolean("keep_runs", false);
  s.timeout = t.number_in("timeout", 3600.0, 1.0, 1e7);
  s.deck.nspin = static_cast<int>(t.integer("nspin", 2, 1, 2));
  s.deck.nscf = static_cast<int>(t.integer("nscf", 40, 1, 100000));
  s.deck.rms_tolerance = t.number_in("rms_tolerance", 1e-6, 0.0, 1.0);
  s.deck.energy_tolerance = t.number_in("energy_tolerance", 1e-8, 0.0, 1.0);
  s.deck.efermi = t.number("efermi", 0.7);
  s.deck.mixing_algorithm = t.choice("mixing_algorithm", "broyden", {"broyden", "simple"});
  s.deck.mixing_quantity = t.choice("mixing_quantity", "potential", {"potential", "charge"});
  s.deck.mixing_parameter = t.number_in("mixing_parameter", 0.05, 0.0, 1.0);
  s.deck.energy_contour = t.string("energy_contour", s.deck.energy_contour);
  s.deck.xc_functional = t.string("xc_functional", s.deck.xc_functional);
  s.deck.extra_lua = t.string("extra_lua", "");
  const std::string start = t.choice("start", "scratch", {"scratch", "potentials"});
  s.deck.pot_in_type = start == "scratch" ? -1 : 1;

  const DeckTable species = t.table("species");
  const DeckTable potentials = t.table("potentials");
  for (const auto& sp : system.species) {
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
    setup.mag_mom = st.number("mag_mom", setup.mag_mom);
    setup.lmax = static_cast<int>(st.integer("lmax", 3, 0, 6));
    setup.rLIZ = st.number_in("rLIZ", 9.0, 0.0, 100.0);
    const auto rs = st.numbers("rsteps", {89.5, 91.5, 93.2, 99.9});
    if (rs.size() != 4) species.error(sp.symbol + ".rsteps", "expected 4 numbers");
    std::copy(rs.begin(), rs.end(), setup.rsteps.begin());
    st.finish();
    if (s.deck.pot_in_type == 1) {
      setup.potential_file = potentials.string(sp.symbol);
      if (!std::filesystem::exists(setup.potential_file))
        potentials.error(sp.symbol,
                         fmt::format("potential file '{}' does not exist", setup.potential_file));
    }
    s.species.push_back(setup);
  }
  species.finish();
  potentials.finish();
  return s;
}

LsmsDriver::LsmsDriver(const System& system, LsmsSettings settings, MPI_Comm comm)
    : system_(system), s_(std::move(settings)), comm_(comm) {}

std::vector<Properties> LsmsDriver::evaluate(std::span<const Configuration> configs) {
  std::vector<Properties> out;
  out.reserve(configs.size());
  for (const auto& c : configs) out.push_back(run_one(c));
  return out;
}

Properties LsmsDriver::run_one(const Configuration& config) {
  Properties p;
  const int rank = mpi::rank_of(comm_);  // 0 in a serial program that never starts MPI
  if (rank != 0) {
    // The launcher runs the parallel job; other ranks of the group have nothing to do.
    p.status = Status::ok;
    p.message = "evaluated by the group leader";
    return p;
  }
  const auto dir =
      s_.work_dir / fmt::format("run-{:016x}-{}-{}", config.hash(), getpid(), counter_++);
  std::filesystem::create_directories(dir);
  {
    std::ofstream deck(dir / "i_lsms");
    deck << lsms::write_deck(s_.deck, system_.lattice, config, s_.species);
    if (!deck) fail("cannot write LSMS deck into {}", dir.string());
  }
  if (s_.deck.pot_in_type == 1)
    for (int i = 0; i < config.num_sites(); ++i)
      std::filesystem::copy_file(s_.species[config[i]].potential_file,
                                 dir / fmt::format("{}.{}", s_.deck.potential_file_in, i),
                                 std::filesystem::copy_options::overwrite_existing);
  std::vector<std::string> argv;
  for (const auto& a : s_.launcher) {
    std::string arg = a;
    const auto pos = arg.find("{ranks}");
    if (pos != std::string::npos) arg.replace(pos, 7, std::to_string(s_.ranks));
    argv.push_back(arg);
  }
  argv.push_back(s_.executable);
  argv.push_back("i_lsms");
  const lsms::ProcessResult run = lsms::run_process(argv, dir, s_.timeout);
  if (run.timed_out) {
    p.status = Status::timeout;
    p.message = fmt::format("LSMS exceeded the time limit of {} s in {}", s_.timeout, dir.string());
  } else if (run.exit_code != 0) {
    p.status = Status::failed;
    p.message = fmt::format("LSMS {} (run directory {}); stderr tail:\n{}",
                            run.signal ? fmt::format("killed by signal {}", run.signal)
                                       : fmt::format("exited with status {}", run.exit_code),
                            dir.string(), run.stderr_tail);
  } else {
    p = harvest(dir, config);
  }
  p.wall_time = run.wall_time;
  if (p.ok() && !s_.keep_runs) std::filesystem::remove_all(dir);
  return p;
}

Properties LsmsDriver::harvest(const std::filesystem::path& dir,
                               const Configuration& config) const {
  Properties p;
  try {
    const lsms::InfoEvec info = lsms::parse_info_evec(dir / "info_evec_out");
    if (static_cast<int>(info.atoms.size()) != system_.num_sites())
      fail("{}: {} atoms, the system has {} sites", (dir / "info_evec_out").string(),
           info.atoms.size(), system_.num_sites());
    std::vector<Vec3> pos;
    for (const auto& a : info.atoms) pos.push_back(a.position);
    const std::vector<int> site = system_.lattice.match_positions(pos);
    p.charge.assign(system_.num_sites(), 0.0);
    p.moment.assign(system_.num_sites(), 0.0);
    for (std::size_t k = 0; k < info.atoms.size(); ++k) {
      const int i = site[k];
      if (info.atoms[k].Z != system_.species[config[i]].Z)
        fail("{}: atom {} has Z = {} but the configuration puts {} on site {}",
             (dir / "info_evec_out").string(), k, info.atoms[k].Z,
             system_.species[config[i]].symbol, i);
      p.charge[i] = info.atoms[k].electrons;
      p.moment[i] = info.atoms[k].moment;
    }
    p.energy = info.total_energy;
    p.band_energy = info.band_energy;
    p.fermi_energy = info.fermi_energy;
    const auto conv = lsms::judge_convergence(lsms::parse_kout(dir / "k.out"),
                                              s_.deck.rms_tolerance, s_.deck.nscf);
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

void register_lsms_driver(DriverRegistry& registry) {
  registry.add(
      "lsms",
      "real LSMS (DFT): writes decks, launches lsms/lsms_asa, parses info_evec_out and k.out",
      [](const DriverContext& ctx) {
        return std::make_unique<LsmsDriver>(
            ctx.system, LsmsSettings::from_deck(ctx.settings, ctx.system), ctx.comm);
      });
}

}  // namespace lsmss::drivers
