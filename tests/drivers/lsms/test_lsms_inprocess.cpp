// LSMS in-process (lsms.mode = "in_process") against the real LSMS: the same CuZn B2 cell and
// deck give the launched lsms_asa's numbers; `build` on 1 rank and on a 2-rank LSMS group give
// the same rows; LSMS's Lua 5.2 decks and our Lua 5.4 decks both run in one process.
#include <gtest/gtest.h>

#include <chrono>
#include <map>

#include "core/deck.hpp"
#include "core/hdf5.hpp"
#include "core/mpi.hpp"
#include "dataset_builder/store.hpp"
#include "drivers/lsms/lsms_driver.hpp"
#include "drivers/register.hpp"
#include "fmt/format.h"
#include "lsms_plugin/inprocess/inprocess.hpp"
#include "lsms_plugin/kout.hpp"
#include "test_support.hpp"

using namespace lsmss;
using namespace lsmss::test;
namespace fs = std::filesystem;

namespace {

const fs::path kLsmsAsa = shared_dir() / "lsms/bin/lsms_asa";

// CuZn B2 (LSMS's regression system: a = 3.61 A, nspin 1, rLIZ 11 Bohr, 28-point contour),
// loosened so that a calculation takes 2 SCF iterations: LSMS stops at the second, where the
// charge rms (k.out column 4, about 1.9e-3) and the potential rms (column 5, about 2.7e-3) are
// below 3e-3 and the energy change (about 0.2 Ry) is below 0.5, relative or absolute.
// `changes`: Lua statements after the table (e.g. "lsms.nscf = 2").
std::string cuzn_lsms_table(const std::string& mode, const fs::path& work_dir,
                            const std::string& changes = "") {
  return fmt::format(
      "lsms = {{ mode = '{}', executable = '{}', kind = 'lsms_asa', launcher = {{}},\n"
      "  work_dir = '{}', nspin = 1, nscf = 8, rms_tolerance = 3e-3, energy_tolerance = 0.5,\n"
      "  efermi = 0.2646, timeout = 300,\n"
      "  energy_contour = '{{ npts = 28, grid = 2, ebot = -0.3, etop = 0.0, eitop = 0.825, "
      "eibot = 0.0025 }}',\n"
      "  species = {{ Cu = {{ rLIZ = 11.0, mag_mom = 0 }}, Zn = {{ rLIZ = 11.0, mag_mom = 0 }} "
      "}},\n"
      "}}\n{}\n",
      mode, kLsmsAsa.string(), work_dir.string(), changes);
}

const char* kSystem =
    "system = { lattice = 'bcc', a = 6.82192, supercell = {1,1,1}, species = {'Cu','Zn'} }\n"
    "driver = 'lsms'\n";

struct Timed {
  std::vector<Properties> p;
  double seconds = 0;
};

Timed evaluate(const std::string& deck_text, const std::vector<Configuration>& c) {
  DriverRegistry reg;
  drivers::register_builtin_drivers(reg);
  const Deck deck = Deck::from_string(deck_text, "cuzn.lua");
  const System sys = System::from_deck(deck.root().table("system"));
  auto driver = reg.create_from_deck(deck.root(), sys);
  const auto t0 = std::chrono::steady_clock::now();
  Timed t{driver->evaluate(c), 0.0};
  t.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return t;
}

}  // namespace

TEST(LsmsInProcess, GivesTheLaunchedExecutablesNumbers) {
  TempDir dir;
  const Configuration c = Configuration::from_string("01");
  // Launched first: the in-process run starts MPI in this process, whose environment a
  // directly launched child would then inherit.
  const Timed launched = evaluate(kSystem + cuzn_lsms_table("launcher", dir / "launched"), {c});
  // In-process after another configuration in the same process: nothing of one LSMS run may
  // leak into the next.
  const Timed inproc = evaluate(kSystem + cuzn_lsms_table("in_process", dir / "inproc"),
                                {Configuration::from_string("00"), c});
  const Properties& l = launched.p.front();
  const Properties& p = inproc.p.back();
  ASSERT_EQ(inproc.p.front().status, Status::ok) << inproc.p.front().message;
  ASSERT_EQ(l.status, Status::ok) << l.message;
  ASSERT_EQ(p.status, Status::ok) << p.message;
  ASSERT_TRUE(l.energy && p.energy);
  EXPECT_EQ(p.iterations, l.iterations);
  EXPECT_NEAR(*p.energy, *l.energy, 1e-8);
  EXPECT_NEAR(*p.fermi_energy, *l.fermi_energy, 1e-10);
  ASSERT_EQ(p.charge.size(), 2u);
  ASSERT_EQ(p.moment.size(), 2u);
  for (int i = 0; i < 2; ++i) {
    EXPECT_NEAR(p.charge[i], l.charge[i], 1e-8) << "site " << i;
    EXPECT_NEAR(p.moment[i], l.moment[i], 1e-8) << "site " << i;
  }
  // A real calculation, not a copy: the Cu (Z 29) and Zn (Z 30) sites hold about their electrons.
  EXPECT_NEAR(p.charge[0], 29.0, 0.5);
  EXPECT_NEAR(p.charge[1], 30.0, 0.5);
  EXPECT_NE(*p.energy, *inproc.p.front().energy);
  std::printf(
      "CuZn B2 '01': %d SCF iterations; E launched %.12f, in-process %.12f Ry (diff %.3e); "
      "charge diff %.3e %.3e e, moment diff %.3e %.3e muB; wall time launched %.2f s, "
      "in-process %.2f s\n",
      p.iterations, *l.energy, *p.energy, *p.energy - *l.energy, p.charge[0] - l.charge[0],
      p.charge[1] - l.charge[1], p.moment[0] - l.moment[0], p.moment[1] - l.moment[1], l.wall_time,
      p.wall_time);
}

