#include "montecarlo/fallback.hpp"

#include <chrono>

#include <fmt/format.h>

#include "dataset_builder/dataset.hpp"

namespace lsmss::mc {

Fallback::Fallback(const FallbackSettings& settings, std::unique_ptr<Driver> dft,
                   const System& system, WarningSink warn)
    : s_(settings), dft_(std::move(dft)), warn_(std::move(warn)), path_(settings.dataset) {
  if (!dft_) fail("fallback: no DFT driver");
  if (!(dft_->provides() & kEnergy))
    fail("fallback driver '{}' does not provide the energy", dft_->name());
  if (!std::filesystem::exists(path_))
    throw FileError(
        fmt::format("fallback dataset '{}' does not exist: build it first "
                    "(lsms-surrogate build) so acquired results extend it",
                    path_.string()));
  const dataset::Dataset ds = dataset::read_dataset(path_);
  if (ds.system.lattice.describe() != system.lattice.describe() ||
      ds.system.species != system.species)
    throw FileError(fmt::format(
        "fallback dataset '{}' holds {} on {}, the deck's system is {} on {}", path_.string(),
        ds.system.name(), ds.system.lattice.describe(), system.name(), system.lattice.describe()));
  if (ds.driver != s_.driver)
    throw FileError(
        fmt::format("fallback dataset '{}' was computed with driver '{}', the fallback "
                    "driver is '{}': their energies must not be mixed",
                    path_.string(), ds.driver, s_.driver));
  for (std::size_t r = 0; r < ds.rows(); ++r) known_.emplace(ds.configuration(r), ds.energy[r]);
  preloaded_ = known_.size();
  if (!s_.run.empty())
    earlier_ =
        static_cast<long>(dataset::count_rows_from(path_, dataset::Origin::acquired, s_.run));
}

Fallback::~Fallback() {
  try {
    flush();
  } catch (const std::exception& e) {
    warn(fmt::format("could not append {} acquired results to '{}': {}", pending_configs_.size(),
                     path_.string(), e.what()));
  }
}

void Fallback::warn(const std::string& line) const {
  if (warn_) warn_(line);
}

bool Fallback::limit_reached() const {
  return s_.max_fallbacks > 0 && earlier_ + calculations_ >= s_.max_fallbacks;
}

void Fallback::evaluate(std::span<const Configuration> configs,
                        std::span<EnergyResult* const> results) {
  std::vector<Configuration> batch;
  std::vector<std::vector<std::size_t>> owners;
  std::unordered_map<Configuration, std::size_t, ConfigurationHash> in_batch;
  for (std::size_t k = 0; k < configs.size(); ++k) {
    if (auto it = known_.find(configs[k]); it != known_.end()) {
      results[k]->energy = it->second;
      results[k]->dft = true;
      ++fallbacks_;
      continue;
    }
    if (failed_set_.count(configs[k])) continue;  // DFT failed before: the surrogate value stays
    auto [it, inserted] = in_batch.emplace(configs[k], batch.size());
    if (inserted) {
      if (s_.max_fallbacks > 0 &&
          earlier_ + calculations_ + static_cast<long>(batch.size()) >= s_.max_fallbacks) {
        in_batch.erase(it);  // over the budget: the surrogate value stays
        continue;
      }
      batch.push_back(configs[k]);
      owners.emplace_back();
    }
    owners[it->second].push_back(k);
  }
  if (batch.empty()) return;
  const auto t0 = std::chrono::steady_clock::now();
  const std::vector<Properties> props = dft_->evaluate(batch);
  dft_seconds_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (props.size() != batch.size())
    fail("fallback driver '{}' returned {} results for {} configurations", dft_->name(),
         props.size(), batch.size());
  calculations_ += static_cast<long>(batch.size());
  for (std::size_t b = 0; b < batch.size(); ++b) {
    const Properties& p = props[b];
    if (!p.ok() || !p.energy) {
      failed_ += static_cast<long>(owners[b].size());
      failed_set_.insert(batch[b]);
      warn(
          fmt::format("fallback driver '{}' failed ({}): {}; the surrogate value is used for "
                      "this configuration",
                      dft_->name(), status_name(p.status), p.message));
      continue;
    }
    known_.emplace(batch[b], *p.energy);
    pending_configs_.push_back(batch[b]);
    pending_results_.push_back(p);
    for (std::size_t k : owners[b]) {
      results[k]->energy = *p.energy;
      results[k]->dft = true;
      results[k]->acquired = k == owners[b].front();
      ++fallbacks_;
    }
  }
  if (static_cast<int>(pending_configs_.size()) >= s_.flush_interval) flush();
}

void Fallback::flush() {
  if (pending_configs_.empty()) return;
  dataset::append_results(path_, pending_configs_, pending_results_, dataset::Origin::acquired,
                          std::string(), s_.run);
  appended_ += static_cast<long>(pending_configs_.size());
  pending_configs_.clear();
  pending_results_.clear();
}

}  // namespace lsmss::mc
