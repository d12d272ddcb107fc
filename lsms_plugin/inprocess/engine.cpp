// Inside liblsmss_lsms_engine.so (compiled with LSMS's flags, against LSMS's headers and its
// bundled Lua 5.2): the functions that upstream lsms_asa.cpp calls in place of MPI_Init,
// MPI_Finalize and H5close (see CMakeLists.txt), the per-iteration time check, and the entry
// point that runs lsms_asa's main() on a rank group's communicator.
#include <hdf5.h>
#include <mpi.h>

#include <chrono>
#include <cstdio>
#include <exception>
#include <string>

#include "Communication/LSMSCommunication.hpp"
#include "Main/SystemParameters.hpp"
#include "Main/energyContourIntegration.hpp"
#include "engine_api.h"

// Upstream lsms_asa.cpp's main(), renamed at compile time.
int lsmss_upstream_lsms_asa_main(int argc, char* argv[]);

namespace {

// The run in progress: one per process at a time (LSMS keeps global state anyway).
struct Run {
  MPI_Comm comm = MPI_COMM_NULL;
  double timeout_seconds = 0.0;
  std::chrono::steady_clock::time_point start;
};
Run current;

struct TimeLimitReached {};

}  // namespace

// lsms_asa.cpp: initializeCommunication(comm) would call MPI_Init and take MPI_COMM_WORLD.
void lsmss_initializeCommunication(LSMSCommunication& comm) {
  initializeCommunication(comm, current.comm);
}

// lsms_asa.cpp: finalizeCommunication() would call MPI_Finalize; the process owns MPI.
void lsmss_finalizeCommunication() {}

// lsms_asa.cpp: H5close() would close the HDF5 library under this program's open dataset file.
extern "C" herr_t lsmss_H5close(void) {
  return 0;
}

// lsms_asa.cpp calls this once per SCF iteration: the group's rank 0 decides whether the time
// limit is reached and tells the others, so that every rank leaves LSMS at the same point.
void lsmss_energyContourIntegration(LSMSCommunication& comm, LSMSSystemParameters& lsms,
                                    LocalTypeInfo& local) {
  int over = 0;
  if (comm.rank == 0 && current.timeout_seconds > 0) {
    const double elapsed =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - current.start).count();
    over = elapsed > current.timeout_seconds ? 1 : 0;
  }
  MPI_Bcast(&over, 1, MPI_INT, 0, comm.comm);
  if (over) throw TimeLimitReached{};
  energyContourIntegration(comm, lsms, local);
}

extern "C" int lsmss_engine_run_lsms_asa(MPI_Comm comm, const char* deck_file,
                                         double timeout_seconds, char* message,
                                         size_t message_size) {
  auto tell = [&](const std::string& what) {
    if (message && message_size > 0) std::snprintf(message, message_size, "%s", what.c_str());
  };
  tell("");
  current.comm = comm;
  current.timeout_seconds = timeout_seconds;
  current.start = std::chrono::steady_clock::now();
  std::string program = "lsms_asa", deck = deck_file;
  char* argv[] = {program.data(), deck.data(), nullptr};
  int status = LSMSS_ENGINE_FINISHED;
  try {
    lsmss_upstream_lsms_asa_main(2, argv);
  } catch (const TimeLimitReached&) {
    status = LSMSS_ENGINE_TIMED_OUT;
  } catch (const std::exception& e) {
    tell(std::string("LSMS threw: ") + e.what());
    status = LSMSS_ENGINE_FAILED;
  } catch (...) {
    tell("LSMS threw an exception of unknown type");
    status = LSMSS_ENGINE_FAILED;
  }
  std::fflush(stdout);
  current = Run{};
  return status;
}
