/* Wang-Landau sampling of the density of states g(E) over configurations, the way WL-LSMS's
 * master drives it, with energies from a trained surrogate through the C API instead of LSMS
 * runs:
 *   - the master knows its atoms as LSMS does (positions in Bohr, atomic numbers Z) and maps
 *     them onto the model's sites and species once (lsms_surrogate_map_positions,
 *     lsms_surrogate_species_from_Z);
 *   - several walkers share one ln g(E) and histogram; every step each walker proposes a swap of
 *     two sites; the surrogate answers all proposals in one call (lsms_surrogate_mc_propose);
 *   - a hook: a proposal whose ensemble spread exceeds --threshold (Ry) is handed to a DFT
 *     callback (in WL-LSMS: an LSMS calculation of that configuration), whose energy replaces
 *     the surrogate's. This example's callback stands in for LSMS (it returns the surrogate
 *     energy and counts calls); a real one also stores the result for retraining;
 *   - ln f is halved when the histogram is flat (every bin >= 80% of the mean).
 * Usage: wang_landau_plugin model.h5 [more model files] [--threshold Ry] [--steps N]
 *        [--walkers W] [--bins B] [--seed S] [--threads T]
 * One OpenMP thread by default: a few walkers are a small batch, and OpenMP regions around
 * microseconds of work cost more than they save (on a busy machine, much more).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lsms_surrogate.h"

#define MAX_MODELS 16

/* The DFT side: computes the energy (Ry) of one configuration (species indices per site).
 * Returns 0 on success. */
typedef int (*dft_callback)(const int* occupation, int num_sites, void* user, double* energy);

typedef struct {
  lsms_surrogate* surrogate;
  int calls;
} StandInDft;

/* Stand-in for an LSMS run: the surrogate's own energy (a real callback launches LSMS). */
static int stand_in_dft(const int* occupation, int num_sites, void* user, double* energy) {
  StandInDft* dft = (StandInDft*)user;
  ++dft->calls;
  return lsms_surrogate_evaluate(dft->surrogate, 1, num_sites, occupation, energy, NULL, NULL, NULL,
                                 NULL, NULL);
}

static unsigned long long rng_state;
static double uniform(void) {
  rng_state = rng_state * 6364136223846793005ULL + 1442695040888963407ULL;
  return (double)(rng_state >> 11) * (1.0 / 9007199254740992.0);
}

static void die(lsms_surrogate* h, const char* what, int status) {
  fprintf(stderr, "wang_landau_plugin: %s: %s (%s)\n", what,
          h ? lsms_surrogate_error(h) : lsms_surrogate_open_error(),
          lsms_surrogate_status_name(status));
  exit(1);
}

#define CALL(h, what, expr)                                  \
  do {                                                       \
    int status_ = (expr);                                    \
    if (status_ != LSMS_SURROGATE_OK) die(h, what, status_); \
  } while (0)

