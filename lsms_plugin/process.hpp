#pragma once
// Launches an external program (an MPI launcher running LSMS) in a working directory with a
// wall-time limit. stdout/stderr go to files there. The child runs in its own process group
// so a time-out or an exception kills the whole launched job, not just the launcher.
#include <filesystem>
#include <string>
#include <vector>

namespace lsmss::lsms {

struct ProcessResult {
  int exit_code = -1;  // exit status, or -1 when killed by a signal
  int signal = 0;      // terminating signal, 0 if none
  bool timed_out = false;
  double wall_time = 0.0;   // seconds
  std::string stderr_tail;  // last lines of stderr, for error messages
};

ProcessResult run_process(const std::vector<std::string>& argv,
                          const std::filesystem::path& workdir, double timeout_seconds);

// Last `max_lines` lines of a text file (empty if missing).
std::string file_tail(const std::filesystem::path& path, int max_lines = 20);

}  // namespace lsmss::lsms
