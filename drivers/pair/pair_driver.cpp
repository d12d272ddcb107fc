#include "drivers/pair/pair_driver.hpp"

#include <chrono>
#include <thread>

#include <fmt/format.h>

namespace lsmss::drivers {
namespace {

class PairDriver : public Driver {
 public:
  PairDriver(System sys, PairSettings s)
      : sys_(std::move(sys)),
        s_(std::move(s)),
        shells_(sys_.lattice.shells(static_cast<int>(s_.shells.size()))) {}

  std::string name() const override { return "pair"; }
  PropertyMask provides() const override { return kEnergy | kCharge | kMoment; }

  std::vector<Properties> evaluate(std::span<const Configuration> configs) override {
    std::vector<Properties> out;
    out.reserve(configs.size());
    for (const auto& c : configs) {
      if (s_.delay_ms > 0)
        std::this_thread::sleep_for(std::chrono::duration<double, std::milli>(s_.delay_ms));
      out.push_back(one(c));
    }
    return out;
  }

 private:
  Properties one(const Configuration& c) const {
    Properties p;
    if (c.num_sites() != sys_.num_sites()) {
      p.message =
          fmt::format("configuration has {} sites, the system {}", c.num_sites(), sys_.num_sites());
      return p;
    }
    // Deterministic failures by hash, so every run (serial or MPI) fails the same ones.
    const double u = static_cast<double>(c.hash() >> 11) * 0x1.0p-53;
    if (u < s_.fail_fraction) {
      p.message = "scripted failure (pair.fail_fraction)";
      return p;
    }
    const int n = c.num_sites(), ns = sys_.num_species();
    double e = 0;
    for (int i = 0; i < n; ++i) e += s_.onsite[c[i]];
    for (std::size_t sh = 0; sh < s_.shells.size(); ++sh)
      for (int i = 0; i < n; ++i)
        for (int j : shells_.sites[sh][i]) {
          const int a = std::min(c[i], c[j]), b = std::max(c[i], c[j]);
          // Upper-triangle index of (a, b); every bond is seen from both ends, hence 1/2.
          e += 0.5 * s_.shells[sh][a * ns - a * (a - 1) / 2 + (b - a)];
        }
    p.energy = e;
    p.charge.resize(n);
    p.moment.resize(n);
    const auto& nn = shells_.sites[0];
    for (int i = 0; i < n; ++i) {
      int like = 0;
      double q = sys_.species[c[i]].Z;
      for (int j : nn[i]) {
        if (c[j] == c[i])
          ++like;
        else
          q += c[i] < c[j] ? s_.transfer : -s_.transfer;  // the lower species index gains
      }
      p.charge[i] = q;
      const double frac =
          nn[i].empty() ? 0.0 : static_cast<double>(like) / static_cast<double>(nn[i].size());
      p.moment[i] = s_.moments[c[i]] * (1.0 + s_.moment_coupling * (frac - 0.5));
    }
    p.status = Status::ok;
    p.iterations = 1;
    return p;
  }

  System sys_;
  PairSettings s_;
  NeighborShells shells_;
};

}  // namespace

PairSettings PairSettings::from_deck(const DeckTable& t, const System& sys) {
  const auto ns = static_cast<std::size_t>(sys.num_species());
  PairSettings s;
  s.onsite = t.numbers("onsite", std::vector<double>(ns, 0.0));
  if (s.onsite.size() != ns)
    t.error("onsite", fmt::format("needs one value (Ry) per species: {}", ns));
  // Shell k's interactions are `vk`, k = 1..4, until the first one missing.
  const std::size_t pairs = ns * (ns + 1) / 2;
  for (int k = 1; k <= 4; ++k) {
    const std::string key = fmt::format("v{}", k);
    if (!t.has(key)) {
      t.allow({key});
      continue;
    }
    if (static_cast<int>(s.shells.size()) != k - 1)
      t.error(key, fmt::format("shell {} is given without shell {}", k, k - 1));
    s.shells.push_back(t.numbers(key));
    if (s.shells.back().size() != pairs)
      t.error(key, fmt::format("needs {} values (Ry per bond: {}), got {}", pairs,
                               ns == 2 ? "AA, AB, BB" : "upper triangle of the species pairs",
                               s.shells.back().size()));
  }
  if (s.shells.empty()) {
    // Default: unlike nearest-neighbour bonds favoured (an ordering alloy).
    std::vector<double> v(pairs, 0.0);
    for (std::size_t a = 0, idx = 0; a < ns; ++a)
      for (std::size_t b = a; b < ns; ++b, ++idx) v[idx] = a == b ? 0.0 : -0.01;
    s.shells.push_back(v);
  }
  s.transfer = t.number_in("transfer", s.transfer, -10.0, 10.0);
  s.moments = t.numbers("moments", std::vector<double>(ns, 0.0));
  if (s.moments.size() != ns)
    t.error("moments", fmt::format("needs one value (muB) per species: {}", ns));
  s.moment_coupling = t.number_in("moment_coupling", 0.0, -10.0, 10.0);
  s.delay_ms = t.number_in("delay_ms", 0.0, 0.0, 3.6e6);
  s.fail_fraction = t.number_in("fail_fraction", 0.0, 0.0, 1.0);
  return s;
}

void register_pair_driver(DriverRegistry& registry) {
  registry.add(
      "pair",
      "toy pair-interaction model for tests and demos (not physics): exact, cheap, optional "
      "delay and scripted failures",
      [](const DriverContext& ctx) -> std::unique_ptr<Driver> {
        return std::make_unique<PairDriver>(ctx.system,
                                            PairSettings::from_deck(ctx.settings, ctx.system));
      });
}

}  // namespace lsmss::drivers
