// lsms-surrogate: the command-line front end. Every stage is a subcommand reading one Lua deck.
#include <cstdio>
#include <exception>
#include <new>

#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include "app/common.hpp"
#include "core/blas_runtime.hpp"
#include "core/error.hpp"
#include "core/mpi.hpp"
#include "core/version.hpp"
#include "drivers/register.hpp"
#include "nn/core/backend.hpp"

namespace {

// Exit codes (README): 0 success, 1 runtime error (bad input file, failed calculation, ...),
// 2 usage error (unknown subcommand or option, missing or unparsable argument).
constexpr int kExitUsage = 2;

// After an error escaped the command (whose mpi::Session then skipped MPI_Finalize): with several
// ranks, aborts the job so no rank waits forever for the failed one; alone, finalizes MPI.
void finish_mpi_after_error() {
  int inited = 0, finalized = 0;
  MPI_Initialized(&inited);
  MPI_Finalized(&finalized);
  if (!inited || finalized) return;
  if (lsmss::mpi::size_of(MPI_COMM_WORLD) > 1)
    MPI_Abort(MPI_COMM_WORLD, 1);  // stops the other ranks instead of leaving them waiting
  else
    MPI_Finalize();
}

int run(int argc, char** argv) {
  using namespace lsmss;
  app::AppContext ctx;
  CLI::App cli{
      "LSMS-Surrogate: neural-network surrogates for first-principles (LSMS) alloy studies.\n"
      "Every subcommand reads a Lua deck; see docs/deck.md for its keys and units."};
  cli.name("lsms-surrogate");
  cli.set_version_flag("--version",
                       fmt::format("lsms-surrogate {} (nn CUDA backend: {}; BLAS: {})", kVersion,
                                   nn::cuda_backend_status(), blas::description()));
  cli.add_flag("--allow-lua-io", ctx.allow_lua_io,
               "let decks use Lua's io, os and require (sandboxed by default); implies "
               "--allow-commands");
  cli.add_flag("--allow-commands", ctx.allow_commands,
               "let the deck name any program to run (lsms.executable, lsms.launcher); without "
               "it only lsms/lsms_asa and mpirun/srun/... with plain flags (docs/deck.md)");
  cli.require_subcommand(1);
  cli.fallthrough();
  try {
    drivers::register_builtin_drivers(ctx.registry);
    app::add_calc_commands(cli, ctx);
    app::add_dataset_commands(cli, ctx);
    app::add_nn_commands(cli, ctx);
    app::add_mc_commands(cli, ctx);
    app::add_search_command(cli, ctx);
    app::add_study_commands(cli, ctx);
    cli.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // --help and --version exit 0; every other parse error is a usage error: exit 2
    // (README, "Exit codes"), not CLI11's own numbers.
    const int rc = cli.exit(e);
    return rc == 0 ? 0 : kExitUsage;
  } catch (const std::bad_alloc&) {
    // Sizes known up front are refused with their key (sampling.cap, architecture.shared);
    // this is the last resort for the rest.
    std::fflush(stdout);
    fmt::print(stderr,
               "lsms-surrogate: error: out of memory: the deck or the input asks for more memory "
               "than this machine has (lower the largest sizes: sampling.cap, "
               "training.architecture, montecarlo.walkers, batch sizes)\n");
    std::fflush(stderr);
    finish_mpi_after_error();
    return 1;
  } catch (const std::exception& e) {
    std::fflush(stdout);
    fmt::print(stderr, "lsms-surrogate: error: {}\n", e.what());
    std::fflush(stderr);
    finish_mpi_after_error();
    return 1;
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  lsmss::blas::reexec_with_native_kernels(argv);
  try {
    return run(argc, argv);
  } catch (const std::exception& e) {
    std::fflush(stdout);
    std::fprintf(stderr, "lsms-surrogate: error: %s\n", e.what());
    return 1;
  } catch (...) {
    return 1;
  }
}