// LSMS's own CuZn B2 regression deck (../shared/lsms/regression/05_cuzn_b2_asa), run in-process
// for 3 SCF iterations, reproduces its reference k.out.
TEST(LsmsInProcess, ReproducesLsmsRegressionReference) {
  const fs::path regression = shared_dir() / "lsms/regression/05_cuzn_b2_asa";
  TempDir dir;
  dir.write("i_lsms.lua", read_file(regression / "i_lsms.lua") + "\nnscf = 3\n");
  const mpi::Session session;
  const lsms::ProcessResult run = lsms::run_inprocess(MPI_COMM_SELF, dir.path(), "i_lsms.lua", 600);
  ASSERT_EQ(run.exit_code, 0) << run.stderr_tail;
  const auto got = lsms::parse_kout(dir / "k.out");
  const auto ref = lsms::parse_kout(regression / "k.out.ref");
  ASSERT_EQ(got.size(), 3u);
  for (std::size_t k = 0; k < got.size(); ++k) {
    EXPECT_NEAR(got[k].total_energy, ref[k].total_energy, 1e-8) << "iteration " << k;
    EXPECT_NEAR(got[k].fermi_energy, ref[k].fermi_energy, 1e-10) << "iteration " << k;
    std::printf("regression iteration %zu: E %.12f, reference %.12f Ry (diff %.3e)\n", k,
                got[k].total_energy, ref[k].total_energy,
                got[k].total_energy - ref[k].total_energy);
  }
}

// LSMS's bundled Lua 5.2 reads its decks and our Lua 5.4 reads ours, in one process, before and
// after LSMS ran: the two Lua libraries do not mix (the engine's symbols are hidden).
TEST(LsmsInProcess, LuaDecksOfBothVersionsInOneProcess) {
  auto our_deck_runs_on_lua54 = [] {
    const Deck d = Deck::from_string(
        "half = 7 // 2\nkind = math.type(half)\nversion = _VERSION\nbits = 6 & 3\n", "ours.lua");
    EXPECT_EQ(d.root().integer("half"), 3);
    EXPECT_EQ(d.root().string("kind"), "integer");
    EXPECT_EQ(d.root().string("version"), "Lua 5.4");
    EXPECT_EQ(d.root().integer("bits"), 2);
  };
  our_deck_runs_on_lua54();
  TempDir dir;
  // The LSMS deck shortens the run to 1 SCF iteration only when LSMS's own Lua 5.2 runs it.
  const Timed run = evaluate(
      kSystem + cuzn_lsms_table("in_process", dir / "runs",
                                "lsms.rms_tolerance = 1e-12\nlsms.extra_lua = \"if _VERSION == "
                                "'Lua 5.2' then nscf = 1 else nscf = 3 end\""),
      {Configuration::from_string("01")});
  const Properties& p = run.p.front();
  EXPECT_EQ(p.status, Status::not_converged) << p.message;
  EXPECT_EQ(p.iterations, 1) << p.message;
  our_deck_runs_on_lua54();
}

// A calculation past lsms.timeout stops at the next SCF iteration on every rank and is a
// time-out; an exception thrown inside LSMS (here libxc refusing an unknown functional) is a
// failed calculation with LSMS's reason; neither is data, and LSMS runs normally again in the
// same process afterwards.
TEST(LsmsInProcess, TimeOutsAndLsmsErrorsAreFailuresAndLsmsRunsAgain) {
  TempDir dir;
  const Configuration c = Configuration::from_string("01");
  const auto before = evaluate(kSystem + cuzn_lsms_table("in_process", dir / "a"), {c});
  const auto limited = evaluate(
      kSystem + cuzn_lsms_table("in_process", dir / "b", "lsms.timeout = 1\nlsms.nscf = 50"), {c});
  const auto broken = evaluate(
      kSystem + cuzn_lsms_table("in_process", dir / "c", "lsms.xc_functional = '{1, 99999}'"), {c});
  const auto after = evaluate(kSystem + cuzn_lsms_table("in_process", dir / "d"), {c});
  ASSERT_EQ(before.p.front().status, Status::ok) << before.p.front().message;
  EXPECT_EQ(limited.p.front().status, Status::timeout) << limited.p.front().message;
  EXPECT_FALSE(limited.p.front().energy);
  EXPECT_LT(limited.seconds, 60.0);  // one or two iterations, not 50
  EXPECT_EQ(broken.p.front().status, Status::failed) << broken.p.front().message;
  EXPECT_NE(broken.p.front().message.find("LSMS failed in-process: LSMS threw: Libxc Kernel Init "
                                          "Failed"),
            std::string::npos)
      << broken.p.front().message;
  EXPECT_FALSE(broken.p.front().energy);
  ASSERT_EQ(after.p.front().status, Status::ok) << after.p.front().message;
  EXPECT_NEAR(*after.p.front().energy, *before.p.front().energy, 1e-9);
  for (int i = 0; i < 2; ++i)
    EXPECT_NEAR(after.p.front().charge.at(i), before.p.front().charge.at(i), 1e-9);
}

