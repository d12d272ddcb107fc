#include "drivers/tb/tb_driver.hpp"

#include <chrono>
#include <cmath>

#include "core/blas_runtime.hpp"
#include "core/data_path.hpp"
#include "core/error.hpp"

namespace lsmss::tb {
namespace {

// Parameter file lookup: absolute path; else relative to the deck's folder, then the working
// directory, then the shipped data folder (data/tb/...).
std::filesystem::path resolve_parameters(const DeckTable& t, const std::string& name) {
  std::filesystem::path p(name);
  if (p.is_absolute()) return p;
  const std::filesystem::path deck_dir = std::filesystem::path(t.file()).parent_path();
  if (!t.file().empty() && t.file() != "<deck>" && std::filesystem::exists(deck_dir / p))
    return deck_dir / p;
  if (std::filesystem::exists(p)) return p;
  return data_file(name);
}

// Restores the BLAS thread count when evaluate() returns.
class BlasThreadsGuard {
 public:
  BlasThreadsGuard() : previous_(blas::threads()) { blas::set_threads(1); }
  ~BlasThreadsGuard() {
    if (previous_ > 0) blas::set_threads(previous_);
  }
  BlasThreadsGuard(const BlasThreadsGuard&) = delete;
  BlasThreadsGuard& operator=(const BlasThreadsGuard&) = delete;

