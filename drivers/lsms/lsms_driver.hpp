#pragma once
// Driver `lsms`: runs the real LSMS code on each configuration — writes its deck, launches it
// (through an MPI launcher) with a wall-time limit, parses info_evec_out and k.out, and decides
// convergence. Crashes, time-outs and unconverged runs come back as such, with the reason and
// the tail of stderr, never as data.
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "core/driver.hpp"
#include "lsms_plugin/deck_writer.hpp"
#include "lsms_plugin/process.hpp"

namespace lsmss::drivers {

struct LsmsSettings {
  std::string executable = "lsms_asa";
  std::vector<std::string> launcher = {"mpirun", "-np", "{ranks}"};
  int ranks = 1;
  std::filesystem::path work_dir = "lsms-runs";
  bool keep_runs = false;
  double timeout = 3600.0;  // seconds per calculation
  // mode = "in_process": LSMS runs inside this process on the driver's rank group
  // (drivers/lsms/lsms_inprocess.cpp) instead of being launched.
  bool in_process = false;
  lsms::DeckSpec deck;
  std::vector<lsms::SpeciesSetup> species;  // per species index of the system

  static LsmsSettings from_deck(const DeckTable& t, const System& system);
};

class LsmsDriver : public Driver {
 public:
  LsmsDriver(const System& system, LsmsSettings settings, MPI_Comm comm);
  std::string name() const override { return "lsms"; }
  PropertyMask provides() const override { return kEnergy | kCharge | kMoment; }
  std::vector<Properties> evaluate(std::span<const Configuration> configs) override;

  // Interprets a finished run directory (info_evec_out, k.out) for `config`; used after each
  // launch and by tests on recorded runs.
  Properties harvest(const std::filesystem::path& run_dir, const Configuration& config) const;

 private:
  Properties run_one(const Configuration& config);
  Properties run_in_process(const Configuration& config);
  // The verdict on a finished run (launched or in-process): time-out, crash or harvest.
  Properties classify(const lsms::ProcessResult& run, const std::filesystem::path& dir,
                      const Configuration& config) const;
  System system_;
  LsmsSettings s_;
  MPI_Comm comm_;
  long counter_ = 0;
};

void register_lsms_driver(DriverRegistry& registry);

}  // namespace lsmss::drivers
