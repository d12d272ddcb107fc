#pragma once
// The output files of `predict` (docs/nn.md, "Prediction"): HDF5 with the dataset's names and
// shapes plus the input's own values, or CSV. The command predicts; the formats live here.
#include <cstdint>
#include <filesystem>
#include <ostream>
#include <string>
#include <vector>

#include "core/properties.hpp"
#include "core/system.hpp"
#include "dataset_builder/configuration_inputs.hpp"

namespace lsmss::dataset {

inline constexpr const char* kPredictionsFormatName = "lsms-surrogate-predictions";

// Writes (truncating) the HDF5 predictions file: props[k] predicted for in.configs[k] by the
// ensemble of `models` (their file names) for `system`. Only the predicted tasks are written;
// input_* only where some input carries that value (NaN for the rows without).
void write_predictions_h5(const std::filesystem::path& path, const std::vector<std::string>& models,
                          const System& system, const InputConfigurations& in,
                          const std::vector<Properties>& props);

// One CSV line per configuration, after a comment line with the units and the header.
void write_predictions_csv(std::ostream& out, const InputConfigurations& in,
                           const std::vector<Properties>& props);

// Root-mean-square error of predictions against the values the inputs carry (the energy per
// configuration, charge and moment per site), over the configurations that have both; a count
// of 0 means nothing was compared (its RMSE stays 0). `sites` per configuration.
struct ErrorsAgainstInputs {
  double energy_rmse = 0, charge_rmse = 0, moment_rmse = 0;  // Ry per cell, e, muB
  std::size_t energies = 0, charges = 0, moments = 0;        // configurations, sites, sites
};
ErrorsAgainstInputs errors_against_inputs(const InputConfigurations& in,
                                          const std::vector<Properties>& props, int sites);

// An HDF5 predictions file read back; absent datasets stay empty. Per-site arrays are
// rows x sites, row-major.
struct PredictionsFile {
  std::vector<std::string> models;
  std::string system, lattice;
  std::vector<std::string> source;  // per row: the input file (and row or line); older files: none
  std::vector<std::uint8_t> occupation;
  std::vector<std::int32_t> composition;
  std::vector<double> energy, energy_std;                        // Ry
  std::vector<double> charge, charge_std;                        // e
  std::vector<double> moment, moment_std;                        // muB
  std::vector<double> input_energy, input_charge, input_moment;  // Ry, e, muB
  std::size_t rows() const { return composition.size(); }
};
// Throws FileError naming the file for a file that is not a predictions file.
PredictionsFile read_predictions_h5(const std::filesystem::path& path);

}  // namespace lsmss::dataset
