#pragma once
// Driver `pair`: a toy model for tests and demos, not physics. Energy = on-site terms plus pair
// interactions over neighbour shells; charges move a fixed amount across every unlike
// nearest-neighbour bond (exactly neutral); moments are per-species values shifted by the
// number of like neighbours. Exact, deterministic and cheap, with an optional delay per
// configuration to stand in for an expensive calculation, and scripted failures.
#include "core/driver.hpp"

namespace lsmss::drivers {

struct PairSettings {
  std::vector<double> onsite;               // Ry per atom, per species
  std::vector<std::vector<double>> shells;  // Ry per bond, per shell: AA, AB, BB (upper triangle)
  double transfer = 0.05;                   // e per unlike nearest-neighbour bond
  std::vector<double> moments;              // muB per species
  double moment_coupling = 0.0;             // relative moment change per like-neighbour fraction
  double delay_ms = 0.0;                    // sleep per configuration
  double fail_fraction = 0.0;               // share of configurations that always fail

  static PairSettings from_deck(const DeckTable& t, const System& sys);
};

void register_pair_driver(DriverRegistry& registry);

}  // namespace lsmss::drivers
