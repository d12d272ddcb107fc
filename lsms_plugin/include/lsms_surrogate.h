/*
 * lsms_surrogate.h: the C API of LSMS-Surrogate (C99; also usable from C++ and, through
 * iso_c_binding, from Fortran: see lsms_surrogate_f.f90).
 *
 * A trained surrogate (model files written by `lsms-surrogate train`) is opened into a handle.
 * The handle answers what the model was trained for (sites, species, lattice, positions, tasks,
 * units), evaluates batches of configurations (energy, per-site charges and moments, and their
 * spread across the fold models of an ensemble), and runs the incremental Monte Carlo interface
 * (set configurations, propose site swaps, accept or reject) on the project's fast path.
 *
 * Conventions
 *   - Units: energies in Rydberg (Ry), charges in electrons on the site (e), magnetic moments in
 *     Bohr magnetons (muB), lengths in Bohr. lsms_surrogate_unit() returns them as strings.
 *   - A configuration is an array of num_sites species indices (0 .. num_species-1, the order of
 *     lsms_surrogate_species()); batches are row-major: configuration k, site i is
 *     occupation[k * num_sites + i] (a Fortran array occupation(num_sites, num_configs)).
 *   - Sites and species are numbered from 0, from Fortran too.
 *   - Spread: the sample standard deviation (k - 1) across the k models of an ensemble; 0 for a
 *     single model.
 *   - Every function that can fail returns an lsms_surrogate_status (LSMS_SURROGATE_OK = 0).
 *     On failure, outputs are left unspecified and lsms_surrogate_error(handle) says what went
 *     wrong (naming the file, argument, site or species). A failed open has no handle: its
 *     message is lsms_surrogate_open_error(). No C++ exception ever leaves the library.
 *
 * Thread safety
 *   - Distinct handles are independent: they may be used concurrently from different threads.
 *   - One handle must not be used from two threads at the same time, for any call (the caller
 *     locks, or keeps one handle per thread): every call may record an error message in it.
 *   - lsms_surrogate_open() and lsms_surrogate_close() may be called from any thread (opens are
 *     serialized inside the library); lsms_surrogate_open_error() is per thread. Opening reads
 *     HDF5 files with the process's HDF5 library, which (serial Debian build) is not
 *     thread-safe: do not open while another thread of the host calls HDF5.
 *   - num_threads (open): the number of OpenMP threads the handle's evaluations use; 0 uses the
 *     calling thread's current OpenMP setting. The caller's OpenMP setting is restored after
 *     every call.
 *
 * Versioning: the LSMS_SURROGATE_VERSION_* macros are the version of this header;
 * lsms_surrogate_version() that of the loaded library. The major version is the shared
 * library's SONAME (liblsms_surrogate.so.MAJOR): within one major version, functions are only
 * added, never changed or removed.
 */
#ifndef LSMS_SURROGATE_H
#define LSMS_SURROGATE_H

#define LSMS_SURROGATE_VERSION_MAJOR 1
#define LSMS_SURROGATE_VERSION_MINOR 0
#define LSMS_SURROGATE_VERSION_PATCH 0

#if defined(__GNUC__) || defined(__clang__)
#define LSMS_SURROGATE_API __attribute__((visibility("default")))
#else
#define LSMS_SURROGATE_API
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* An opened surrogate: one model, or an ensemble of fold models. */
typedef struct lsms_surrogate lsms_surrogate;

typedef enum lsms_surrogate_status {
  LSMS_SURROGATE_OK = 0,
  LSMS_SURROGATE_ERROR_ARGUMENT = 1, /* NULL pointer, negative count, index out of range */
  LSMS_SURROGATE_ERROR_FILE = 2,     /* model file missing, unreadable, not a model, models
                                        that do not form one ensemble */
  LSMS_SURROGATE_ERROR_SIZE = 3,     /* an array size that does not fit the model */
  LSMS_SURROGATE_ERROR_SPECIES = 4,  /* a species index or atomic number the model lacks */
  LSMS_SURROGATE_ERROR_POSITION = 5, /* a position on no site, or two on one site */
  LSMS_SURROGATE_ERROR_TASK = 6,     /* the model does not predict what was asked (energy) */
  LSMS_SURROGATE_ERROR_STATE = 7,    /* call out of order (propose before set, accept twice) */
  LSMS_SURROGATE_ERROR_BACKEND = 8,  /* backend unknown, or not compiled into this build */
  LSMS_SURROGATE_ERROR_MEMORY = 9,   /* out of memory */
  LSMS_SURROGATE_ERROR_INTERNAL = 10 /* any other failure; the message says what */
} lsms_surrogate_status;

