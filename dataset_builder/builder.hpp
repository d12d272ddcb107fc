#pragma once
// `lsms-surrogate build`: plans a dataset (sampling.hpp), writes the plan to a new HDF5 file or
// resumes an existing one, and runs the deck's driver over every configuration still pending,
// appending each result (or failure, with its reason) as it arrives.
//
// MPI layout (P ranks): rank 0 is the coordinator and the only HDF5 writer. Ranks 1..P-1 form
// groups of `dataset.ranks_per_calculation` ranks (MPI_Comm_split); each group is one driver
// instance with its own communicator, and its leader receives batches of configurations from
// rank 0, which hands them out dynamically (every group keeps up to two batches queued, so a
// group never waits for the coordinator between batches). With ranks_per_calculation = 1 and
// dataset.coordinator_computes (default) rank 0 also calculates between messages; with P = 1
// it computes everything itself. The data never depend on P: the plan and the splits come from
// the deck alone, and results are keyed by configuration.
#include <cstdio>
#include <exception>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include <mpi.h>

#include "core/deck.hpp"
#include "core/driver.hpp"
#include "core/system.hpp"
#include "dataset_builder/report.hpp"

namespace lsmss::dataset {

struct BuildOptions {
  std::filesystem::path output;      // overrides dataset.file when not empty
  bool progress = true;              // progress bar on stderr (rank 0)
  bool allow_driver_change = false;  // resume although the driver's deck settings changed
  bool retry_failed = false;         // give configurations that used up their retries new ones
  long max_calculations = -1;        // stop after this many calculations (-1: run to the end)
  bool verbose = true;               // one-line messages about planning/resuming on `log`
  std::FILE* log = stdout;
  // Called on a rank whose work failed while the other ranks wait for it inside MPI calls, where
  // unwinding would leave them waiting forever: the program reports it and ends the job (app/
  // calls MPI_Abort). When it is empty or returns, the error is thrown.
  std::function<void(int rank, const std::exception& error)> on_rank_failure;
};

struct BuildSummary {
  std::filesystem::path file;
  bool resumed = false;
  std::size_t planned = 0;          // configurations in the file
  std::size_t calculated = 0;       // calculations run now (attempts, incl. failures)
  std::size_t failed_attempts = 0;  // of those, not ok
  std::size_t torn_rows = 0;        // never-completed rows of a torn tail cut on resume
  std::size_t damaged_rows = 0;     // rows failing verification: kept in the file, not used
  double seconds = 0;               // wall time of the calculation phase
  std::vector<CompositionSummary> compositions;
  std::vector<std::string> distinct;  // distinct configurations per composition (display)
  bool coordinator = true;            // false on MPI ranks other than 0 (summary is empty there)
};

// Runs the build described by the deck. Collective over `world` (MPI_COMM_SELF: serial).
BuildSummary build_dataset(const Deck& deck, const System& sys, const DriverRegistry& registry,
                           const BuildOptions& opts, MPI_Comm world = MPI_COMM_SELF);

// Checks a driver's result for one configuration before it may become data: an "ok" result
// must carry every property the driver provides, finite and one value per site. Returns the
// reason it is unusable, or an empty string.
std::string check_result(const Properties& p, PropertyMask provides, int sites);

}  // namespace lsmss::dataset
