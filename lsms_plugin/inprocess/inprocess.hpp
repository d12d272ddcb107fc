#pragma once
// LSMS run inside this process (lsms.mode = "in_process"), on a rank group's communicator, as
// WL-LSMS does: no mpirun is launched, so it works where nested launches are forbidden (Slurm,
// jsrun). Available when LSMS-Surrogate was configured with -DLSMSS_LSMS_BUILD_DIR=<LSMS build
// tree>; the LSMS code lives in liblsmss_lsms_engine.so (see inprocess/CMakeLists.txt).
#include <filesystem>
#include <string>

#include <mpi.h>

#include "lsms_plugin/process.hpp"

namespace lsmss::lsms {

// Whether this build contains the in-process engine.
bool inprocess_available();
// What to do when it does not (for error messages naming the deck key).
std::string inprocess_unavailable_message();

// Runs lsms_asa on the deck file `deck` in `run_dir`, on every rank of `comm`: collective,
// every rank of the group calls it with the same run_dir (a directory all ranks can reach).
// LSMS writes its outputs (k.out, info_evec_out, potentials) into run_dir and its stdout into
// run_dir/stdout.txt, as a launched run does; the working directory is restored afterwards.
// Result as for a launched run: exit_code 0 when the SCF loop ended (converged or not: judged
// from k.out), 1 with the reason in stderr_tail when LSMS threw, timed_out after
// `timeout_seconds` (checked once per SCF iteration). MPI must be initialized. Throws
// lsmss::Error when the engine is not compiled in.
ProcessResult run_inprocess(MPI_Comm comm, const std::filesystem::path& run_dir,
                            const std::string& deck, double timeout_seconds);

}  // namespace lsmss::lsms