namespace {

std::string build_deck(const fs::path& dir, const std::string& name, int ranks) {
  return fmt::format(
      "{}{}sampling = {{ unique_translations = true, seed = 3, folds = 2 }}\n"
      "dataset = {{ file = '{}', ranks_per_calculation = {}, retries = 0 }}\n",
      kSystem,
      cuzn_lsms_table("in_process", dir / (name + "-runs"),
                      fmt::format("lsms.ranks = {}\nlsms.keep_runs = true", ranks)),
      (dir / (name + ".h5")).string(), ranks);
}

// Energy per configuration row of a finished build (every row ok, once).
std::map<std::int64_t, double> ok_energies(const fs::path& file) {
  const auto f = dataset::DatasetFile::open(file, h5::Mode::read);
  std::map<std::int64_t, double> e;
  for (std::size_t k = 0; k < f.results().rows(); ++k) {
    EXPECT_EQ(f.results().row_status(k), Status::ok)
        << file << " row " << k << ": " << f.results().message[k];
    EXPECT_TRUE(e.emplace(f.results().config[k], f.results().energy[k]).second);
  }
  EXPECT_EQ(e.size(), f.configs().rows()) << file;
  return e;
}

}  // namespace

// A shell prefix that drops the MPI variables an earlier in-process test of this program set
// (a child started with them takes itself for part of this process's MPI job and fails); the
// root permission stays.
const char* kCleanMpiEnv =
    "for v in $(env | grep -o '^\\(OMPI\\|PMIX\\)[A-Za-z0-9_]*' | grep -v "
    "'^OMPI_ALLOW_RUN_AS_ROOT'); do unset $v; done; ";

// `lsms-surrogate build` in-process: serially (rank 0 runs LSMS); on 2 ranks (rank 0 and rank 1
// each run LSMS on their own); on 3 ranks with one 2-rank group (rank 0 coordinates, ranks 1-2
// enter LSMS together): the same rows.
TEST(LsmsInProcess, BuildOnOneAndTwoRanksAndATwoRankGroup) {
  TempDir dir;
  struct Setup {
    std::string name;
    int np, group;
  };
  std::map<std::string, std::map<std::int64_t, double>> energies;
  for (const Setup& s : {Setup{"serial", 1, 1}, Setup{"np2", 2, 1}, Setup{"group", 3, 2}}) {
    const auto deck = dir.write(s.name + ".lua", build_deck(dir.path(), s.name, s.group));
    const std::string launch =
        s.np == 1 ? "" : fmt::format("mpirun --oversubscribe --allow-run-as-root -np {} ", s.np);
    const auto r =
        run_command(fmt::format("{}cd '{}' && OMP_NUM_THREADS=1 {}{} build {}", kCleanMpiEnv,
                                dir.path().string(), launch, cli_path().string(), deck.string()));
    ASSERT_EQ(r.status, 0) << s.name << "\n" << r.output;
    energies[s.name] = ok_energies(dir / (s.name + ".h5"));
  }
  // The group's LSMS ran on 2 ranks (its pages, kept with keep_runs, say so).
  int runs = 0;
  for (const auto& e : fs::directory_iterator(dir / "group-runs")) {
    ++runs;
    const std::string out = read_file(e.path() / "stdout.txt");
    EXPECT_EQ(out.rfind("LSMS_3: Program started\nUsing 2 MPI processes", 0), 0u) << e.path();
  }
  EXPECT_EQ(runs, 3);
  const auto& e1 = energies["serial"];
  EXPECT_EQ(e1.size(), 3u);  // CuCu, CuZn, ZnZn
  for (const auto& [name, e] : energies) {
    ASSERT_EQ(e.size(), e1.size()) << name;
    for (const auto& [config, energy] : e1) {
      ASSERT_TRUE(e.count(config)) << name;
      EXPECT_NEAR(e.at(config), energy, 1e-8) << name << ", configuration row " << config;
      std::printf("%s: configuration row %lld: E %.12f Ry (1 rank: diff %.3e)\n", name.c_str(),
                  static_cast<long long>(config), e.at(config), e.at(config) - energy);
    }
  }
}
