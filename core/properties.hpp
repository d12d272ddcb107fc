#pragma once
// What a driver returns for one configuration. Units: energy Ry, charge e (electrons on the
// site including core electrons, as LSMS reports them; charge transfer = charge - Z), moment
// Bohr magnetons. A property a driver does not produce is absent (std::nullopt / empty),
// never zero.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace lsmss {

enum class Status : int {
  ok = 0,             // converged, usable as data
  not_converged = 1,  // ran out of iterations: never training data
  failed = 2,         // driver error or crash of an external code
  timeout = 3,        // exceeded the wall-time limit
};
std::string_view status_name(Status s);

// Bit set of properties a driver (or model) provides.
enum PropertyBits : std::uint32_t { kEnergy = 1u, kCharge = 2u, kMoment = 4u };
using PropertyMask = std::uint32_t;
std::string property_mask_name(PropertyMask m);  // e.g. "ECM"

struct Properties {
  Status status = Status::failed;
  std::string message;  // reason for a failure, or driver notes

  std::optional<double> energy;  // total energy, Ry
  std::vector<double> charge;    // per site, e
  std::vector<double> moment;    // per site, muB

  // Optional driver-specific extras.
  std::optional<double> band_energy;   // Ry
  std::optional<double> fermi_energy;  // Ry
  int iterations = 0;                  // SCF iterations
  double residual = 0.0;               // final SCF residual (driver-defined norm)
  double wall_time = 0.0;              // seconds

  // Ensemble spread (surrogate ensembles); empty/absent otherwise.
  std::optional<double> energy_std;
  std::vector<double> charge_std;
  std::vector<double> moment_std;

  bool ok() const { return status == Status::ok; }
};

}  // namespace lsmss
