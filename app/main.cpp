// lsms-surrogate: the command-line front end. Every stage is a subcommand reading one Lua deck.
#include <cstdio>
#include <exception>

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
               "let decks use Lua's io, os and require (sandboxed by default)");
  cli.require_subcommand(1);
  cli.fallthrough();
  try {
    drivers::register_builtin_drivers(ctx.registry);
    app::add_calc_commands(cli, ctx);
    app::add_dataset_commands(cli, ctx);
    app::add_nn_commands(cli, ctx);
    app::add_mc_commands(cli, ctx);
    cli.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return cli.exit(e);
  } catch (const std::exception& e) {
    std::fflush(stdout);
    fmt::print(stderr, "lsms-surrogate: error: {}\n", e.what());
    std::fflush(stderr);
    mpi::finish_after_error();
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
