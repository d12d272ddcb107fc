#include "montecarlo/walkers.hpp"
#include "montecarlo/sampler.hpp"

#include <numeric>

#include <omp.h>

#include "core/error.hpp"

namespace lsmss::mc {

Walkers::Walkers(int num_species, std::vector<Configuration> configs, std::vector<Rng> rngs)
    : ns_(num_species), configs_(std::move(configs)), rngs_(std::move(rngs)) {
  if (configs_.empty()) fail("Monte Carlo needs at least one walker");
  if (rngs_.size() != configs_.size()) fail("one random stream per walker is needed");
  n_ = configs_[0].num_sites();
  counts_.assign(ns_, 0);
  for (int i = 0; i < n_; ++i) {
    if (configs_[0][i] >= ns_) fail("species {} at site {} does not exist", configs_[0][i], i);
    ++counts_[configs_[0][i]];
  }
  offset_.assign(ns_ + 1, 0);
  for (int s = 0; s < ns_; ++s) offset_[s + 1] = offset_[s] + counts_[s];
  swaps_.resize(configs_.size());
  sites_.resize(configs_.size());
  pos_.resize(configs_.size());
  for (std::size_t w = 0; w < configs_.size(); ++w) {
    const Configuration& c = configs_[w];
    if (c.num_sites() != n_) fail("walkers have different cell sizes");
    for (int s = 0; s < ns_; ++s)
      if (c.count(s) != counts_[s]) fail("walker {} has another composition than walker 0", w);
    std::vector<int> fill(offset_.begin(), offset_.end() - 1);
    sites_[w].resize(n_);
    pos_[w].resize(n_);
    for (int i = 0; i < n_; ++i) {
      const int k = fill[c[i]]++;
      sites_[w][k] = i;
      pos_[w][i] = k;
    }
  }
}

bool Walkers::movable() const {
  int present = 0;
  for (int c : counts_) present += c > 0;
  return present >= 2;
}

std::vector<std::int32_t> Walkers::site_order() const {
  std::vector<std::int32_t> v;
  v.reserve(sites_.size() * n_);
  for (const auto& s : sites_) v.insert(v.end(), s.begin(), s.end());
  return v;
}

void Walkers::set_site_order(const std::vector<std::int32_t>& order) {
  if (order.size() != sites_.size() * static_cast<std::size_t>(n_))
    fail("site order of {} entries for {} walkers x {} sites", order.size(), sites_.size(), n_);
  for (std::size_t w = 0; w < sites_.size(); ++w) {
    std::vector<int> sites(order.begin() + w * n_, order.begin() + (w + 1) * n_);
    std::vector<int> pos(n_, -1);
    for (int s = 0; s < ns_; ++s)
      for (int k = offset_[s]; k < offset_[s + 1]; ++k) {
        const int i = sites[k];
        if (i < 0 || i >= n_ || pos[i] >= 0 || configs_[w][i] != s)
          fail("site order of walker {} does not match its configuration", w);
        pos[i] = k;
      }
    sites_[w] = std::move(sites);
    pos_[w] = std::move(pos);
  }
}

void Walkers::propose() {
  const int walkers = size();
  for (int w = 0; w < walkers; ++w) {
    Rng& r = rngs_[w];
    const Configuration& c = configs_[w];
    const int i = static_cast<int>(r.below_fast(static_cast<std::uint32_t>(n_)));
    const int si = c[i];
    // Index among the N - n_si sites of the other species, skipping species si's block.
    int k = static_cast<int>(r.below_fast(static_cast<std::uint32_t>(n_ - counts_[si])));
    if (k >= offset_[si]) k += counts_[si];
    swaps_[w] = Swap{i, sites_[w][k]};
  }
}

void Walkers::apply(int w) {
  Configuration& c = configs_[w];
  const Swap s = swaps_[w];
  const int ki = pos_[w][s.i], kj = pos_[w][s.j];
  // Site i takes j's species (and j's slot in the species blocks), and vice versa.
  sites_[w][ki] = s.j;
  sites_[w][kj] = s.i;
  pos_[w][s.i] = kj;
  pos_[w][s.j] = ki;
  const std::uint8_t t = c[s.i];
  c[s.i] = c[s.j];
  c[s.j] = t;
}

void Evaluator::reset(const Walkers& walkers, std::span<EnergyResult> out) {
  energy_.reset(walkers.configs(), out);
  apply_fallback(walkers, out, false);
}

void Evaluator::propose(const Walkers& walkers, std::span<EnergyResult> out) {
  energy_.propose(walkers.configs(), walkers.swaps(), out);
  apply_fallback(walkers, out, true);
}

void Evaluator::apply_fallback(const Walkers& walkers, std::span<EnergyResult> out, bool proposed) {
  if (!fallback_) return;
  fb_configs_.clear();
  fb_results_.clear();
  for (int w = 0; w < walkers.size(); ++w) {
    if (!fallback_->wants(out[w])) continue;
    Configuration c = walkers.config(w);
    if (proposed) {
      const Swap s = walkers.swaps()[w];
      std::swap(c[s.i], c[s.j]);
    }
    fb_configs_.push_back(std::move(c));
    fb_results_.push_back(&out[w]);
  }
  if (fb_configs_.empty()) return;
  fallback_->evaluate(fb_configs_, fb_results_);
  for (const EnergyResult* r : fb_results_) acquired_ += r->acquired;
}

void set_threads(int n) {
  if (n > 0) omp_set_num_threads(n);
}

Configuration random_configuration(std::span<const int> counts, Rng& rng) {
  std::vector<std::uint8_t> occ;
  for (std::size_t s = 0; s < counts.size(); ++s)
    occ.insert(occ.end(), counts[s], static_cast<std::uint8_t>(s));
  // Fisher-Yates with the portable generator; below_fast rather than lsmss::shuffle keeps the
  // starting configurations (and so every result) of existing runs bit-identical.
  for (int i = static_cast<int>(occ.size()) - 1; i > 0; --i)
    std::swap(occ[i], occ[rng.below_fast(static_cast<std::uint32_t>(i + 1))]);
  return Configuration(std::move(occ));
}

}  // namespace lsmss::mc
