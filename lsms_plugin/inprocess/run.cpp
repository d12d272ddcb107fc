#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <iostream>

#include <fmt/format.h>

#include "core/error.hpp"
#include "lsms_plugin/inprocess/inprocess.hpp"
#ifdef LSMSS_HAVE_LSMS_INPROCESS
#include "engine_api.h"
#endif

namespace lsmss::lsms {

bool inprocess_available() {
#ifdef LSMSS_HAVE_LSMS_INPROCESS
  return true;
#else
  return false;
#endif
}

std::string inprocess_unavailable_message() {
  return "not compiled: the in-process LSMS engine is not part of this build; configure "
         "LSMS-Surrogate with -DLSMSS_LSMS_BUILD_DIR=<LSMS build tree> (made by "
         "../shared/lsms/build-lsms.sh DEST: DEST/build) and rebuild, or use mode = \"launcher\"";
}

#ifdef LSMSS_HAVE_LSMS_INPROCESS
namespace {

// Runs the caller's scope in another working directory: LSMS opens its outputs by relative
// names. Process-wide, so the run must not overlap with other threads' relative paths.
class WorkingDirectory {
 public:
  explicit WorkingDirectory(const std::filesystem::path& dir)
      : previous_(std::filesystem::current_path()) {
    std::filesystem::current_path(dir);
  }
  ~WorkingDirectory() {
    std::error_code ec;
    std::filesystem::current_path(previous_, ec);
  }
  WorkingDirectory(const WorkingDirectory&) = delete;
  WorkingDirectory& operator=(const WorkingDirectory&) = delete;

 private:
  std::filesystem::path previous_;
};

// Sends file descriptor 1 (LSMS prints pages per run) to a file, restoring it afterwards.
class StdoutToFile {
 public:
  explicit StdoutToFile(const std::filesystem::path& file) {
    std::cout.flush();
    std::fflush(stdout);
    saved_ = dup(1);
    const int fd = open(file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (saved_ < 0 || fd < 0) {
      if (fd >= 0) close(fd);
      if (saved_ >= 0) close(saved_);
      fail("cannot send LSMS's output to {}", file.string());
    }
    dup2(fd, 1);
    close(fd);
  }
  ~StdoutToFile() {
    std::cout.flush();
    std::fflush(stdout);
    dup2(saved_, 1);
    close(saved_);
  }
  StdoutToFile(const StdoutToFile&) = delete;
  StdoutToFile& operator=(const StdoutToFile&) = delete;

 private:
  int saved_ = -1;
};

}  // namespace

ProcessResult run_inprocess(MPI_Comm comm, const std::filesystem::path& run_dir,
                            const std::string& deck, double timeout_seconds) {
  int mpi_up = 0;
  MPI_Initialized(&mpi_up);
  if (!mpi_up) fail("in-process LSMS needs MPI to be initialized");
  ProcessResult r;
  const auto start = std::chrono::steady_clock::now();
  char message[1024] = {};
  int status = 0;
  int rank = 0;
  MPI_Comm_rank(comm, &rank);
  // The group's rank 0 prints LSMS's pages; other ranks get their own file (removed when
  // empty), as two ranks writing one file would garble it.
  const std::string out_name = rank == 0 ? "stdout.txt" : fmt::format("stdout.rank{}.txt", rank);
  {
    WorkingDirectory wd(run_dir);
    StdoutToFile out(out_name);
    status =
        lsmss_engine_run_lsms_asa(comm, deck.c_str(), timeout_seconds, message, sizeof message);
  }
  std::error_code ec;
  if (rank != 0 && std::filesystem::file_size(run_dir / out_name, ec) == 0 && !ec)
    std::filesystem::remove(run_dir / out_name, ec);
  r.wall_time = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  r.exit_code = status == LSMSS_ENGINE_FINISHED ? 0 : 1;
  r.timed_out = status == LSMSS_ENGINE_TIMED_OUT;
  if (status == LSMSS_ENGINE_FAILED) r.stderr_tail = message;
  return r;
}

#else

ProcessResult run_inprocess(MPI_Comm, const std::filesystem::path&, const std::string&, double) {
  fail("lsms.mode = \"in_process\": {}", inprocess_unavailable_message());
}

#endif

}  // namespace lsmss::lsms
