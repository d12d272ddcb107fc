#pragma once
// Launches an external program (an MPI launcher running LSMS) in a working directory with a
// wall-time limit. stdout/stderr go to files there. The child starts a session of its own, so
// that a time-out or an exception kills everything it started: the launcher, and MPI ranks that
// the launcher moved into process groups of their own.
#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace lsmss::lsms {

struct ProcessResult {
  int exit_code = -1;  // exit status, or -1 when killed by a signal
  int signal = 0;      // terminating signal, 0 if none
  bool timed_out = false;
  double wall_time = 0.0;   // seconds
  std::string stderr_tail;  // error lines and the last lines of stderr, for error messages
};

// The environment a launched LSMS gets: this process's environment without what MPI put there
// when this process itself runs under MPI (OMPI_*, PMIX_*, PRTE_*, ORTE_*, OPAL_*, HYDRA_*,
// PMI_*, MPICH_*, I_MPI_*: an mpirun that inherits them believes it is a rank of our job and
// exits 1 without a message), without the variables this program set for itself (named in
// LSMSS_SELF_SET_ENV, e.g. OPENBLAS_CORETYPE from blas::reexec_with_native_kernels), keeping
// OMPI_ALLOW_RUN_AS_ROOT(_CONFIRM), then `extra` set on top. Sorted "NAME=value" strings.
std::vector<std::string> clean_child_environment(const std::map<std::string, std::string>& extra);

// Runs argv (argv[0] searched on PATH of the child environment) in `workdir` (made absolute
// first) with the environment `env` ("NAME=value"). On a time-out every process of the child's
// session and every descendant is sent SIGTERM, then SIGKILL after a short grace time.
ProcessResult run_process(const std::vector<std::string>& argv,
                          const std::filesystem::path& workdir, double timeout_seconds,
                          const std::vector<std::string>& env);
// The same with clean_child_environment({}).
ProcessResult run_process(const std::vector<std::string>& argv,
                          const std::filesystem::path& workdir, double timeout_seconds);

// Last `max_lines` lines of a text file (empty if missing).
std::string file_tail(const std::filesystem::path& path, int max_lines = 20);

// What a user needs to see of a failed run: the lines of `path` that name an error ("terminate
// called", "what():", "error", "abort", "signal", "Segmentation", "exception", "not found" ...;
// at most `max_error_lines`, first ones first) followed by its last `max_tail_lines` lines. The
// error lines come first because an MPI launcher prints many lines of its own after the rank's
// message, which pushed it out of a plain tail.
std::string error_excerpt(const std::filesystem::path& path, int max_error_lines = 10,
                          int max_tail_lines = 15);

}  // namespace lsmss::lsms
