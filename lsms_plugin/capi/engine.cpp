// The C API's engine over the C++ libraries: nn::Ensemble for evaluations, the Monte Carlo fast
// path (mc::FirstLayerEnergy) for the walkers. The only file of lsms_plugin/capi that includes
// project headers besides the C header.
#include "engine.hpp"

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <span>
#include <utility>

#include "core/configuration.hpp"
#include "core/error.hpp"
#include "core/system.hpp"
#include "lsms_surrogate.h"
#include "montecarlo/energy.hpp"
#include "nn/first_layer.hpp"
#include "nn/model.hpp"

namespace lsmss::capi {
namespace {

// The first layer of every walker is re-summed from scratch after this many proposals, so float
// rounding of the incremental updates never accumulates (FirstLayerEnergy::drifts()).
constexpr long kRefreshProposals = 1000;

// Ensemble spread as the C API reports it: 0 for a single model (as nn::Ensemble::predict).
double spread(double std) {
  return std::isnan(std) ? 0.0 : std;
}

void fill_configuration(Configuration& c, const int* occupation, int sites) {
  if (c.num_sites() != sites) c = Configuration(std::vector<std::uint8_t>(sites));
  for (int i = 0; i < sites; ++i) c[i] = static_cast<std::uint8_t>(occupation[i]);
}

class NnEngine final : public Engine {
 public:
  explicit NnEngine(nn::Ensemble ensemble)
      : ensemble_(std::move(ensemble)), workspace_(ensemble_.make_workspace()) {
    const System& sys = ensemble_.member(0).system();
    info_.num_sites = sys.num_sites();
    info_.num_species = sys.num_species();
    info_.num_models = static_cast<int>(ensemble_.size());
    const PropertyMask tasks = ensemble_.tasks();
    if (tasks & kEnergy) info_.tasks |= LSMS_SURROGATE_TASK_ENERGY;
    if (tasks & kCharge) info_.tasks |= LSMS_SURROGATE_TASK_CHARGE;
    if (tasks & kMoment) info_.tasks |= LSMS_SURROGATE_TASK_MOMENT;
    for (const Species& s : sys.species) {
      info_.Z.push_back(s.Z);
      info_.symbols.push_back(s.symbol);
    }
    info_.lattice_kind = lattice_kind_name(sys.lattice.kind());
    info_.a = sys.lattice.a();
    info_.c = sys.lattice.c();
    info_.supercell = sys.lattice.supercell();
    for (const Vec3& r : sys.lattice.positions())
      info_.positions.insert(info_.positions.end(), r.begin(), r.end());
  }

  const ModelInfo& info() const override { return info_; }

  void match_positions(const double* positions, int count, double tolerance,
                       int* site) const override {
    std::vector<Vec3> pos(count);
    for (int k = 0; k < count; ++k) {
      const double* r = positions + static_cast<std::size_t>(3) * k;
      pos[k] = {r[0], r[1], r[2]};
    }
    std::vector<int> sites;
    try {
      sites = ensemble_.member(0).system().lattice.match_positions(pos, tolerance);
    } catch (const Error& e) {
      throw Failure(LSMS_SURROGATE_ERROR_POSITION, e.what());
    }
    std::copy(sites.begin(), sites.end(), site);
  }

  void evaluate(const int* occupation, int count, const EvaluateOutputs& out) override {
    const int N = info_.num_sites;
    if (static_cast<int>(batch_.size()) < count) batch_.resize(count);
    for (int k = 0; k < count; ++k)
      fill_configuration(batch_[k], occupation + static_cast<std::size_t>(k) * N, N);
    const auto props =
        ensemble_.predict(std::span<const Configuration>(batch_.data(), count), workspace_);
    for (int k = 0; k < count; ++k) {
      const Properties& p = props[k];
      const std::size_t at = static_cast<std::size_t>(k) * N;
      if (out.energy) out.energy[k] = p.energy.value_or(NAN);
      if (out.energy_std) out.energy_std[k] = p.energy_std.value_or(NAN);
      auto copy = [&](double* dst, const std::vector<double>& src) {
        if (dst) std::copy(src.begin(), src.end(), dst + at);
      };
      copy(out.charge, p.charge);
      copy(out.charge_std, p.charge_std);
      copy(out.moment, p.moment);
      copy(out.moment_std, p.moment_std);
    }
  }

