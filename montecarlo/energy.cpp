#include "montecarlo/energy.hpp"

#include <algorithm>
#include <cstring>

#include <fmt/format.h>
#include <omp.h>

#include "core/error.hpp"
#include "nn/core/network.hpp"

namespace lsmss::mc {

namespace {

void apply_swap(Configuration& c, const Swap& s) {
  const std::uint8_t t = c[s.i];
  c[s.i] = c[s.j];
  c[s.j] = t;
}

EnergyResult from_properties(const Properties& p) {
  EnergyResult r;
  r.ok = p.ok() && p.energy.has_value() && std::isfinite(*p.energy);
  r.energy = r.ok ? *p.energy : NAN;
  if (p.energy_std) r.std = *p.energy_std;
  return r;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
DriverEnergy::DriverEnergy(Driver& driver, bool cache, std::size_t cache_limit)
    : driver_(driver), cache_(cache), cache_limit_(cache_limit) {
  if (!(driver.provides() & kEnergy))
    fail("driver '{}' does not provide the energy, which Monte Carlo needs", driver.name());
}

std::string DriverEnergy::describe() const {
  return fmt::format("driver '{}' (one batched evaluate per step{})", driver_.name(),
                     cache_ ? ", results memoized by configuration" : "");
}

void DriverEnergy::evaluate(std::span<const Configuration> configs, std::span<EnergyResult> out) {
  // Misses (deduplicated inside the batch) go to the driver in one call.
  batch_.clear();
  batch_owner_.assign(configs.size(), -1);
  std::unordered_map<Configuration, int, ConfigurationHash> in_batch;
  for (std::size_t w = 0; w < configs.size(); ++w) {
    if (cache_) {
      if (auto it = memo_.find(configs[w]); it != memo_.end()) {
        out[w] = it->second;
        ++hits_;
        continue;
      }
      auto [it, inserted] = in_batch.emplace(configs[w], static_cast<int>(batch_.size()));
      if (!inserted) {
        batch_owner_[w] = it->second;
        ++hits_;
        continue;
      }
    }
    batch_owner_[w] = static_cast<int>(batch_.size());
    batch_.push_back(configs[w]);
  }
  if (batch_.empty()) return;
  const std::vector<Properties> props = driver_.evaluate(batch_);
  if (props.size() != batch_.size())
    fail("driver '{}' returned {} results for {} configurations", driver_.name(), props.size(),
         batch_.size());
  evaluations_ += static_cast<long>(batch_.size());
  std::vector<EnergyResult> res(props.size());
  for (std::size_t k = 0; k < props.size(); ++k) {
    res[k] = from_properties(props[k]);
    saw_std_ = saw_std_ || std::isfinite(res[k].std);
    if (cache_ && res[k].ok && memo_.size() < cache_limit_) memo_.emplace(batch_[k], res[k]);
  }
  for (std::size_t w = 0; w < configs.size(); ++w)
    if (batch_owner_[w] >= 0) out[w] = res[batch_owner_[w]];
}

void DriverEnergy::reset(std::span<const Configuration> configs, std::span<EnergyResult> out) {
  evaluate(configs, out);
}

void DriverEnergy::propose(std::span<const Configuration> configs, std::span<const Swap> swaps,
                           std::span<EnergyResult> out) {
  proposals_.resize(configs.size());
  for (std::size_t w = 0; w < configs.size(); ++w) {
    proposals_[w] = configs[w];
    apply_swap(proposals_[w], swaps[w]);
  }
  evaluate(proposals_, out);
}

// ---------------------------------------------------------------------------------------------
FirstLayerEnergy::FirstLayerEnergy(std::vector<FirstLayerModel*> members, int num_species,
                                   FirstLayerGroup* group)
    : members_(std::move(members)), group_(group), ns_(num_species) {
  if (members_.empty()) fail("the fast path needs at least one model");
  for (const auto* m : members_) {
    if (m->num_features() != members_[0]->num_features())
      fail("ensemble members have different input sizes ({} and {})", m->num_features(),
           members_[0]->num_features());
    if (m->num_features() % ns_ != 0)
      fail("model input size {} is not sites x {} species", m->num_features(), ns_);
  }
  z_.resize(members_.size());
  zp_.resize(members_.size());
  e_.resize(members_.size());
}

std::string FirstLayerEnergy::describe() const {
  return fmt::format(
      "surrogate fast path ({} model{}, first-layer width {}, incremental swap "
      "updates, one batched product per layer and step{})",
      members_.size(), members_.size() > 1 ? "s" : "", members_[0]->width(),
      group_ ? " for all models together" : "");
}

void FirstLayerEnergy::resize(int walkers) {
  if (walkers == walkers_) return;
  walkers_ = walkers;
  for (std::size_t m = 0; m < members_.size(); ++m) {
    const std::size_t n = static_cast<std::size_t>(walkers) * members_[m]->width();
    z_[m].assign(n, 0.0f);
    zp_[m].assign(n, 0.0f);
    e_[m].assign(walkers, 0.0);
  }
}

void FirstLayerEnergy::combine(int walkers, std::span<EnergyResult> out) {
  const std::size_t k = members_.size();
  for (int w = 0; w < walkers; ++w) {
    double mean = 0;
    for (std::size_t m = 0; m < k; ++m) mean += e_[m][w];
    mean /= static_cast<double>(k);
    EnergyResult r;
    r.energy = mean;
    if (k > 1) {
      double var = 0;
      for (std::size_t m = 0; m < k; ++m) var += (e_[m][w] - mean) * (e_[m][w] - mean);
      r.std = std::sqrt(var / static_cast<double>(k - 1));
    }
    r.ok = std::isfinite(r.energy);
    out[w] = r;
  }
}

void FirstLayerEnergy::energies(int walkers, const std::vector<std::vector<float>>& z) {
  double macs = 0;
  for (const auto* m : members_) macs += m->macs_after_first() * walkers;
  // One thread for small batches (restored afterwards); the backends read the OpenMP thread
  // count when they run, and a batch size always runs with the same count.
  const int saved = omp_get_max_threads();
  const bool serial = macs / static_cast<double>(members_.size()) < kParallelMacs && saved > 1;
  if (serial) omp_set_num_threads(1);
  try {
    if (group_)
      group_->energies_from_z1(z, walkers, e_);
    else
      for (std::size_t m = 0; m < members_.size(); ++m)
        members_[m]->energy_from_z1(z[m], walkers, e_[m]);
  } catch (...) {
    if (serial) omp_set_num_threads(saved);
    throw;
  }
  if (serial) omp_set_num_threads(saved);
}

void FirstLayerEnergy::reset(std::span<const Configuration> configs, std::span<EnergyResult> out) {
  const int walkers = static_cast<int>(configs.size());
  resize(walkers);
  const int features = members_[0]->num_features();
  for (const auto& c : configs)
    if (c.num_sites() * ns_ != features)
      fail("configuration of {} sites does not fit a model with {} inputs ({} species)",
           c.num_sites(), features, ns_);
  for (std::size_t m = 0; m < members_.size(); ++m) {
    const FirstLayerModel& model = *members_[m];
    const int W = model.width();
    const auto bias = model.bias();
    // Summed in double so the refreshed z1 carries no accumulated rounding.
    std::vector<double> acc(W);
    for (int w = 0; w < walkers; ++w) {
      std::copy(bias.begin(), bias.end(), acc.begin());
      const Configuration& c = configs[w];
      for (int i = 0; i < c.num_sites(); ++i) {
        const auto row = model.row(i * ns_ + c[i]);
        for (int o = 0; o < W; ++o) acc[o] += row[o];
      }
      float* z = z_[m].data() + static_cast<std::size_t>(w) * W;
      for (int o = 0; o < W; ++o) z[o] = static_cast<float>(acc[o]);
    }
  }
  energies(walkers, z_);
  evaluations_ += walkers;
  combine(walkers, out);
}

void FirstLayerEnergy::propose(std::span<const Configuration> configs, std::span<const Swap> swaps,
                               std::span<EnergyResult> out) {
  const int walkers = static_cast<int>(configs.size());
  if (walkers != walkers_) fail("FirstLayerEnergy::propose before reset for {} walkers", walkers);
  for (std::size_t m = 0; m < members_.size(); ++m) {
    const FirstLayerModel& model = *members_[m];
    const int W = model.width();
    const int ns = ns_;
    const float* zc = z_[m].data();
    float* zp = zp_[m].data();
#pragma omp parallel for schedule(static) if (walkers >= 256)
    for (int w = 0; w < walkers; ++w) {
      const Configuration& c = configs[w];
      const int i = swaps[w].i, j = swaps[w].j;
      const int si = c[i], sj = c[j];
      // After the swap site i holds sj and site j holds si.
      const float* add_i = model.row(i * ns + sj).data();
      const float* sub_i = model.row(i * ns + si).data();
      const float* add_j = model.row(j * ns + si).data();
      const float* sub_j = model.row(j * ns + sj).data();
      const float* z = zc + static_cast<std::size_t>(w) * W;
      float* p = zp + static_cast<std::size_t>(w) * W;
      for (int o = 0; o < W; ++o) p[o] = z[o] + ((add_i[o] - sub_i[o]) + (add_j[o] - sub_j[o]));
    }
  }
  energies(walkers, zp_);
  evaluations_ += walkers;
  combine(walkers, out);
}

void FirstLayerEnergy::accept(int w) {
  for (std::size_t m = 0; m < members_.size(); ++m) {
    const std::size_t W = members_[m]->width();
    std::memcpy(z_[m].data() + w * W, zp_[m].data() + w * W, sizeof(float) * W);
  }
}

}  // namespace lsmss::mc