/* Tasks (bit set returned by lsms_surrogate_tasks). */
#define LSMS_SURROGATE_TASK_ENERGY 1 /* total energy of the cell, Ry */
#define LSMS_SURROGATE_TASK_CHARGE 2 /* electrons on every site, e */
#define LSMS_SURROGATE_TASK_MOMENT 4 /* magnetic moment of every site, muB */

/* ---- library ------------------------------------------------------------------------------- */

/* Version of the loaded library (any pointer may be NULL). */
LSMS_SURROGATE_API void lsms_surrogate_version(int* major, int* minor, int* patch);
/* Short English name of a status code, e.g. "file error" (a static string). */
LSMS_SURROGATE_API const char* lsms_surrogate_status_name(int status);
/* Unit of a task: "Ry", "e" or "muB" (a static string); NULL for anything else. */
LSMS_SURROGATE_API const char* lsms_surrogate_unit(int task);

/* ---- opening and closing --------------------------------------------------------------------- */

/* Opens num_paths model files; all models in them (a file may hold several fold models) form
 * one ensemble and must agree on system and tasks. backend: "auto" (or NULL: the fastest
 * compiled one), "reference", "onednn" or "cuda". num_threads >= 0 (see Thread safety).
 * On success *handle is the new handle; on failure *handle is NULL and
 * lsms_surrogate_open_error() has the message. */
LSMS_SURROGATE_API int lsms_surrogate_open(const char* const* model_paths, int num_paths,
                                           const char* backend, int num_threads,
                                           lsms_surrogate** handle);
/* Message of the last failed lsms_surrogate_open() in the calling thread ("" if none). */
LSMS_SURROGATE_API const char* lsms_surrogate_open_error(void);
/* Frees the handle (NULL is allowed and does nothing). */
LSMS_SURROGATE_API void lsms_surrogate_close(lsms_surrogate* handle);
/* Message of the last failed call on this handle ("" if the last call succeeded). The string
 * stays valid until the next call on the handle. */
LSMS_SURROGATE_API const char* lsms_surrogate_error(const lsms_surrogate* handle);

/* ---- what the model was trained for --------------------------------------------------------- */

LSMS_SURROGATE_API int lsms_surrogate_num_sites(const lsms_surrogate* handle, int* num_sites);
LSMS_SURROGATE_API int lsms_surrogate_num_species(const lsms_surrogate* handle, int* num_species);
/* Number of models in the ensemble (1: no spread). */
LSMS_SURROGATE_API int lsms_surrogate_num_models(const lsms_surrogate* handle, int* num_models);
/* Bit set of LSMS_SURROGATE_TASK_* the model predicts. */
LSMS_SURROGATE_API int lsms_surrogate_tasks(const lsms_surrogate* handle, int* tasks);
/* Species `index`: atomic number (Z may be NULL) and chemical symbol, written NUL-terminated
 * into symbol[symbol_size] (symbol may be NULL; too small a buffer is an ARGUMENT error). */
LSMS_SURROGATE_API int lsms_surrogate_species(const lsms_surrogate* handle, int index, int* Z,
                                              char* symbol, int symbol_size);
/* Lattice: kind ("sc", "bcc", "fcc", "bct") into kind[kind_size], lattice constants a and c
 * (Bohr; c = a except for bct) and the supercell repetitions along x, y, z. Any output may be
 * NULL. */
LSMS_SURROGATE_API int lsms_surrogate_lattice(const lsms_surrogate* handle, char* kind,
                                              int kind_size, double* a, double* c,
                                              int supercell[3]);
