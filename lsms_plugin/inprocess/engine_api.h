#pragma once
/* The one entry point of liblsmss_lsms_engine.so (lsms.mode = "in_process"). Plain C types and
 * MPI_Comm only: nothing of LSMS (or of its bundled Lua 5.2) crosses this boundary. */
#include <mpi.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

enum lsmss_engine_status {
  LSMSS_ENGINE_FINISHED = 0,  /* the SCF loop ended (converged or nscf reached): outputs written */
  LSMSS_ENGINE_FAILED = 1,    /* LSMS threw; `message` says what */
  LSMSS_ENGINE_TIMED_OUT = 2, /* stopped at an SCF iteration after timeout_seconds */
};

/* Runs LSMS's lsms_asa (upstream src/Main/lsms_asa.cpp, unchanged) on every rank of `comm`:
 * collective, every rank calls it with the same arguments. Reads the deck `deck_file` (on the
 * group's rank 0) and writes k.out, info_evec_out, potentials and stdout-free outputs into the
 * current working directory, exactly as the executable does. MPI must be initialized; it is
 * neither initialized nor finalized here. `message` (message_size bytes, may be NULL) receives
 * the reason of a failure. */
__attribute__((visibility("default"))) int lsmss_engine_run_lsms_asa(MPI_Comm comm,
                                                                     const char* deck_file,
                                                                     double timeout_seconds,
                                                                     char* message,
                                                                     size_t message_size);

#ifdef __cplusplus
}
#endif
