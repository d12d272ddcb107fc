#pragma once
// Run-time control of the BLAS the process is linked with (OpenBLAS on Debian), found through
// dlsym so that programs linked with another BLAS still build and run.
#include <string>

namespace lsmss::blas {

// Limits OpenBLAS to `n` threads; false if the process has no such control. The dataset
// builder runs one process per core, so the tb engine asks for one thread.
bool set_threads(int n);

// OpenBLAS's thread count; 0 if the process has no such control.
int threads();

// OpenBLAS's kernel set in use ("SkylakeX", "Haswell", "Prescott", ...); "" when the BLAS is not
// OpenBLAS.
std::string core_name();

// "OpenBLAS, <core> kernels" or "not OpenBLAS", for version lines and benchmark headers.
std::string description();

// The kernel set to ask for when OpenBLAS runs `current` although the CPU supports better
// ones, else "". OpenBLAS picks its kernels from the CPU model at load time and falls back to
// generic SSE3 ("Prescott") on models newer than the library: Debian 12's 0.3.21 does so on
// 5th-generation Xeons (model 207), and its complex eigensolvers then run 2x slower.
std::string better_core(const std::string& current, bool avx2_fma, bool avx512);

// The same for this process and CPU.
std::string better_core();

// Called first thing in the CLI's main() (only there: libraries, tests and benchmarks never
// re-execute a process; under mpirun each rank does so before MPI_Init): when better_core() is
// not empty and the user has not set OPENBLAS_CORETYPE, sets it and re-executes the program
// (/proc/self/exe, same arguments and environment) so that OpenBLAS loads with that kernel set.
// The re-executed process removes the variable again, so the programs it starts do not inherit
// it. Returns when there is nothing to do or the exec fails (the program then runs on the
// generic kernels). Setting OPENBLAS_CORETYPE yourself (to any value) turns this off, and then
// child processes inherit your value.
void reexec_with_native_kernels(char** argv);

}  // namespace lsmss::blas
