#include "montecarlo/sro.hpp"

#include <cmath>
#include <cstddef>

#include <fmt/format.h>

namespace lsmss::mc {

WarrenCowley::WarrenCowley(const Lattice& lattice, int num_species, int shells)
    : shells_(lattice.shells(shells)),
      ns_(num_species),
      counts_(static_cast<std::size_t>(num_species) * num_species) {
  for (int p = 0; p < ns_; ++p)
    for (int q = p + 1; q < ns_; ++q) pairs_.emplace_back(p, q);
}

std::vector<std::string> WarrenCowley::names() const {
  std::vector<std::string> n;
  for (int s = 0; s < shells(); ++s)
    for (auto [p, q] : pairs_)
      n.push_back(ns_ == 2 ? fmt::format("alpha_{}", s + 1)
                           : fmt::format("alpha_{}_{}{}", s + 1, p, q));
  return n;
}

void WarrenCowley::compute(const Configuration& c, double* out) const {
  const int n = c.num_sites();
  std::vector<int> atoms(ns_, 0);
  for (int i = 0; i < n; ++i) ++atoms[c[i]];
  const auto& occ = c.occupation();
  for (int s = 0; s < shells(); ++s) {
    std::fill(counts_.begin(), counts_.end(), 0);
    const auto& nb = shells_.sites[s];
    for (int i = 0; i < n; ++i) {
      long* row = counts_.data() + static_cast<std::ptrdiff_t>(occ[i]) * ns_;
      for (int j : nb[i]) ++row[occ[j]];
    }
    const double z = static_cast<double>(nb[0].size());
    for (std::size_t k = 0; k < pairs_.size(); ++k) {
      const auto [p, q] = pairs_[k];
      const double cp = static_cast<double>(atoms[p]) / n, cq = static_cast<double>(atoms[q]) / n;
      out[s * pairs_.size() + k] =
          (atoms[p] == 0 || atoms[q] == 0) ? NAN : 1.0 - counts_[p * ns_ + q] / (n * z * cp * cq);
    }
  }
}

std::vector<double> WarrenCowley::compute(const Configuration& c) const {
  std::vector<double> v(values_per_config());
  compute(c, v.data());
  return v;
}

}  // namespace lsmss::mc
