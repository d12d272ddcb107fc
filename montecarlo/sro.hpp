#pragma once
// Warren-Cowley short-range order of a configuration on the neighbour shells of the lattice:
//   alpha_s^{pq} = 1 - P_s(q | p) / c_q = 1 - N_s^{pq} / (N z_s c_p c_q),
// N_s^{pq}: ordered (i, j) pairs with i of species p and j of species q in shell s (periodic
// images counted, so every site has the bulk coordination z_s). alpha < 0: unlike neighbours
// preferred (ordering); alpha > 0: like neighbours preferred (clustering); 0: random alloy.
#include <string>
#include <vector>

#include "core/configuration.hpp"
#include "core/lattice.hpp"

namespace lsmss::mc {

class WarrenCowley {
 public:
  WarrenCowley(const Lattice& lattice, int num_species, int shells);

  int shells() const { return static_cast<int>(shells_.distance.size()); }
  int num_species() const { return ns_; }
  // The (p, q) species pairs reported, p < q: one pair ((0,1)) for a binary.
  const std::vector<std::pair<int, int>>& pairs() const { return pairs_; }
  int values_per_config() const { return shells() * static_cast<int>(pairs_.size()); }
  // Column names "alpha_<shell>" (binary) or "alpha_<shell>_<p><q>"; shells count from 1.
  std::vector<std::string> names() const;
  double distance(int shell) const { return shells_.distance[shell]; }
  int coordination(int shell) const { return static_cast<int>(shells_.sites[shell][0].size()); }

  // Writes values_per_config() numbers, shell-major (shell s, pair k at s * pairs + k). A pair
  // whose species is absent from the configuration gives NaN.
  void compute(const Configuration& c, double* out) const;
  std::vector<double> compute(const Configuration& c) const;

 private:
  NeighborShells shells_;
  int ns_;
  std::vector<std::pair<int, int>> pairs_;
  mutable std::vector<long> counts_;  // scratch: ns x ns pair counts of one shell
};

}  // namespace lsmss::mc
