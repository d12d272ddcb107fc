#pragma once
// Driver `lsms`: runs the real LSMS code on each configuration — writes its deck, launches it
// (through an MPI launcher, in a clean environment) with a wall-time limit, parses
// info_evec_out and k.out, and decides convergence by LSMS's own criterion. Crashes, time-outs
// and unconverged runs come back as such, with the reason and the error lines of stderr, never
// as data. Optionally starts each calculation from the converged potentials of an earlier one.
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "core/driver.hpp"
#include "lsms_plugin/deck_writer.hpp"
#include "lsms_plugin/kout.hpp"
#include "lsms_plugin/process.hpp"

namespace lsmss::drivers {

struct LsmsSettings {
  std::string executable = "lsms_asa";  // after from_deck: an absolute path
  std::vector<std::string> launcher = {"mpirun", "-np", "{ranks}"};
  int ranks = 1;
  std::filesystem::path work_dir = "lsms-runs";  // after from_deck: absolute
  bool keep_runs = false;
  bool warm_start = false;
  double timeout = 3600.0;                         // seconds per calculation
  std::map<std::string, std::string> environment;  // set for LSMS on top of the clean one
  // mode = "in_process": LSMS runs inside this process on the driver's rank group
  // (drivers/lsms/lsms_inprocess.cpp) instead of being launched.
  bool in_process = false;
  lsms::DeckSpec deck;
  std::vector<lsms::SpeciesSetup> species;  // per species index of the system

  // Reads the `lsms` deck table; checks that the executable (and the launcher's program) exist
  // and are executable. A relative executable path is resolved against the deck file's folder.
  static LsmsSettings from_deck(const DeckTable& t, const System& system);

  lsms::ConvergenceCriteria criteria() const;
};

// The kind ("lsms" or "lsms_asa") LSMS-Surrogate assumes for an executable when the deck gives
// no `kind`: its file name exactly "lsms_asa" or "lsms"; "" for any other name (a wrapper
// script, a renamed build), which then must say `kind` itself.
std::string default_executable_kind(const std::string& executable);

// Turns a finished LSMS run directory into properties: info_evec_out mapped onto the lattice
// sites by position, k.out judged by LSMS's criterion (lsms::judge_convergence). `declared`:
// whether LSMS itself declared convergence (printed lsms::kConvergedPotentialsLine); when not
// given, it is looked up in the run's stdout.txt. Failures come back as status failed /
// not_converged with the reason; shared by every way of running LSMS.
Properties harvest_run(const System& system, const LsmsSettings& settings,
                       const std::filesystem::path& run_dir, const Configuration& config,
                       std::optional<bool> declared = std::nullopt);

class LsmsDriver : public Driver {
 public:
  LsmsDriver(const System& system, LsmsSettings settings, MPI_Comm comm);
  ~LsmsDriver() override;
  LsmsDriver(const LsmsDriver&) = delete;
  LsmsDriver& operator=(const LsmsDriver&) = delete;
  std::string name() const override { return "lsms"; }
  PropertyMask provides() const override { return kEnergy | kCharge | kMoment; }
  std::vector<Properties> evaluate(std::span<const Configuration> configs) override;

  // Interprets a finished run directory (info_evec_out, k.out, stdout.txt) for `config`; used
  // after each launch and by tests on recorded runs.
  Properties harvest(const std::filesystem::path& run_dir, const Configuration& config) const;

 private:
  // Converged potentials of an earlier calculation, one file per site.
  struct WarmSource {
    std::vector<int> site_species;
    std::vector<int> counts;  // atoms per species
    std::vector<std::filesystem::path> potentials;
  };
  Properties run_one(const Configuration& config);
  Properties run_in_process(const Configuration& config);
  // A fresh run directory with the deck and the starting potentials (warm: the earlier
  // calculation they come from, or nullptr).
  std::filesystem::path prepare_run(const Configuration& config, const WarmSource*& warm);
  // The verdict on a finished run (launched or in-process): time-out, crash or harvest.
  Properties classify(const lsms::ProcessResult& run, const std::filesystem::path& dir,
                      const Configuration& config) const;
  // After the verdict: warm-start bookkeeping and removal of a successful run's directory.
  void finish_run(Properties& p, const std::filesystem::path& dir, const Configuration& config,
                  const WarmSource* warm);
  const WarmSource* pick_warm_source(const Configuration& config) const;
  void remember_potentials(const std::filesystem::path& run_dir, const Configuration& config);

  System system_;
  LsmsSettings s_;
  MPI_Comm comm_;
  long counter_ = 0;
  std::vector<WarmSource> warm_;               // most recent last, one per composition
  std::filesystem::path warm_dir_;             // this instance's copies of converged potentials
  std::set<std::uint64_t> warm_start_failed_;  // next attempt of these starts from scratch
};

void register_lsms_driver(DriverRegistry& registry);

}  // namespace lsmss::drivers