  void mc_set(const int* occupation, int walkers, double* energy, double* energy_std) override {
    if (!fast_) {
      std::vector<nn::FirstLayerModel*> members;
      for (std::size_t m = 0; m < ensemble_.size(); ++m) {
        fast_members_.push_back(std::make_unique<nn::ModelFirstLayer>(ensemble_.member(m)));
        members.push_back(fast_members_.back().get());
      }
      fast_group_ = nn::make_first_layer_group(ensemble_);
      fast_ = std::make_unique<mc::FirstLayerEnergy>(std::move(members), info_.num_species,
                                                     fast_group_.get());
    }
    const int N = info_.num_sites;
    walkers_.resize(walkers);
    for (int w = 0; w < walkers; ++w)
      fill_configuration(walkers_[w], occupation + static_cast<std::size_t>(w) * N, N);
    current_.assign(walkers, {});
    proposed_.assign(walkers, {});
    swaps_.assign(walkers, {});
    pending_.assign(walkers, 0);
    refresh();
    mc_outputs(current_, nullptr, energy, energy_std);
  }

  int mc_walkers() const override { return static_cast<int>(walkers_.size()); }

  void mc_propose(const int* site_i, const int* site_j, double* delta_energy, double* energy,
                  double* energy_std) override {
    if (proposals_since_refresh_ >= kRefreshProposals) refresh();
    for (std::size_t w = 0; w < walkers_.size(); ++w) swaps_[w] = {site_i[w], site_j[w]};
    fast_->propose(walkers_, swaps_, proposed_);
    ++proposals_since_refresh_;
    std::fill(pending_.begin(), pending_.end(), 1);
    mc_outputs(proposed_, delta_energy, energy, energy_std);
  }

  bool mc_pending(int walker) const override { return pending_[walker] != 0; }

  void mc_accept(int w) override {
    fast_->accept(w);
    std::swap(walkers_[w][swaps_[w].i], walkers_[w][swaps_[w].j]);
    current_[w] = proposed_[w];
    pending_[w] = 0;
  }

  void mc_reject(int w) override { pending_[w] = 0; }

  void mc_walker(int w, int* occupation, double* energy, double* energy_std) const override {
    if (occupation)
      for (int i = 0; i < info_.num_sites; ++i) occupation[i] = walkers_[w][i];
    if (energy) *energy = current_[w].energy;
    if (energy_std) *energy_std = spread(current_[w].std);
  }

 private:
  void refresh() {
    fast_->reset(walkers_, current_);
    proposals_since_refresh_ = 0;
  }
  void mc_outputs(const std::vector<mc::EnergyResult>& r, double* delta_energy, double* energy,
                  double* energy_std) const {
    for (std::size_t w = 0; w < r.size(); ++w) {
      if (delta_energy) delta_energy[w] = r[w].energy - current_[w].energy;
      if (energy) energy[w] = r[w].energy;
      if (energy_std) energy_std[w] = spread(r[w].std);
    }
  }

  nn::Ensemble ensemble_;
  ModelInfo info_;
  std::vector<Configuration> batch_;  // evaluate()'s configurations, reused between calls
  nn::EnsembleWorkspace workspace_;   // for evaluate()
  std::vector<std::unique_ptr<nn::ModelFirstLayer>> fast_members_;
  std::unique_ptr<nn::FirstLayerGroup> fast_group_;  // the members together, on cuda
  std::unique_ptr<mc::FirstLayerEnergy> fast_;
  std::vector<Configuration> walkers_;
  std::vector<mc::Swap> swaps_;
  std::vector<mc::EnergyResult> current_, proposed_;
  std::vector<char> pending_;
  long proposals_since_refresh_ = 0;
};

}  // namespace

std::unique_ptr<Engine> Engine::open(const std::vector<std::string>& paths,
                                     const std::string& backend) {
  std::vector<std::filesystem::path> files;
  for (const auto& p : paths) {
    if (!std::filesystem::exists(p))
      throw Failure(LSMS_SURROGATE_ERROR_FILE, "model file '" + p + "': no such file");
    files.emplace_back(p);
  }
  try {
    return std::make_unique<NnEngine>(nn::Ensemble::load(files, backend));
  } catch (const NotCompiledError& e) {
    throw Failure(LSMS_SURROGATE_ERROR_BACKEND, e.what());
  } catch (const Error& e) {
    // Unreadable or malformed files, members that disagree: all about the files given.
    throw Failure(LSMS_SURROGATE_ERROR_FILE, e.what());
  }
}

}  // namespace lsmss::capi