 private:
  int previous_ = 0;
};

// Three integers {n1, n2, n3} in [lo, hi] (k grids and their shifts).
std::array<int, 3> grid(const DeckTable& t, const char* key, std::array<int, 3> def, int lo,
                        int hi) {
  const std::vector<long> v = t.integers(key, {def[0], def[1], def[2]});
  if (v.size() != 3)
    t.error(key, fmt::format("expected three integers {{n1, n2, n3}}, got {}", v.size()));
  std::array<int, 3> out{};
  for (int a = 0; a < 3; ++a) {
    if (v[a] < lo || v[a] > hi)
      t.error(key, fmt::format("every entry must lie in [{}, {}], got {}", lo, hi, v[a]));
    out[a] = static_cast<int>(v[a]);
  }
  return out;
}

}  // namespace

TbSettings TbSettings::from_deck(const DeckTable& t) {
  TbSettings s;
  s.parameters = resolve_parameters(t, t.string("parameters", "tb/parameters.lua"));
  s.options.kpoints = grid(t, "kpoints", {1, 1, 1}, 1, 64);
  s.options.kshift = grid(t, "kshift", {0, 0, 0}, 0, 1);
  if (t.is_string("final_kpoints")) {
    s.final_pass = t.choice("final_kpoints", "auto", {"auto", "none"}) == "auto"
                       ? TbSettings::FinalPass::automatic
                       : TbSettings::FinalPass::none;
  } else if (t.has("final_kpoints")) {
    s.final_pass = TbSettings::FinalPass::grid;
    s.final_kpoints = grid(t, "final_kpoints", {2, 2, 2}, 1, 64);
  } else {
    t.allow({"final_kpoints"});
  }
  s.final_kshift = grid(t, "final_kshift", {1, 1, 1}, 0, 1);
  s.options.basis = t.choice("basis", "sd", {"sd", "spd"}) == "sd" ? Basis::sd : Basis::spd;
  s.options.temperature = t.number_in("temperature", 0.005, 1e-4, 0.1);
  s.spin = t.choice("spin", "auto", {"auto", "polarized", "unpolarized"});
  if (t.has("initial_moment"))
    s.initial_moment = t.number_in("initial_moment", 0.0, 0.0, 5.0);
  else
    t.allow({"initial_moment"});
  s.options.mixing = t.choice("mixing", "anderson", {"anderson", "linear"}) == "anderson"
                         ? Mixing::anderson
                         : Mixing::linear;
  s.options.mixing_beta = t.number_in("mixing_beta", 1.0, 1e-3, 1.0);
  s.options.mixing_history = static_cast<int>(t.integer("mixing_history", 8, 1, 50));
  s.options.max_iterations = static_cast<int>(t.integer("max_iterations", 100, 1, 100000));
  s.options.charge_tolerance = t.number_in("charge_tolerance", 1e-6, 1e-12, 1e-2);
  s.options.moment_tolerance = t.number_in("moment_tolerance", 1e-6, 1e-12, 1e-2);
  s.options.cutoff = t.number_in("cutoff", 1.5, 1.0, 2.0);
  s.warm_start = t.boolean("warm_start", true);
  return s;
}

TbDriver::TbDriver(const System& system, const TbSettings& settings)
    : system_(system), settings_(settings), params_(TbParameters::load(settings.parameters)) {
  bool any_magnetic = false;
  for (const Species& sp : system.species) {
    ElementParameters e = params_.element(sp.symbol);
    if (settings_.initial_moment) e.initial_moment = *settings_.initial_moment;
    any_magnetic = any_magnetic || e.initial_moment > 0;
    elements_.push_back(e);
  }
  settings_.options.spin_polarized =
      settings_.spin == "polarized" || (settings_.spin == "auto" && any_magnetic);
  // Each element in its reference crystal (same cutoff and smearing): its p background (s+d
  // basis) and its Fermi level, which is moved to minus its work function.
  BlasThreadsGuard threads;
  for (std::size_t s = 0; s < elements_.size(); ++s) {
    const double valence = system.species[s].valence;
    const ElementReference ref =
        element_reference(elements_[s], valence, params_, settings_.options);
    references_.push_back(ref);
    valence_.push_back(valence - ref.p_background);
    shifts_.push_back(-elements_[s].work_function - ref.fermi_level);
    elements_[s].repulsion = ref.repulsion;
  }
  model_ = std::make_unique<TbModel>(system.lattice, elements_, valence_, shifts_, params_,
                                     settings_.options);
  // The final pass: same physics on the final k grid, one evaluation at the SCF densities.
  const auto& o0 = settings_.options;
  const bool gamma_only =
      o0.kpoints == std::array<int, 3>{1, 1, 1} && o0.kshift == std::array<int, 3>{0, 0, 0};
  using FinalPass = TbSettings::FinalPass;
  const bool final_pass =
      settings_.final_pass == FinalPass::grid ||
      (settings_.final_pass == FinalPass::automatic && gamma_only && !o0.spin_polarized);
  if (final_pass) {
    TbOptions o = settings_.options;
    o.kpoints = settings_.final_kpoints;
    o.kshift = settings_.final_kshift;
    o.single_pass = true;
    final_ = std::make_unique<TbModel>(system.lattice, elements_, valence_, shifts_, params_, o);
  }
}

std::vector<std::string> TbDriver::effective_settings() const {
  const auto& o = settings_.options;
  auto grid3 = [](const std::array<int, 3>& g) {
    return fmt::format("{{{}, {}, {}}}", g[0], g[1], g[2]);
  };
  std::vector<std::string> out = {fmt::format("kpoints = {}", grid3(o.kpoints)),
                                  fmt::format("kshift = {}", grid3(o.kshift)),
                                  fmt::format("spin_polarized = {}", o.spin_polarized)};
  if (final_) {
    out.push_back(fmt::format("final_kpoints = {}", grid3(final_->options().kpoints)));
    out.push_back(fmt::format("final_kshift = {}", grid3(final_->options().kshift)));
  } else {
    out.emplace_back("final_kpoints = none");
  }
  return out;
}

std::array<int, 3> TbDriver::final_kpoints() const {
  return final_ ? final_->options().kpoints : settings_.options.kpoints;
}

ScfState TbDriver::initial_guess(const Configuration& c) const {
  ScfState x = model_->cold_start(c);
  if (!settings_.warm_start || !last_ || last_config_.num_sites() != c.num_sites()) return x;
  // Per-species means of the previous converged densities, and the previous site values where
  // the species did not change.
  const int ns = system_.num_species();
  std::vector<double> qsum(ns, 0.0), msum(ns, 0.0), cnt(ns, 0.0);
  const bool pol = !last_->dmoment.empty();
  for (int i = 0; i < c.num_sites(); ++i) {
    const int s = last_config_[i];
    qsum[s] += last_->valence[i] - valence_[s];
    if (pol) msum[s] += last_->dmoment[i];
    cnt[s] += 1.0;
  }
  for (int i = 0; i < c.num_sites(); ++i) {
    const int s = c[i];
    if (last_config_[i] == c[i]) {
      x.valence[i] = last_->valence[i];
      if (pol && !x.dmoment.empty()) x.dmoment[i] = last_->dmoment[i];
    } else if (cnt[s] > 0) {
      x.valence[i] = valence_[s] + qsum[s] / cnt[s];
      if (pol && !x.dmoment.empty()) x.dmoment[i] = msum[s] / cnt[s];
    }
  }
  return x;
}

Properties TbDriver::evaluate_one_config(const Configuration& c) {
  Properties p;
  const auto t0 = std::chrono::steady_clock::now();
  try {
    if (c.num_sites() != system_.num_sites())
      fail("configuration has {} sites, the system {} has {}", c.num_sites(),
           system_.lattice.describe(), system_.num_sites());
    const ScfState guess = initial_guess(c);
    TbResult r = model_->solve(c, &guess);
    if (final_ && r.converged) {
      // Energy, charges and moments from one pass on the final k grid at the SCF densities;
      // iterations and residual stay those of the SCF, the next start its densities.
      TbResult fine = final_->solve(c, &r.state);
      fine.iterations = r.iterations;
      fine.residual = r.residual;
      fine.state = std::move(r.state);
      r = std::move(fine);
    }
    p.iterations = r.iterations;
    p.residual = r.residual;
    if (!r.converged) {
      p.status = Status::not_converged;
      p.message = fmt::format(
          "tb: SCF not converged after {} iterations (residual {:.3e}; tolerances {:g} e, {:g} "
          "muB)",
          r.iterations, r.residual, settings_.options.charge_tolerance,
          settings_.options.moment_tolerance);
    } else {
      p.status = Status::ok;
      p.energy = r.free_energy;
      p.band_energy = r.band_energy;
      p.fermi_energy = r.fermi_energy;
      p.charge.resize(c.num_sites());
      for (int i = 0; i < c.num_sites(); ++i)
        p.charge[i] = system_.species[c[i]].Z + r.valence[i] - valence_[c[i]];
      p.moment = r.moment;
      last_ = r.state;
      last_config_ = c;
    }
  } catch (const std::exception& e) {
    p = Properties{};
    p.status = Status::failed;
    p.message = fmt::format("tb: {}", e.what());
  }
  p.wall_time = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return p;
}

std::vector<Properties> TbDriver::evaluate(std::span<const Configuration> configs) {
  BlasThreadsGuard threads;
  std::vector<Properties> out;
  out.reserve(configs.size());
  for (const auto& c : configs) out.push_back(evaluate_one_config(c));
  return out;
}

std::unique_ptr<Driver> make_tb_driver(const DriverContext& ctx) {
  return std::make_unique<TbDriver>(ctx.system, TbSettings::from_deck(ctx.settings));
}

}  // namespace lsmss::tb
