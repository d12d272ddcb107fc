#pragma once
// Input/output standardization with training-set statistics, and the physical <-> network
// target transforms. Statistics are double; the network sees float32.
//
// Energy targets ("mixing", default): E - sum_i e_{species(i)} with per-species reference
// energies e_s (Ry) fitted by least squares on the training set in double precision, so the
// float network learns the mixing energy (mRy) rather than the -1e6 Ry all-electron total.
// "standardized" is the paper's plain standardization of the total energy.
// Charge targets ("transfer", default): charge - Z of the site's species; "total": the charge
// as LSMS reports it (the paper's choice).
#include <cstdint>
#include <string>
#include <vector>

#include "core/system.hpp"
#include "nn/core/network.hpp"

namespace lsmss::nn {

enum class EnergyTarget { mixing, standardized };
enum class ChargeTarget { transfer, total };
std::string energy_target_name(EnergyTarget t);
EnergyTarget energy_target_from_name(const std::string& s);
std::string charge_target_name(ChargeTarget t);
ChargeTarget charge_target_from_name(const std::string& s);

struct HeadStats {
  Task task = Task::energy;
  std::vector<double> mean, std;  // per output, of the transformed target
  std::vector<double>
      paper_std;  // per output, std of the raw physical value (standardized error scale)
};

struct Standardization {
  int num_sites = 0, num_species = 0;
  std::vector<double> input_mean, input_std;  // per one-hot feature
  std::vector<HeadStats> heads;
  EnergyTarget energy_target = EnergyTarget::mixing;
  ChargeTarget charge_target = ChargeTarget::transfer;
  std::vector<double> reference_energy;  // per species, Ry (zeros for "standardized")
  std::vector<double> species_z;         // atomic number per species

  // Fits on the rows `rows` of occupation (rows x sites) and the physical targets per task
  // (values[task]: total rows x outputs, physical units).
  static Standardization fit(const std::vector<std::uint8_t>& occupation, int num_sites,
                             const System& system, const std::vector<HeadSpec>& heads,
                             const std::vector<const std::vector<double>*>& values,
                             const std::vector<std::size_t>& rows, EnergyTarget et,
                             ChargeTarget ct);

  // Standardized one-hot input of one configuration (num_sites*num_species floats).
  void encode_input(const std::uint8_t* occ, float* out) const;
  // Physical value(s) of one row -> standardized float targets of head h, and back.
  void encode_target(int h, const std::uint8_t* occ, const double* physical, float* out) const;
  void decode_output(int h, const std::uint8_t* occ, const float* network, double* physical) const;
  // Reference energy sum_i e_{species(i)} (Ry, double).
  double reference_energy_of(const std::uint8_t* occ) const;
  double reference_energy_of_counts(const double* counts) const;
};

}  // namespace lsmss::nn
