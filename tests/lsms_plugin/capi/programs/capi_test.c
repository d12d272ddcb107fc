/* The C API from an outside C99 program linked against the installed liblsms_surrogate:
 *  - predictions of a 3-fold ensemble and of a single model equal `lsms-surrogate predict` on
 *    the same configurations (pred.csv, pred_one.csv written by make_model.cmake);
 *  - queries (sites, species, lattice, positions, tasks, units) and position/Z mapping;
 *  - error paths: missing and malformed files, unknown backend, models that do not form one
 *    ensemble, wrong sizes, unknown species, bad positions, calls out of order, NULL handles;
 *  - the incremental swap interface: every proposed energy equals a full evaluation of the
 *    swapped configuration, accepted swaps update the walkers, over more than one refresh;
 *  - handles opened and used by several threads at once give the single-thread numbers.
 * Usage: capi_test_c <folder with model.h5, one.h5, configs.txt, pred.csv, pred_one.csv>
 *        capi_test_c --version
 */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "lsms_surrogate.h"

static int failures = 0;

#define CHECK(cond, ...)                                                       \
  do {                                                                         \
    if (!(cond)) {                                                             \
      ++failures;                                                              \
      fprintf(stderr, "%s:%d: check failed: %s: ", __FILE__, __LINE__, #cond); \
      fprintf(stderr, __VA_ARGS__);                                            \
      fprintf(stderr, "\n");                                                   \
    }                                                                          \
  } while (0)

#define MAX_CONFIGS 64
#define MAX_SITES 64

static char dir[4096];

static const char* path_of(const char* name) {
  static char buf[2][4200];
  static int which = 0;
  which ^= 1;
  snprintf(buf[which], sizeof buf[which], "%s/%s", dir, name);
  return buf[which];
}

/* One row of `lsms-surrogate predict -o x.csv`. */
typedef struct {
  char config[MAX_SITES + 1];
  double energy, energy_std;
  double charge[MAX_SITES], charge_std[MAX_SITES], moment[MAX_SITES], moment_std[MAX_SITES];
  int n_charge, n_moment;
} PredictRow;

/* Splits a CSV line into fields (quotes group commas); returns the number of fields. */
static int split_csv(char* line, char** fields, int max) {
  int n = 0, quoted = 0;
  char* p = line;
  fields[n++] = p;
  for (; *p && *p != '\n'; ++p) {
    if (*p == '"') {
      quoted = !quoted;
      *p = ' ';
    } else if (*p == ',' && !quoted && n < max) {
      *p = '\0';
      fields[n++] = p + 1;
    }
  }
  *p = '\0';
  return n;
}

static int parse_list(const char* s, double* out) {
  int n = 0;
  char* end;
  while (*s) {
    double v = strtod(s, &end);
    if (end == s) break;
    out[n++] = v;
    s = end;
    while (*s == ',' || *s == ' ') ++s;
  }
  return n;
}

static int read_predictions(const char* file, PredictRow* rows) {
  FILE* f = fopen(file, "r");
  char line[65536];
  int n = 0;
  if (!f) {
    fprintf(stderr, "cannot read %s\n", file);
    exit(2);
  }
  while (fgets(line, sizeof line, f) && n < MAX_CONFIGS) {
    char* fields[16];
    PredictRow* r = &rows[n];
    if (line[0] == '#' || strncmp(line, "source,", 7) == 0) continue;
    if (split_csv(line, fields, 16) < 10) continue;
    strncpy(r->config, fields[1], MAX_SITES);
    r->config[MAX_SITES] = '\0';
    r->energy = *fields[3] ? strtod(fields[3], NULL) : NAN;
    r->energy_std = *fields[4] ? strtod(fields[4], NULL) : NAN;
    r->n_charge = parse_list(fields[5], r->charge);
    parse_list(fields[6], r->charge_std);
    r->n_moment = parse_list(fields[7], r->moment);
    parse_list(fields[8], r->moment_std);
    ++n;
  }
  fclose(f);
  return n;
}

/* predict prints energies with 10 decimals, spreads with 4 significant digits, charges and
 * moments with 6 decimals: agreement to those digits is agreement to float precision. */
static int close_to(double a, double b, double abs_tol, double rel_tol) {
  return fabs(a - b) <= abs_tol + rel_tol * fabs(b);
}

static void check_against_predict(lsms_surrogate* h, const char* csv, int full) {
  static PredictRow rows[MAX_CONFIGS];
  static int occ[MAX_CONFIGS * MAX_SITES];
  static double e[MAX_CONFIGS], es[MAX_CONFIGS], q[MAX_CONFIGS * MAX_SITES],
      qs[MAX_CONFIGS * MAX_SITES], m[MAX_CONFIGS * MAX_SITES], ms[MAX_CONFIGS * MAX_SITES];
  int n = read_predictions(path_of(csv), rows), N = 0, k, i, status;
  CHECK(lsms_surrogate_num_sites(h, &N) == LSMS_SURROGATE_OK, "%s", lsms_surrogate_error(h));
  CHECK(n >= 8, "%s has %d rows", csv, n);
  for (k = 0; k < n; ++k)
    for (i = 0; i < N; ++i) occ[k * N + i] = rows[k].config[i] - '0';
  status = lsms_surrogate_evaluate(h, n, N, occ, e, es, full ? q : NULL, full ? qs : NULL,
                                   full ? m : NULL, full ? ms : NULL);
  CHECK(status == LSMS_SURROGATE_OK, "evaluate: %s", lsms_surrogate_error(h));
  for (k = 0; k < n; ++k) {
    const PredictRow* r = &rows[k];
    CHECK(close_to(e[k], r->energy, 2e-10, 1e-7), "%s %s: energy %.10f, predict %.10f", csv,
          r->config, e[k], r->energy);
    CHECK(close_to(es[k], r->energy_std, 1e-12, 1e-3), "%s %s: energy_std %.4e, predict %.4e", csv,
          r->config, es[k], r->energy_std);
    if (!full) continue;
    CHECK(r->n_charge == N && r->n_moment == N, "%s: %d charges, %d moments", csv, r->n_charge,
          r->n_moment);
    for (i = 0; i < N; ++i) {
      CHECK(close_to(q[k * N + i], r->charge[i], 1e-6, 1e-7), "%s %s site %d: charge %.7f vs %.6f",
            csv, r->config, i, q[k * N + i], r->charge[i]);
      CHECK(close_to(qs[k * N + i], r->charge_std[i], 1e-6, 0), "charge_std %.7f vs %.6f",
            qs[k * N + i], r->charge_std[i]);
      CHECK(close_to(m[k * N + i], r->moment[i], 1e-6, 1e-7), "%s %s site %d: moment %.7f vs %.6f",
            csv, r->config, i, m[k * N + i], r->moment[i]);
      CHECK(close_to(ms[k * N + i], r->moment_std[i], 1e-6, 0), "moment_std %.7f vs %.6f",
            ms[k * N + i], r->moment_std[i]);
    }
  }
  /* One configuration at a time gives the same numbers as the batch. */
  for (k = 0; k < n; ++k) {
    double e1 = 0;
    CHECK(lsms_surrogate_evaluate(h, 1, N, occ + k * N, &e1, NULL, NULL, NULL, NULL, NULL) ==
              LSMS_SURROGATE_OK,
          "%s", lsms_surrogate_error(h));
    CHECK(close_to(e1, e[k], 1e-9, 1e-7), "config %d alone: %.10f, in the batch %.10f", k, e1,
          e[k]);
  }
  printf("%s: %d configurations reproduced\n", csv, n);
}

static lsms_surrogate* open_one(const char* name) {
  const char* p = path_of(name);
  lsms_surrogate* h = NULL;
  int status = lsms_surrogate_open(&p, 1, "auto", 1, &h);
  if (status != LSMS_SURROGATE_OK) {
    fprintf(stderr, "cannot open %s: %s\n", p, lsms_surrogate_open_error());
    exit(1);
  }
  return h;
}

static void check_queries(lsms_surrogate* h) {
  int N = 0, S = 0, K = 0, tasks = 0, Z = 0, supercell[3] = {0, 0, 0}, k;
  char symbol[8], kind[8], tiny[2];
  double a = 0, c = 0, pos[MAX_SITES * 3], shifted[MAX_SITES * 3];
  int site[MAX_SITES], zs[3] = {79, 29, 79}, species[3];
  CHECK(lsms_surrogate_num_sites(h, &N) == 0 && N == 16, "num_sites %d", N);
  CHECK(lsms_surrogate_num_species(h, &S) == 0 && S == 2, "num_species %d", S);
  CHECK(lsms_surrogate_num_models(h, &K) == 0 && K == 3, "num_models %d", K);
  CHECK(lsms_surrogate_tasks(h, &tasks) == 0 &&
            tasks == (LSMS_SURROGATE_TASK_ENERGY | LSMS_SURROGATE_TASK_CHARGE |
                      LSMS_SURROGATE_TASK_MOMENT),
        "tasks %d", tasks);
  CHECK(lsms_surrogate_species(h, 0, &Z, symbol, sizeof symbol) == 0 && Z == 29 &&
            strcmp(symbol, "Cu") == 0,
        "species 0: %d %s", Z, symbol);
  CHECK(lsms_surrogate_species(h, 1, &Z, symbol, sizeof symbol) == 0 && Z == 79 &&
            strcmp(symbol, "Au") == 0,
        "species 1: %d %s", Z, symbol);
  CHECK(lsms_surrogate_species(h, 1, NULL, tiny, sizeof tiny) == LSMS_SURROGATE_ERROR_ARGUMENT,
        "a 2-byte buffer for 'Au'");
  CHECK(strstr(lsms_surrogate_error(h), "too small") != NULL, "%s", lsms_surrogate_error(h));
  CHECK(lsms_surrogate_species(h, 2, &Z, NULL, 0) == LSMS_SURROGATE_ERROR_ARGUMENT, "species 2");
  CHECK(lsms_surrogate_lattice(h, kind, sizeof kind, &a, &c, supercell) == 0, "lattice");
  CHECK(strcmp(kind, "fcc") == 0 && a == 7.2377 && c == 7.2377 && supercell[0] == 2 &&
            supercell[1] == 2 && supercell[2] == 1,
        "lattice %s %g %g %dx%dx%d", kind, a, c, supercell[0], supercell[1], supercell[2]);
  CHECK(strcmp(lsms_surrogate_unit(LSMS_SURROGATE_TASK_ENERGY), "Ry") == 0 &&
            strcmp(lsms_surrogate_unit(LSMS_SURROGATE_TASK_CHARGE), "e") == 0 &&
            strcmp(lsms_surrogate_unit(LSMS_SURROGATE_TASK_MOMENT), "muB") == 0 &&
            lsms_surrogate_unit(3) == NULL,
        "units");
  /* Positions: site 0 at the origin, site 1 at (a/2, a/2, 0) (fcc basis order). */
  CHECK(lsms_surrogate_positions(h, pos) == 0, "positions");
  CHECK(pos[0] == 0 && pos[1] == 0 && pos[2] == 0 && fabs(pos[3] - a / 2) < 1e-12 &&
            fabs(pos[4] - a / 2) < 1e-12 && pos[5] == 0,
        "positions of sites 0, 1");
  /* An LSMS site list in another order, shifted by a lattice vector of the supercell (periodic
   * image) and by rounding noise: mapped back onto the model's sites. */
  for (k = 0; k < N; ++k) {
    const int from = (5 * k + 3) % N;
    shifted[3 * k + 0] = pos[3 * from + 0] + 2 * a + 1e-5;
    shifted[3 * k + 1] = pos[3 * from + 1] - 2 * a;
    shifted[3 * k + 2] = pos[3 * from + 2] + a;
  }
  CHECK(lsms_surrogate_map_positions(h, N, shifted, 0, site) == 0, "%s", lsms_surrogate_error(h));
  for (k = 0; k < N; ++k) CHECK(site[k] == (5 * k + 3) % N, "position %d -> site %d", k, site[k]);
  shifted[4] += 0.3;
  CHECK(lsms_surrogate_map_positions(h, N, shifted, 0, site) == LSMS_SURROGATE_ERROR_POSITION,
        "a position 0.3 Bohr off its site");
  CHECK(strlen(lsms_surrogate_error(h)) > 0, "message of the position error");
  CHECK(lsms_surrogate_map_positions(h, N + 1, shifted, 0, site) == LSMS_SURROGATE_ERROR_SIZE,
        "more positions than sites");
  CHECK(lsms_surrogate_species_from_Z(h, 3, zs, species) == 0 && species[0] == 1 &&
            species[1] == 0 && species[2] == 1,
        "species from Z");
  zs[1] = 26;
  CHECK(lsms_surrogate_species_from_Z(h, 3, zs, species) == LSMS_SURROGATE_ERROR_SPECIES,
        "Fe in a CuAu model");
  CHECK(strstr(lsms_surrogate_error(h), "Z = 26") != NULL, "%s", lsms_surrogate_error(h));
  /* A successful call clears the message. */
  CHECK(lsms_surrogate_num_sites(h, &N) == 0 && lsms_surrogate_error(h)[0] == '\0',
        "message after success: '%s'", lsms_surrogate_error(h));
}

static void check_open_errors(void) {
  lsms_surrogate* h = (lsms_surrogate*)1;
  const char* missing = path_of("no_such_model.h5");
  const char* text = path_of("configs.txt");
  const char* two[2];
  int status = lsms_surrogate_open(&missing, 1, NULL, 0, &h);
  CHECK(status == LSMS_SURROGATE_ERROR_FILE && h == NULL, "missing file: %d", status);
  CHECK(strstr(lsms_surrogate_open_error(), "no_such_model.h5") != NULL, "message: %s",
        lsms_surrogate_open_error());
  status = lsms_surrogate_open(&text, 1, NULL, 0, &h);
  CHECK(status == LSMS_SURROGATE_ERROR_FILE && h == NULL, "a text file as model: %d", status);
  CHECK(strstr(lsms_surrogate_open_error(), "configs.txt") != NULL, "message: %s",
        lsms_surrogate_open_error());
  two[0] = path_of("model.h5");
  status = lsms_surrogate_open(two, 1, "nonsense", 0, &h);
  CHECK(status == LSMS_SURROGATE_ERROR_BACKEND && h == NULL, "unknown backend: %d", status);
  CHECK(strstr(lsms_surrogate_open_error(), "nonsense") != NULL, "message: %s",
        lsms_surrogate_open_error());
  /* An ECM ensemble and an energy-only model do not form one ensemble. */
  two[1] = path_of("one.h5");
  status = lsms_surrogate_open(two, 2, NULL, 0, &h);
  CHECK(status == LSMS_SURROGATE_ERROR_FILE && h == NULL, "mixed tasks: %d", status);
  CHECK(strlen(lsms_surrogate_open_error()) > 0, "message of the mixed-task open");
  CHECK(lsms_surrogate_open(two, 0, NULL, 0, &h) == LSMS_SURROGATE_ERROR_ARGUMENT, "no paths");
  CHECK(lsms_surrogate_open(two, 1, NULL, -1, &h) == LSMS_SURROGATE_ERROR_ARGUMENT,
        "negative threads");
  CHECK(lsms_surrogate_open(two, 1, NULL, 0, NULL) == LSMS_SURROGATE_ERROR_ARGUMENT,
        "NULL handle pointer");
  /* Succeeds afterwards; the open message is then empty. */
  status = lsms_surrogate_open(two, 1, NULL, 0, &h);
  CHECK(status == LSMS_SURROGATE_OK && h != NULL && lsms_surrogate_open_error()[0] == '\0',
        "reopen: %s", lsms_surrogate_open_error());
  lsms_surrogate_close(h);
  lsms_surrogate_close(NULL);
}

static void check_call_errors(lsms_surrogate* h, lsms_surrogate* energy_only) {
  int occ[2 * MAX_SITES] = {0}, n = 0, si = 0, sj = 1;
  double e[2], q[2 * MAX_SITES];
  CHECK(lsms_surrogate_evaluate(h, 1, 15, occ, e, NULL, NULL, NULL, NULL, NULL) ==
            LSMS_SURROGATE_ERROR_SIZE,
        "15 sites");
  CHECK(strstr(lsms_surrogate_error(h), "16 sites") != NULL, "%s", lsms_surrogate_error(h));
  occ[16 + 7] = 2;
  CHECK(lsms_surrogate_evaluate(h, 2, 16, occ, e, NULL, NULL, NULL, NULL, NULL) ==
            LSMS_SURROGATE_ERROR_SPECIES,
        "species index 2");
  CHECK(strstr(lsms_surrogate_error(h), "configuration 1, site 7") != NULL, "%s",
        lsms_surrogate_error(h));
  occ[16 + 7] = -1;
  CHECK(lsms_surrogate_evaluate(h, 2, 16, occ, e, NULL, NULL, NULL, NULL, NULL) ==
            LSMS_SURROGATE_ERROR_SPECIES,
        "species index -1");
  occ[16 + 7] = 0;
  CHECK(lsms_surrogate_evaluate(h, -1, 16, occ, e, NULL, NULL, NULL, NULL, NULL) ==
            LSMS_SURROGATE_ERROR_ARGUMENT,
        "-1 configurations");
  CHECK(lsms_surrogate_evaluate(h, 1, 16, NULL, e, NULL, NULL, NULL, NULL, NULL) ==
            LSMS_SURROGATE_ERROR_ARGUMENT,
        "NULL occupation");
  CHECK(
      lsms_surrogate_evaluate(h, 0, 16, NULL, e, NULL, NULL, NULL, NULL, NULL) == LSMS_SURROGATE_OK,
      "an empty batch");
  CHECK(lsms_surrogate_evaluate(energy_only, 1, 16, occ, e, NULL, q, NULL, NULL, NULL) ==
            LSMS_SURROGATE_ERROR_TASK,
        "charges of an energy-only model");
  CHECK(strstr(lsms_surrogate_error(energy_only), "charges") != NULL, "%s",
        lsms_surrogate_error(energy_only));
  CHECK(lsms_surrogate_mc_propose(h, &si, &sj, NULL, NULL, NULL) == LSMS_SURROGATE_ERROR_STATE,
        "propose before set");
  CHECK(lsms_surrogate_mc_accept(h, 0) == LSMS_SURROGATE_ERROR_STATE, "accept before set");
  CHECK(lsms_surrogate_num_sites(NULL, &n) == LSMS_SURROGATE_ERROR_ARGUMENT, "NULL handle");
  CHECK(strcmp(lsms_surrogate_error(NULL), "handle is NULL") == 0, "message of a NULL handle");
  CHECK(strcmp(lsms_surrogate_status_name(LSMS_SURROGATE_ERROR_SPECIES), "unknown species") == 0,
        "status name");
}

/* A handle opened with 1 thread leaves the caller's OpenMP thread count as it was. */
static void check_threads(lsms_surrogate* h) {
#ifdef _OPENMP
  int occ[16] = {0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1};
  double e = 0;
  omp_set_num_threads(3);
  CHECK(lsms_surrogate_evaluate(h, 1, 16, occ, &e, NULL, NULL, NULL, NULL, NULL) == 0, "%s",
        lsms_surrogate_error(h));
  CHECK(omp_get_max_threads() == 3, "caller's OpenMP threads %d after a call, was 3",
        omp_get_max_threads());
  printf("the caller's OpenMP thread count is restored\n");
#else
  (void)h;
#endif
}

/* Distinct handles in distinct threads at the same time: each thread opens its own handle and
 * evaluates the same batch many times; every result equals the single-thread one. */
enum { THREADS = 4, CONFIGS = 8 };
static int shared_occ[CONFIGS * 16];
static double reference[CONFIGS];

static void* thread_body(void* arg) {
  int* mismatches = (int*)arg;
  const char* p = path_of("model.h5");
  lsms_surrogate* h = NULL;
  double e[CONFIGS];
  int k, rep;
  if (lsms_surrogate_open(&p, 1, NULL, 1, &h) != LSMS_SURROGATE_OK) {
    *mismatches = -1;
    return NULL;
  }
  for (rep = 0; rep < 200; ++rep) {
    if (lsms_surrogate_evaluate(h, CONFIGS, 16, shared_occ, e, NULL, NULL, NULL, NULL, NULL) !=
        LSMS_SURROGATE_OK) {
      *mismatches = -2;
      break;
    }
    for (k = 0; k < CONFIGS; ++k)
      if (e[k] != reference[k]) ++*mismatches;
  }
  lsms_surrogate_close(h);
  return NULL;
}

static void check_concurrent_handles(lsms_surrogate* h) {
  pthread_t threads[THREADS];
  int mismatches[THREADS] = {0}, t, k, i;
  for (k = 0; k < CONFIGS; ++k)
    for (i = 0; i < 16; ++i) shared_occ[k * 16 + i] = ((k + 1) * (i + 3) / 5) % 2;
  CHECK(lsms_surrogate_evaluate(h, CONFIGS, 16, shared_occ, reference, NULL, NULL, NULL, NULL,
                                NULL) == LSMS_SURROGATE_OK,
        "%s", lsms_surrogate_error(h));
  for (t = 0; t < THREADS; ++t) pthread_create(&threads[t], NULL, thread_body, &mismatches[t]);
  for (t = 0; t < THREADS; ++t) pthread_join(threads[t], NULL);
  for (t = 0; t < THREADS; ++t)
    CHECK(mismatches[t] == 0, "thread %d: %d mismatches (-1: open failed, -2: evaluate failed)", t,
          mismatches[t]);
  printf("%d threads with their own handles: same energies as one thread\n", THREADS);
}

/* Deterministic pseudo-random numbers (LCG), so the test is reproducible. */
static unsigned long long rng_state = 12345;
static double uniform(void) {
  rng_state = rng_state * 6364136223846793005ULL + 1442695040888963407ULL;
  return (double)(rng_state >> 11) * (1.0 / 9007199254740992.0);
}

/* Walkers of several compositions; every proposal is checked against a full evaluation of the
 * swapped configuration, accepted swaps against the walker's state. 1500 proposals cross the
 * handle's refresh (every 1000). */
static void check_swap_loop(lsms_surrogate* h) {
  enum { W = 4, N = 16, STEPS = 1500 };
  int occ[W * N], swapped[W * N], si[W], sj[W], w, i, step, accepted = 0;
  double e0[W], es0[W], de[W], ep[W], esp[W], full[W], full_std[W], cur[W], worst = 0;
  const char* start[W] = {"0101010101010101", "0011001100110011", "1000000000000000",
                          "1110001011010001"};
  for (w = 0; w < W; ++w)
    for (i = 0; i < N; ++i) occ[w * N + i] = start[w][i] - '0';
  CHECK(lsms_surrogate_mc_set(h, W, 15, occ, e0, es0) == LSMS_SURROGATE_ERROR_SIZE, "set 15 sites");
  CHECK(lsms_surrogate_mc_set(h, W, N, occ, e0, es0) == 0, "%s", lsms_surrogate_error(h));
  CHECK(lsms_surrogate_evaluate(h, W, N, occ, full, full_std, NULL, NULL, NULL, NULL) == 0, "%s",
        lsms_surrogate_error(h));
  for (w = 0; w < W; ++w) {
    CHECK(close_to(e0[w], full[w], 1e-9, 1e-6), "walker %d start %.10f vs %.10f", w, e0[w],
          full[w]);
    CHECK(close_to(es0[w], full_std[w], 1e-7, 1e-3), "walker %d std %.3e vs %.3e", w, es0[w],
          full_std[w]);
    cur[w] = e0[w];
  }
  for (step = 0; step < STEPS; ++step) {
    for (w = 0; w < W; ++w) {
      si[w] = (int)(uniform() * N);
      sj[w] = (int)(uniform() * N);
    }
    CHECK(lsms_surrogate_mc_propose(h, si, sj, de, ep, esp) == 0, "%s", lsms_surrogate_error(h));
    memcpy(swapped, occ, sizeof occ);
    for (w = 0; w < W; ++w) {
      const int t = swapped[w * N + si[w]];
      swapped[w * N + si[w]] = swapped[w * N + sj[w]];
      swapped[w * N + sj[w]] = t;
    }
    CHECK(lsms_surrogate_evaluate(h, W, N, swapped, full, full_std, NULL, NULL, NULL, NULL) == 0,
          "%s", lsms_surrogate_error(h));
    for (w = 0; w < W; ++w) {
      const double err = fabs(ep[w] - full[w]);
      if (err > worst) worst = err;
      CHECK(close_to(ep[w], full[w], 1e-9, 1e-6), "step %d walker %d: %.10f vs full %.10f", step, w,
            ep[w], full[w]);
      CHECK(close_to(esp[w], full_std[w], 1e-7, 1e-3), "step %d walker %d: std %.3e vs %.3e", step,
            w, esp[w], full_std[w]);
      /* The refresh (every 1000 proposals) re-sums the current energies: float precision. */
      CHECK(fabs(de[w] - (ep[w] - cur[w])) <= 1e-9 + 1e-6 * fabs(cur[w]),
            "delta %.10f vs %.10f - %.10f", de[w], ep[w], cur[w]);
      if (uniform() < 0.5) {
        CHECK(lsms_surrogate_mc_accept(h, w) == 0, "%s", lsms_surrogate_error(h));
        memcpy(occ + w * N, swapped + w * N, sizeof(int) * N);
        cur[w] = ep[w];
        ++accepted;
      } else if (w % 2) {
        CHECK(lsms_surrogate_mc_reject(h, w) == 0, "%s", lsms_surrogate_error(h));
      }
    }
  }
  for (w = 0; w < W; ++w) {
    int walker_occ[N];
    double e = 0;
    CHECK(lsms_surrogate_mc_walker(h, w, walker_occ, &e, NULL) == 0, "%s", lsms_surrogate_error(h));
    CHECK(memcmp(walker_occ, occ + w * N, sizeof walker_occ) == 0, "walker %d configuration", w);
    CHECK(close_to(e, cur[w], 1e-9, 1e-6), "walker %d energy %.10f vs %.10f", w, e, cur[w]);
  }
  /* A proposal can be accepted once. */
  CHECK(lsms_surrogate_mc_propose(h, si, sj, NULL, NULL, NULL) == 0, "%s", lsms_surrogate_error(h));
  CHECK(lsms_surrogate_mc_accept(h, 0) == 0, "%s", lsms_surrogate_error(h));
  CHECK(lsms_surrogate_mc_accept(h, 0) == LSMS_SURROGATE_ERROR_STATE, "accepting twice");
  CHECK(lsms_surrogate_mc_accept(h, W) == LSMS_SURROGATE_ERROR_ARGUMENT, "walker %d", W);
  si[2] = N;
  CHECK(lsms_surrogate_mc_propose(h, si, sj, NULL, NULL, NULL) == LSMS_SURROGATE_ERROR_ARGUMENT,
        "site %d", N);
  printf("swap loop: %d proposals, %d accepted, largest |proposed - full| = %.3e Ry\n", STEPS * W,
         accepted, worst);
}

int main(int argc, char** argv) {
  int major = -1, minor = -1, patch = -1;
  lsms_surrogate *ensemble, *single;
  lsms_surrogate_version(&major, &minor, &patch);
  if (argc == 2 && strcmp(argv[1], "--version") == 0) {
    printf("liblsms_surrogate %d.%d.%d (header %d.%d.%d)\n", major, minor, patch,
           LSMS_SURROGATE_VERSION_MAJOR, LSMS_SURROGATE_VERSION_MINOR,
           LSMS_SURROGATE_VERSION_PATCH);
    return major == LSMS_SURROGATE_VERSION_MAJOR ? 0 : 1;
  }
  if (argc != 2) {
    fprintf(stderr, "usage: %s <model folder> | --version\n", argv[0]);
    return 2;
  }
  snprintf(dir, sizeof dir, "%s", argv[1]);
  CHECK(major == LSMS_SURROGATE_VERSION_MAJOR && minor == LSMS_SURROGATE_VERSION_MINOR &&
            patch == LSMS_SURROGATE_VERSION_PATCH,
        "library %d.%d.%d", major, minor, patch);

  check_open_errors();
  ensemble = open_one("model.h5");
  single = open_one("one.h5");
  check_queries(ensemble);
  check_against_predict(ensemble, "pred.csv", 1);
  check_against_predict(single, "pred_one.csv", 0);
  check_call_errors(ensemble, single);
  check_threads(ensemble);
  check_concurrent_handles(ensemble);
  check_swap_loop(ensemble);
  check_swap_loop(single);
  lsms_surrogate_close(ensemble);
  lsms_surrogate_close(single);
  if (failures) {
    fprintf(stderr, "%d checks failed\n", failures);
    return 1;
  }
  printf("all C API checks passed\n");
  return 0;
}
