#pragma once
// A test double of the Driver interface: a pair-interaction energy with exactly known values,
// charges and moments per species, and scripted failures. Used only by tests.
#include <set>

#include "core/driver.hpp"

namespace lsmss::test {

class FakeDriver : public Driver {
 public:
  // energy = e0 * count(species 0) + v * (number of unlike nearest-neighbour bonds)
  FakeDriver(const System& sys, double e0, double v, std::set<std::uint64_t> fail_hashes = {})
      : sys_(sys), e0_(e0), v_(v), fail_(std::move(fail_hashes)), shells_(sys.lattice.shells(1)) {}

  std::string name() const override { return "fake"; }
  PropertyMask provides() const override { return kEnergy | kCharge | kMoment; }

  std::vector<Properties> evaluate(std::span<const Configuration> configs) override {
    std::vector<Properties> out;
    for (const auto& c : configs) {
      ++calls;
      Properties p;
      if (fail_.count(c.hash())) {
        p.status = Status::failed;
        p.message = "scripted failure";
        out.push_back(p);
        continue;
      }
      p.status = Status::ok;
      p.energy = energy(c);
      for (int i = 0; i < c.num_sites(); ++i) {
        p.charge.push_back(sys_.species[c[i]].Z + (c[i] == 0 ? 0.1 : -0.1));
        p.moment.push_back(c[i] == 0 ? 2.0 : 0.1);
      }
      out.push_back(std::move(p));
    }
    return out;
  }

  double energy(const Configuration& c) const {
    int unlike = 0;
    for (int i = 0; i < c.num_sites(); ++i)
      for (int j : shells_.sites[0][i]) unlike += c[i] != c[j];
    return e0_ * c.count(0) + v_ * unlike / 2;
  }

  long calls = 0;

 private:
  const System& sys_;
  double e0_, v_;
  std::set<std::uint64_t> fail_;
  NeighborShells shells_;
};

}  // namespace lsmss::test
