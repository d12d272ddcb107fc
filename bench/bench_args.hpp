#pragma once
// Shared by the benchmark programs: `--help` prints the usage instead of running the benchmark,
// and a non-numeric positional argument is refused rather than read as 0.
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>

#include "core/blas_runtime.hpp"

namespace lsmss::bench {

// Returns true (after printing `usage`) if the arguments ask for help.
inline bool wants_help(int argc, char** argv, const char* usage) {
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "-h" || a == "--help") {
      std::fputs(usage, stdout);
      return true;
    }
  }
  return false;
}

// The optional positional number argv[1], or `fallback` when absent; exits with the usage on a
// malformed value.
inline double positional_number(int argc, char** argv, double fallback, const char* usage) {
  if (argc < 2) return fallback;
  char* end = nullptr;
  const double v = std::strtod(argv[1], &end);
  if (end == argv[1] || *end != '\0' || !(v > 0)) {
    std::fprintf(stderr, "bad argument '%s'\n%s", argv[1], usage);
    std::exit(2);
  }
  return v;
}

// The body of a benchmark's main(): `run(argc, argv)`; an exception becomes one message on
// stderr and exit status 1. Only the CLI re-executes itself for OpenBLAS's native kernels: a
// benchmark says when it runs generic ones, and how to get the native ones.
template <typename Run>
int guarded_main(int argc, char** argv, const char* name, Run run) {
  if (const std::string core = blas::better_core(); !core.empty())
    std::fprintf(stderr,
                 "%s: note: OpenBLAS runs its generic %s kernels; OPENBLAS_CORETYPE=%s selects "
                 "this CPU's\n",
                 name, blas::core_name().c_str(), core.c_str());
  try {
    return run(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s: error: %s\n", name, e.what());
    return 1;
  }
}

}  // namespace lsmss::bench
