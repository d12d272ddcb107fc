#pragma once
// What the C API (capi.cpp) needs from the C++ libraries, in plain standard types. engine.cpp is
// the one file that calls nn/, montecarlo/ and core/: when their interfaces change, only it
// follows. Inputs reaching an Engine are validated by capi.cpp (sizes, species, sites, walkers).
#include <array>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace lsmss::capi {

// A failure with its lsms_surrogate_status code and a message naming what went wrong.
class Failure : public std::runtime_error {
 public:
  Failure(int code, const std::string& message) : std::runtime_error(message), code_(code) {}
  int code() const { return code_; }

 private:
  int code_;
};

// What the model was trained for.
struct ModelInfo {
  int num_sites = 0;
  int num_species = 0;
  int num_models = 0;
  unsigned tasks = 0;  // LSMS_SURROGATE_TASK_* bits
  std::vector<int> Z;
  std::vector<std::string> symbols;
  std::string lattice_kind;
  double a = 0, c = 0;  // Bohr
  std::array<int, 3> supercell{};
  std::vector<double> positions;  // num_sites x 3, Bohr
};

// Output arrays of one evaluation (null: not wanted).
struct EvaluateOutputs {
  double* energy = nullptr;
  double* energy_std = nullptr;
  double* charge = nullptr;
  double* charge_std = nullptr;
  double* moment = nullptr;
  double* moment_std = nullptr;
};

class Engine {
 public:
  // Throws Failure (file, backend) or std::exception.
  static std::unique_ptr<Engine> open(const std::vector<std::string>& paths,
                                      const std::string& backend);
  virtual ~Engine() = default;
  virtual const ModelInfo& info() const = 0;
  // site[k] = model site of positions[3k..3k+2]; throws Failure(POSITION) when one does not fit.
  virtual void match_positions(const double* positions, int count, double tolerance,
                               int* site) const = 0;
  // occupation: count x num_sites valid species indices.
  virtual void evaluate(const int* occupation, int count, const EvaluateOutputs& out) = 0;

  // Monte Carlo walkers (fast path). mc_set validated like evaluate; the others take valid
  // walker/site indices and are called only after mc_set.
  virtual void mc_set(const int* occupation, int walkers, double* energy, double* energy_std) = 0;
  virtual int mc_walkers() const = 0;
  virtual void mc_propose(const int* site_i, const int* site_j, double* delta_energy,
                          double* energy, double* energy_std) = 0;
  virtual bool mc_pending(int walker) const = 0;
  virtual void mc_accept(int walker) = 0;
  virtual void mc_reject(int walker) = 0;
  virtual void mc_walker(int walker, int* occupation, double* energy, double* energy_std) const = 0;
};

}  // namespace lsmss::capi