/* Cartesian site positions in Bohr, site by site: positions[3 * i + 0..2] (num_sites x 3). */
LSMS_SURROGATE_API int lsms_surrogate_positions(const lsms_surrogate* handle, double* positions);

/* ---- mapping LSMS-side data onto the model --------------------------------------------------- */

/* Atomic numbers -> species indices: species[k] is the index of Z[k]. */
LSMS_SURROGATE_API int lsms_surrogate_species_from_Z(const lsms_surrogate* handle, int count,
                                                     const int* Z, int* species);
/* Positions of an LSMS site list (count x 3, Bohr, any periodic image) -> model sites:
 * site[k] is the model site of position k. Each position must lie within `tolerance` Bohr of a
 * site (tolerance <= 0: 1e-3 Bohr) and no site may be hit twice (count <= num_sites). With
 * count == num_sites, occupation[site[k]] = species of LSMS atom k builds a configuration. */
LSMS_SURROGATE_API int lsms_surrogate_map_positions(const lsms_surrogate* handle, int count,
                                                    const double* positions, double tolerance,
                                                    int* site);

/* ---- evaluation ------------------------------------------------------------------------------ */

/* Predicts num_configs configurations (occupation: num_configs x num_sites species indices;
 * num_sites must be the model's: it is passed so that a mismatch is a SIZE error).
 * Outputs (each may be NULL when not wanted): energy and energy_std (num_configs, Ry);
 * charge, charge_std (num_configs x num_sites, e); moment, moment_std (num_configs x num_sites,
 * muB). Asking for a task the model does not predict is a TASK error. Values are the ensemble
 * mean (the model's prediction for a single model), as `lsms-surrogate predict` prints them. */
LSMS_SURROGATE_API int lsms_surrogate_evaluate(lsms_surrogate* handle, int num_configs,
                                               int num_sites, const int* occupation, double* energy,
                                               double* energy_std, double* charge,
                                               double* charge_std, double* moment,
                                               double* moment_std);

/* ---- incremental Monte Carlo (site swaps) ---------------------------------------------------- */
/* Walkers keep a configuration and the model's first-layer state; a proposed swap of two sites
 * costs O(width) plus the rest of the network, evaluated for all walkers in one batch. Needs
 * the energy task. The first layer is re-summed from scratch every 1000 proposals, so rounding
 * does not accumulate (energies agree with lsms_surrogate_evaluate to float precision). */

/* (Re)starts num_walkers walkers at the given configurations (num_walkers x num_sites, with
 * num_sites the model's, as for lsms_surrogate_evaluate); their
 * energies (and spreads) go to energy / energy_std (num_walkers each; may be NULL). */
LSMS_SURROGATE_API int lsms_surrogate_mc_set(lsms_surrogate* handle, int num_walkers, int num_sites,
                                             const int* occupation, double* energy,
                                             double* energy_std);
/* Proposes, for every walker w, the exchange of the species on sites site_i[w] and site_j[w]
 * (site_i[w] == site_j[w] or equal species: no change). Nothing is committed. Outputs
 * (num_walkers each, any may be NULL): delta_energy = proposed - current energy (Ry), the
 * proposed energy and its spread. A new proposal replaces the previous one. */
LSMS_SURROGATE_API int lsms_surrogate_mc_propose(lsms_surrogate* handle, const int* site_i,
                                                 const int* site_j, double* delta_energy,
                                                 double* energy, double* energy_std);
/* Walker w takes its last proposal (configuration, energy and spread). A proposal can be
 * accepted once; accepting without one is a STATE error. */
LSMS_SURROGATE_API int lsms_surrogate_mc_accept(lsms_surrogate* handle, int walker);
/* Walker w drops its last proposal (optional: the next proposal replaces it anyway). */
LSMS_SURROGATE_API int lsms_surrogate_mc_reject(lsms_surrogate* handle, int walker);
/* Current state of walker w: configuration (num_sites, may be NULL), energy and spread (may be
 * NULL). */
LSMS_SURROGATE_API int lsms_surrogate_mc_walker(const lsms_surrogate* handle, int walker,
                                                int* occupation, double* energy,
                                                double* energy_std);

#ifdef __cplusplus
}
#endif

#endif /* LSMS_SURROGATE_H */
