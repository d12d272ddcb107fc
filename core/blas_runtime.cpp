#include "core/blas_runtime.hpp"

#include <dlfcn.h>
#include <unistd.h>

#include <array>
#include <cstdlib>

namespace lsmss::blas {

bool set_threads(int n) {
  using Fn = void (*)(int);
  static Fn fn = reinterpret_cast<Fn>(dlsym(RTLD_DEFAULT, "openblas_set_num_threads"));
  if (!fn) return false;
  fn(n);
  return true;
}

int threads() {
  using Fn = int (*)();
  static Fn fn = reinterpret_cast<Fn>(dlsym(RTLD_DEFAULT, "openblas_get_num_threads"));
  return fn ? fn() : 0;
}

std::string core_name() {
  using Fn = char* (*)();
  static Fn fn = reinterpret_cast<Fn>(dlsym(RTLD_DEFAULT, "openblas_get_corename"));
  const char* name = fn ? fn() : nullptr;
  return name ? name : "";
}

std::string description() {
  const std::string core = core_name();
  return core.empty() ? "not OpenBLAS" : "OpenBLAS, " + core + " kernels";
}

std::string better_core(const std::string& current, bool avx2_fma, bool avx512) {
  // OpenBLAS's fallbacks and the kernel sets older than AVX2 (names as openblas_get_corename
  // spells them; OPENBLAS_CORETYPE is case-insensitive).
  static constexpr std::array<const char*, 9> kGeneric = {"Prescott",    "Core2",   "Penryn",
                                                          "Dunnington",  "Nehalem", "Atom",
                                                          "Sandybridge", "Katmai",  "Northwood"};
  bool generic = false;
  for (const char* g : kGeneric) generic = generic || current == g;
  if (!generic) return "";
  if (avx512) return "SkylakeX";
  if (avx2_fma) return "Haswell";
  return "";
}

std::string better_core() {
  // __builtin_cpu_supports also checks that the OS saves the AVX / AVX-512 registers.
  const bool avx2_fma = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  const bool avx512 = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512cd") &&
                      __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512dq") &&
                      __builtin_cpu_supports("avx512vl");
  return better_core(core_name(), avx2_fma, avx512);
}

namespace {
// Set next to OPENBLAS_CORETYPE by the re-execution, naming it, so that the new process knows the
// variable is ours and not the user's (the same convention lsms::clean_child_environment reads:
// a comma-separated list of the variables the program set itself).
constexpr const char* kReexecMarker = "LSMSS_SELF_SET_ENV";
constexpr const char* kCoreType = "OPENBLAS_CORETYPE";
}  // namespace

void reexec_with_native_kernels(char** argv) {
  if (const char* own = std::getenv(kReexecMarker); own && std::string(own) == kCoreType) {
    // OpenBLAS read OPENBLAS_CORETYPE when it loaded: remove it so that the programs this one
    // starts (LSMS, gnuplot) pick their own kernels (a SkylakeX request crashes on a node
    // without AVX-512).
    unsetenv("OPENBLAS_CORETYPE");
    unsetenv(kReexecMarker);
    return;
  }
  if (std::getenv("OPENBLAS_CORETYPE") != nullptr) return;  // the user's choice
  const std::string core = better_core();
  if (core.empty()) return;
  if (setenv("OPENBLAS_CORETYPE", core.c_str(), 1) != 0) return;
  if (setenv(kReexecMarker, kCoreType, 1) != 0) {
    unsetenv("OPENBLAS_CORETYPE");
    return;
  }
  execv("/proc/self/exe", argv);
  // exec failed: carry on with the kernels already loaded, leaking nothing.
  unsetenv("OPENBLAS_CORETYPE");
  unsetenv(kReexecMarker);
}

}  // namespace lsmss::blas