int main(int argc, char** argv) {
  const char* models[MAX_MODELS];
  int num_models = 0, walkers = 4, bins = 40, threads = 1, i, w, k;
  long steps = 200000, step;
  double threshold = 0.002;
  lsms_surrogate* h = NULL;
  int N = 0, S = 0, K = 0, *lsms_Z, *species, *site, *occ, *si, *sj, *trial;
  double *positions, *cur, *ep, *esp, emin = 1e300, emax = -1e300, lnf = 1.0;
  double *lng, *hist;
  StandInDft dft = {NULL, 0};
  dft_callback hook = stand_in_dft;
  long accepted = 0, refinements = 0;

  rng_state = 1;
  for (i = 1; i < argc; ++i) {
    if (strcmp(argv[i], "--threshold") == 0 && i + 1 < argc)
      threshold = atof(argv[++i]);
    else if (strcmp(argv[i], "--steps") == 0 && i + 1 < argc)
      steps = atol(argv[++i]);
    else if (strcmp(argv[i], "--walkers") == 0 && i + 1 < argc)
      walkers = atoi(argv[++i]);
    else if (strcmp(argv[i], "--bins") == 0 && i + 1 < argc)
      bins = atoi(argv[++i]);
    else if (strcmp(argv[i], "--threads") == 0 && i + 1 < argc)
      threads = atoi(argv[++i]);
    else if (strcmp(argv[i], "--seed") == 0 && i + 1 < argc)
      rng_state = strtoull(argv[++i], NULL, 10);
    else if (argv[i][0] != '-' && num_models < MAX_MODELS)
      models[num_models++] = argv[i];
    else {
      fprintf(stderr,
              "usage: %s model.h5 [...] [--threshold Ry] [--steps N] [--walkers W] "
              "[--bins B] [--seed S] [--threads T]\n",
              argv[0]);
      return 2;
    }
  }
  if (num_models == 0 || walkers < 1 || bins < 2 || steps < 1) {
    fprintf(stderr, "%s: give a model file (and positive --walkers, --bins >= 2, --steps)\n",
            argv[0]);
    return 2;
  }

  /* Open the surrogate: all fold models of the files form the ensemble. */
  CALL(NULL, "open", lsms_surrogate_open(models, num_models, "auto", threads, &h));
  CALL(h, "num_sites", lsms_surrogate_num_sites(h, &N));
  CALL(h, "num_species", lsms_surrogate_num_species(h, &S));
  CALL(h, "num_models", lsms_surrogate_num_models(h, &K));
  printf("surrogate: %d sites, %d species, %d model(s); DFT hook above %.4g Ry spread\n", N, S, K,
         threshold);
  dft.surrogate = h;

  lsms_Z = malloc(sizeof(int) * N);
  species = malloc(sizeof(int) * N);
  site = malloc(sizeof(int) * N);
  positions = malloc(sizeof(double) * 3 * N);
  occ = malloc(sizeof(int) * N * walkers);
  trial = malloc(sizeof(int) * N);
  si = malloc(sizeof(int) * walkers);
  sj = malloc(sizeof(int) * walkers);
  cur = malloc(sizeof(double) * walkers);
  ep = malloc(sizeof(double) * walkers);
  esp = malloc(sizeof(double) * walkers);
  lng = calloc(bins, sizeof(double));
  hist = calloc(bins, sizeof(double));

  /* The master's atoms as LSMS lists them: positions (here the model's own, in reverse order)
   * and atomic numbers, half species 0 and half species 1. */
  CALL(h, "positions", lsms_surrogate_positions(h, positions));
  for (i = 0; i < N / 2; ++i) {
    double t[3];
    memcpy(t, positions + 3 * i, sizeof t);
    memcpy(positions + 3 * i, positions + 3 * (N - 1 - i), sizeof t);
    memcpy(positions + 3 * (N - 1 - i), t, sizeof t);
  }
  {
    int Z0 = 0, Z1 = 0;
    CALL(h, "species", lsms_surrogate_species(h, 0, &Z0, NULL, 0));
    CALL(h, "species", lsms_surrogate_species(h, S > 1 ? 1 : 0, &Z1, NULL, 0));
    for (i = 0; i < N; ++i) lsms_Z[i] = i % 2 ? Z1 : Z0;
  }
  CALL(h, "map_positions", lsms_surrogate_map_positions(h, N, positions, 0, site));
  CALL(h, "species_from_Z", lsms_surrogate_species_from_Z(h, N, lsms_Z, species));
  for (w = 0; w < walkers; ++w) {
    for (i = 0; i < N; ++i) occ[w * N + site[i]] = species[i];
    /* Walkers start from different shuffles of the same composition. */
    for (i = N - 1; i > 0; --i) {
      const int j = (int)(uniform() * (i + 1)), t = occ[w * N + i];
      occ[w * N + i] = occ[w * N + j];
      occ[w * N + j] = t;
    }
  }

  /* Energy window from a short scan of random swaps (WL-LSMS takes it from its input). */
  CALL(h, "mc_set", lsms_surrogate_mc_set(h, walkers, N, occ, cur, NULL));
  for (step = 0; step < 2000; ++step) {
    for (w = 0; w < walkers; ++w) {
      si[w] = (int)(uniform() * N);
      sj[w] = (int)(uniform() * N);
    }
    CALL(h, "mc_propose", lsms_surrogate_mc_propose(h, si, sj, NULL, ep, NULL));
    for (w = 0; w < walkers; ++w) {
      if (ep[w] < emin) emin = ep[w];
      if (ep[w] > emax) emax = ep[w];
      CALL(h, "mc_accept", lsms_surrogate_mc_accept(h, w));
    }
  }
  {
    const double pad = 0.05 * (emax - emin) + 1e-9;
    emin -= pad;
    emax += pad;
  }
  for (w = 0; w < walkers; ++w)
    CALL(h, "mc_walker", lsms_surrogate_mc_walker(h, w, NULL, cur + w, NULL));
  printf("energy window [%.6f, %.6f] Ry, %d bins\n", emin, emax, bins);

#define BIN(e) ((int)(((e)-emin) / (emax - emin) * bins))
  for (step = 0; step < steps && lnf > 1e-4; ++step) {
    for (w = 0; w < walkers; ++w) {
      si[w] = (int)(uniform() * N);
      sj[w] = (int)(uniform() * N);
    }
    CALL(h, "mc_propose", lsms_surrogate_mc_propose(h, si, sj, NULL, ep, esp));
    for (w = 0; w < walkers; ++w) {
      double e_new = ep[w];
      int b_old = BIN(cur[w]), b_new, ok = 1;
      if (esp[w] > threshold) {
        /* Uncertain: the DFT side computes this configuration (a failure rejects the move). */
        memcpy(trial, occ + w * N, sizeof(int) * N);
        trial[si[w]] = occ[w * N + sj[w]];
        trial[sj[w]] = occ[w * N + si[w]];
        ok = hook(trial, N, &dft, &e_new) == 0;
      }
      b_new = BIN(e_new);
      if (ok && b_new >= 0 && b_new < bins && uniform() < exp(lng[b_old] - lng[b_new])) {
        CALL(h, "mc_accept", lsms_surrogate_mc_accept(h, w));
        k = occ[w * N + si[w]];
        occ[w * N + si[w]] = occ[w * N + sj[w]];
        occ[w * N + sj[w]] = k;
        cur[w] = e_new;
        b_old = b_new;
        ++accepted;
      }
      lng[b_old] += lnf;
      hist[b_old] += 1;
    }
    if (step % 1000 == 999) {
      double mean = 0, low = 1e300;
      int visited = 0;
      for (k = 0; k < bins; ++k)
        if (lng[k] > 0) {
          mean += hist[k];
          ++visited;
        }
      mean /= visited;
      for (k = 0; k < bins; ++k)
        if (lng[k] > 0 && hist[k] < low) low = hist[k];
      if (low >= 0.8 * mean) {
        lnf /= 2;
        ++refinements;
        memset(hist, 0, sizeof(double) * bins);
      }
    }
  }
  printf("%ld steps x %d walkers, %ld swaps accepted, %ld refinements, ln f = %.3g\n", step,
         walkers, accepted, refinements, lnf);
  printf("DFT hook called %d times (spread above %.4g Ry)\n", dft.calls, threshold);
  printf("# E_Ry ln_g (relative to the lowest visited bin)\n");
  {
    double lowest = 1e300;
    for (k = 0; k < bins; ++k)
      if (lng[k] > 0 && lng[k] < lowest) lowest = lng[k];
    for (k = 0; k < bins; ++k)
      if (lng[k] > 0)
        printf("%.6f %.4f\n", emin + (k + 0.5) * (emax - emin) / bins, lng[k] - lowest);
  }
  lsms_surrogate_close(h);
  free(lsms_Z), free(species), free(site), free(positions), free(occ), free(trial);
  free(si), free(sj), free(cur), free(ep), free(esp), free(lng), free(hist);
  return 0;
}
