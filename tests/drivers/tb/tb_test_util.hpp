#pragma once
// Helpers shared by the tb tests: systems, drivers from deck text, LSMS samples as configurations.
#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "core/deck.hpp"
#include "core/rng.hpp"
#include "core/system.hpp"
#include "drivers/tb/tb_driver.hpp"
#include "fixtures.hpp"
#include "lsms_plugin/info_evec.hpp"
#include "test_support.hpp"

namespace lsmss::tbtest {

using fixtures::make_system;

// The systems of the real data.
inline System fept() {
  return fixtures::fept_system();
}
inline System cuau() {
  return fixtures::cuau_system();
}

// A tb driver with the settings `tb = { <settings> }`; unknown keys are rejected as in the CLI.
inline std::unique_ptr<tb::TbDriver> make_driver(const System& sys, const std::string& settings) {
  const Deck deck = Deck::from_string("tb = {" + settings + "}", "test.lua");
  const DeckTable t = deck.root().table("tb");
  auto settings_read = tb::TbSettings::from_deck(t);
  t.finish();
  return std::make_unique<tb::TbDriver>(sys, settings_read);
}

// An LSMS output file of ../shared/data/lsms/samples mapped onto our lattice: the
// configuration (species index 0 = first species of `sys`), and for every site of ours the
// LSMS charge transfer (electrons - Z) and moment.
struct LsmsSample {
  Configuration config;
  std::vector<double> charge_transfer;
  std::vector<double> moment;
  double total_energy = 0.0;
};

inline LsmsSample load_sample(const System& sys, const std::string& relative) {
  const auto info = lsms::parse_info_evec(test::shared_dir() / "data/lsms/samples" / relative);
  std::vector<Vec3> pos;
  for (const auto& a : info.atoms) pos.push_back(a.position);
  const std::vector<int> site = sys.lattice.match_positions(pos);
  LsmsSample s;
  std::vector<std::uint8_t> occ(pos.size());
  s.charge_transfer.resize(pos.size());
  s.moment.resize(pos.size());
  for (std::size_t k = 0; k < pos.size(); ++k) {
    const int sp = sys.species_index(info.atoms[k].Z);
    occ[site[k]] = static_cast<std::uint8_t>(sp);
    s.charge_transfer[site[k]] = info.atoms[k].electrons - info.atoms[k].Z;
    s.moment[site[k]] = info.atoms[k].moment;
  }
  s.config = Configuration(occ);
  s.total_energy = info.total_energy;
  return s;
}

// A random configuration with `count0` atoms of species 0 (deterministic for a seed).
inline Configuration random_config(int sites, int count0, unsigned seed) {
  std::vector<std::uint8_t> occ(sites, 1);
  for (int i = 0; i < count0; ++i) occ[i] = 0;
  Rng rng(seed);
  shuffle(occ, rng);
  return Configuration(occ);
}

inline double mean_over(const Configuration& c, const std::vector<double>& v, int species) {
  double s = 0.0;
  int n = 0;
  for (int i = 0; i < c.num_sites(); ++i)
    if (c[i] == species) s += v[i], ++n;
  return n ? s / n : 0.0;
}

}  // namespace lsmss::tbtest
