// The lsms driver's in-process mode (lsms.mode = "in_process"): every rank of the driver's group
// enters LSMS together, as WL-LSMS does, instead of the group leader launching mpirun. The
// deck, the run directory and the verdict (harvest of info_evec_out and k.out, time-out,
// failure) are the launcher mode's own.
#include <unistd.h>

#include <fmt/format.h>

#include "core/mpi.hpp"
#include "drivers/lsms/lsms_driver.hpp"
#include "lsms_plugin/inprocess/inprocess.hpp"

namespace lsmss::drivers {
namespace {

// Rank 0's string to every rank of `comm`.
std::string broadcast(std::string s, MPI_Comm comm) {
  if (mpi::size_of(comm) == 1) return s;
  std::uint64_t n = s.size();
  MPI_Bcast(&n, 1, MPI_UINT64_T, 0, comm);
  s.resize(n);
  MPI_Bcast(s.data(), static_cast<int>(n), MPI_CHAR, 0, comm);
  return s;
}

}  // namespace

Properties LsmsDriver::run_in_process(const Configuration& config) {
  const int size = mpi::size_of(comm_), rank = mpi::rank_of(comm_);
  if (size != s_.ranks)
    fail(
        "lsms.mode = \"in_process\" runs LSMS on the {} rank(s) this command gives one "
        "calculation, "
        "but lsms.ranks = {} (under `build`, dataset.ranks_per_calculation sets the group; `calc` "
        "and `mc` run it on 1 rank)",
        size, s_.ranks);

  // The group leader prepares the run directory; a failure there must still reach the other
  // ranks (which would otherwise wait inside LSMS), so it travels as "!reason".
  std::string dir_or_error;
  const WarmSource* warm = nullptr;
  if (rank == 0) {
    try {
      dir_or_error = prepare_run(config, warm).string();
    } catch (const std::exception& e) {
      dir_or_error = std::string("!") + e.what();
    }
  }
  dir_or_error = broadcast(std::move(dir_or_error), comm_);
  if (dir_or_error.empty() || dir_or_error.front() == '!')
    fail("cannot prepare the in-process LSMS run: {}",
         rank == 0 ? dir_or_error.substr(1) : "the group leader failed (see its error)");
  const std::filesystem::path dir = dir_or_error;

  const lsms::ProcessResult run = lsms::run_inprocess(comm_, dir, "i_lsms", s_.timeout);
  if (rank != 0) {
    // The leader reads the outputs and reports; the other ranks only took part in the SCF.
    Properties p;
    p.status = Status::ok;
    p.message = "evaluated by the group leader";
    return p;
  }
  Properties p = classify(run, dir, config);
  if (run.exit_code != 0 && !run.timed_out)  // classify words it as a launched program's exit
    p.message =
        fmt::format("LSMS failed in-process: {} (run directory {})", run.stderr_tail, dir.string());
  finish_run(p, dir, config, warm);
  return p;
}

}  // namespace lsmss::drivers
