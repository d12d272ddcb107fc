#pragma once
// Driver `tb`: the embedded tight-binding engine (a model Hamiltonian, not DFT). Deck table
// `tb = { ... }`; keys, units and defaults in docs/deck.md, physics in docs/tb.md.
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/driver.hpp"
#include "drivers/tb/tb_model.hpp"
#include "drivers/tb/tb_parameters.hpp"

namespace lsmss::tb {

struct TbSettings {
  std::filesystem::path parameters;      // resolved parameter file
  TbOptions options;                     // numerics; options.spin_polarized set from `spin`
  std::string spin = "auto";             // auto | polarized | unpolarized
  std::optional<double> initial_moment;  // muB, overrides the parameter file's start values
  bool warm_start = true;
  // k grid of the final single pass after the SCF (energy, charges and moments are taken from
  // it); automatic: {2,2,2} shifted after a Gamma-only SCF of a spin-unpolarized cell, else none.
  enum class FinalPass { automatic, none, grid };
  FinalPass final_pass = FinalPass::automatic;
  std::array<int, 3> final_kpoints{2, 2, 2};
  std::array<int, 3> final_kshift{1, 1, 1};

  // Reads every key of the deck table `tb` (absent table: all defaults). Does not call
  // finish(): the registry does, to reject unknown keys.
  static TbSettings from_deck(const DeckTable& t);
};

class TbDriver : public Driver {
 public:
  TbDriver(const System& system, const TbSettings& settings);

  std::string name() const override { return "tb"; }
  PropertyMask provides() const override { return kEnergy | kCharge | kMoment; }
  // Sequential over the batch with one BLAS thread; with warm_start the converged densities
  // of the previous configuration seed the next (results agree with a cold start to within
  // the SCF tolerances).
  std::vector<Properties> evaluate(std::span<const Configuration> configs) override;
  // k grids of the SCF and of the final pass, and the spin treatment (their defaults changed
  // between versions).
  std::vector<std::string> effective_settings() const override;

  bool spin_polarized() const { return settings_.options.spin_polarized; }
  // The final k grid in use (the SCF grid itself when there is no final pass).
  std::array<int, 3> final_kpoints() const;
  // Level alignment per species (Ry): -work_function - E_F(reference crystal).
  const std::vector<double>& onsite_shifts() const { return shifts_; }
  // Per species: its pure-metal reference (p background, Fermi level, spd shell occupations).
  const std::vector<ElementReference>& references() const { return references_; }
  // Per species: electrons a neutral atom puts into the basis (valence - p background).
  const std::vector<double>& basis_electrons() const { return valence_; }
  const TbParameters& parameters() const { return params_; }
  // Per species: the element parameters the models are built from (deck overrides applied,
  // pair repulsion set from the reference crystal).
  const std::vector<ElementParameters>& elements() const { return elements_; }
  // Forgets the previous configuration (next evaluation starts cold).
  void reset_warm_start() { last_.reset(); }

 private:
  Properties evaluate_one_config(const Configuration& c);
  ScfState initial_guess(const Configuration& c) const;

  const System& system_;
  TbSettings settings_;
  TbParameters params_;
  std::vector<double> shifts_;
  std::vector<double> valence_;  // electrons per neutral atom in the basis
  std::vector<ElementReference> references_;
  std::vector<ElementParameters> elements_;
  std::unique_ptr<TbModel> model_;
  std::unique_ptr<TbModel> final_;  // single pass on the final k grid; null if none
  std::optional<ScfState> last_;
  Configuration last_config_;
};

// Factory for the registry: reads ctx.settings (the deck's `tb` table).
std::unique_ptr<Driver> make_tb_driver(const DriverContext& ctx);

}  // namespace lsmss::tb
