// The C API (lsms_surrogate.h): argument checks, error codes and messages, the OpenMP thread
// count of a handle. Every entry point catches everything: no C++ exception crosses into C or
// Fortran. The work is done by an Engine (engine.cpp).
#include <omp.h>

#include <cstring>
#include <mutex>
#include <new>
#include <string>
#include <vector>

#include "engine.hpp"
#include "lsms_surrogate.h"

using lsmss::capi::Engine;
using lsmss::capi::EvaluateOutputs;
using lsmss::capi::Failure;
using lsmss::capi::ModelInfo;

struct lsms_surrogate {
  std::unique_ptr<Engine> engine;
  int threads = 0;            // OpenMP threads of the handle's calls (0: the caller's setting)
  mutable std::string error;  // message of the last failed call (queries record theirs too)
};

namespace {

thread_local std::string open_error;
// Opening reads HDF5 files, and Debian's serial HDF5 library is not thread-safe: one open at a
// time.
std::mutex open_mutex;

// Runs the handle's calls on its thread count (0: the caller's) and gives the caller back its
// own setting, whatever the libraries set on the way.
class ThreadScope {
 public:
  explicit ThreadScope(int threads) : saved_(omp_get_max_threads()) {
    if (threads > 0) omp_set_num_threads(threads);
  }
  ~ThreadScope() {
    if (omp_get_max_threads() != saved_) omp_set_num_threads(saved_);
  }
  ThreadScope(const ThreadScope&) = delete;
  ThreadScope& operator=(const ThreadScope&) = delete;

 private:
  int saved_;
};

[[noreturn]] void fail(int code, const std::string& message) {
  throw Failure(code, message);
}

void need(const void* p, const char* function, const char* name) {
  if (!p) fail(LSMS_SURROGATE_ERROR_ARGUMENT, std::string(function) + ": " + name + " is NULL");
}

void need_count(int n, const char* function, const char* name) {
  if (n < 0)
    fail(LSMS_SURROGATE_ERROR_ARGUMENT,
         std::string(function) + ": " + name + " = " + std::to_string(n) + " is negative");
}

std::string species_list(const ModelInfo& info) {
  std::string s;
  for (int k = 0; k < info.num_species; ++k)
    s += (k ? ", " : "") + std::to_string(k) + " = " + info.symbols[k];
  return s;
}

// num_sites must be the model's and every entry a species index of the model.
void check_configurations(const ModelInfo& info, const char* function, int count, int num_sites,
                          const int* occupation) {
  if (num_sites != info.num_sites)
    fail(LSMS_SURROGATE_ERROR_SIZE, std::string(function) + ": configurations of " +
                                        std::to_string(num_sites) + " sites, but the model has " +
                                        std::to_string(info.num_sites) + " sites");
  if (count > 0) need(occupation, function, "occupation");
  for (int k = 0; k < count; ++k)
    for (int i = 0; i < num_sites; ++i) {
      const int s = occupation[static_cast<std::size_t>(k) * num_sites + i];
      if (s < 0 || s >= info.num_species)
        fail(LSMS_SURROGATE_ERROR_SPECIES,
             std::string(function) + ": configuration " + std::to_string(k) + ", site " +
                 std::to_string(i) + ": species index " + std::to_string(s) +
                 " is not one of the model's (" + species_list(info) + ")");
    }
}

void copy_string(const std::string& s, char* dst, int size, const char* function,
                 const char* name) {
  if (!dst) return;
  if (size < static_cast<int>(s.size()) + 1)
    fail(LSMS_SURROGATE_ERROR_ARGUMENT, std::string(function) + ": " + name + "_size " +
                                            std::to_string(size) + " is too small for '" + s +
                                            "' (needs " + std::to_string(s.size() + 1) + ")");
  std::memcpy(dst, s.c_str(), s.size() + 1);
}

int code_of_current_exception(std::string& message) noexcept {
  try {
    throw;
  } catch (const Failure& e) {
    message = e.what();
    return e.code();
  } catch (const std::bad_alloc&) {
    message = "out of memory";
    return LSMS_SURROGATE_ERROR_MEMORY;
  } catch (const std::exception& e) {
    message = e.what();
    return LSMS_SURROGATE_ERROR_INTERNAL;
  } catch (...) {
    message = "unknown error";
    return LSMS_SURROGATE_ERROR_INTERNAL;
  }
}

// Runs f on a handle: its status code, the message kept in the handle.
template <class F>
int guarded(const lsms_surrogate* handle, F&& f) noexcept {
  if (!handle) return LSMS_SURROGATE_ERROR_ARGUMENT;
  const lsms_surrogate& h = *handle;
  h.error.clear();
  try {
    ThreadScope threads(h.threads);
    f(*h.engine);
    return LSMS_SURROGATE_OK;
  } catch (...) {
    try {
      return code_of_current_exception(h.error);
    } catch (...) {  // copying the message failed: the code alone
      return LSMS_SURROGATE_ERROR_MEMORY;
    }
  }
}

void check_walker(const Engine& e, int walker, const char* function) {
  if (e.mc_walkers() == 0)
    fail(LSMS_SURROGATE_ERROR_STATE,
         std::string(function) + ": no walkers yet (call lsms_surrogate_mc_set first)");
  if (walker < 0 || walker >= e.mc_walkers())
    fail(LSMS_SURROGATE_ERROR_ARGUMENT, std::string(function) + ": walker " +
                                            std::to_string(walker) + " is not in 0.." +
                                            std::to_string(e.mc_walkers() - 1));
}

}  // namespace

extern "C" {

void lsms_surrogate_version(int* major, int* minor, int* patch) {
  if (major) *major = LSMS_SURROGATE_VERSION_MAJOR;
  if (minor) *minor = LSMS_SURROGATE_VERSION_MINOR;
  if (patch) *patch = LSMS_SURROGATE_VERSION_PATCH;
}

const char* lsms_surrogate_status_name(int status) {
  switch (status) {
    case LSMS_SURROGATE_OK:
      return "ok";
    case LSMS_SURROGATE_ERROR_ARGUMENT:
      return "invalid argument";
    case LSMS_SURROGATE_ERROR_FILE:
      return "model file error";
    case LSMS_SURROGATE_ERROR_SIZE:
      return "size mismatch";
    case LSMS_SURROGATE_ERROR_SPECIES:
      return "unknown species";
    case LSMS_SURROGATE_ERROR_POSITION:
      return "position matches no site";
    case LSMS_SURROGATE_ERROR_TASK:
      return "task not predicted by the model";
    case LSMS_SURROGATE_ERROR_STATE:
      return "call out of order";
    case LSMS_SURROGATE_ERROR_BACKEND:
      return "backend not available";
    case LSMS_SURROGATE_ERROR_MEMORY:
      return "out of memory";
    case LSMS_SURROGATE_ERROR_INTERNAL:
      return "internal error";
    default:
      return "unknown status";
  }
}

const char* lsms_surrogate_unit(int task) {
  switch (task) {
    case LSMS_SURROGATE_TASK_ENERGY:
      return "Ry";
    case LSMS_SURROGATE_TASK_CHARGE:
      return "e";
    case LSMS_SURROGATE_TASK_MOMENT:
      return "muB";
    default:
      return nullptr;
  }
}

int lsms_surrogate_open(const char* const* model_paths, int num_paths, const char* backend,
                        int num_threads, lsms_surrogate** handle) {
  if (handle) *handle = nullptr;
  try {
    open_error.clear();
    need(handle, "lsms_surrogate_open", "handle");
    need(model_paths, "lsms_surrogate_open", "model_paths");
    if (num_paths < 1)
      fail(LSMS_SURROGATE_ERROR_ARGUMENT,
           "lsms_surrogate_open: num_paths = " + std::to_string(num_paths) + ", need at least 1");
    need_count(num_threads, "lsms_surrogate_open", "num_threads");
    std::vector<std::string> paths;
    for (int k = 0; k < num_paths; ++k) {
      if (!model_paths[k])
        fail(LSMS_SURROGATE_ERROR_ARGUMENT,
             "lsms_surrogate_open: model_paths[" + std::to_string(k) + "] is NULL");
      paths.emplace_back(model_paths[k]);
    }
    const std::string b = backend ? backend : "auto";
    if (b != "auto" && b != "reference" && b != "onednn" && b != "cuda")
      fail(LSMS_SURROGATE_ERROR_BACKEND,
           "lsms_surrogate_open: unknown backend '" + b + "' (auto, reference, onednn or cuda)");
    auto h = std::make_unique<lsms_surrogate>();
    h->threads = num_threads;
    ThreadScope threads(num_threads);
    {
      const std::lock_guard<std::mutex> lock(open_mutex);
      h->engine = Engine::open(paths, b);
    }
    *handle = h.release();
    return LSMS_SURROGATE_OK;
  } catch (...) {
    try {
      return code_of_current_exception(open_error);
    } catch (...) {
      return LSMS_SURROGATE_ERROR_MEMORY;
    }
  }
}

const char* lsms_surrogate_open_error(void) {
  return open_error.c_str();
}

void lsms_surrogate_close(lsms_surrogate* handle) {
  delete handle;  // NOLINT(cppcoreguidelines-owning-memory): the C API's owner
}

const char* lsms_surrogate_error(const lsms_surrogate* handle) {
  return handle ? handle->error.c_str() : "handle is NULL";
}

int lsms_surrogate_num_sites(const lsms_surrogate* handle, int* num_sites) {
  return guarded(handle, [&](Engine& e) {
    need(num_sites, "lsms_surrogate_num_sites", "num_sites");
    *num_sites = e.info().num_sites;
  });
}

int lsms_surrogate_num_species(const lsms_surrogate* handle, int* num_species) {
  return guarded(handle, [&](Engine& e) {
    need(num_species, "lsms_surrogate_num_species", "num_species");
    *num_species = e.info().num_species;
  });
}

int lsms_surrogate_num_models(const lsms_surrogate* handle, int* num_models) {
  return guarded(handle, [&](Engine& e) {
    need(num_models, "lsms_surrogate_num_models", "num_models");
    *num_models = e.info().num_models;
  });
}

int lsms_surrogate_tasks(const lsms_surrogate* handle, int* tasks) {
  return guarded(handle, [&](Engine& e) {
    need(tasks, "lsms_surrogate_tasks", "tasks");
    *tasks = static_cast<int>(e.info().tasks);
  });
}

int lsms_surrogate_species(const lsms_surrogate* handle, int index, int* Z, char* symbol,
                           int symbol_size) {
  return guarded(handle, [&](Engine& e) {
    const ModelInfo& info = e.info();
    if (index < 0 || index >= info.num_species)
      fail(LSMS_SURROGATE_ERROR_ARGUMENT, "lsms_surrogate_species: index " + std::to_string(index) +
                                              " is not in 0.." +
                                              std::to_string(info.num_species - 1));
    copy_string(info.symbols[index], symbol, symbol_size, "lsms_surrogate_species", "symbol");
    if (Z) *Z = info.Z[index];
  });
}

int lsms_surrogate_lattice(const lsms_surrogate* handle, char* kind, int kind_size, double* a,
                           double* c, int supercell[3]) {
  return guarded(handle, [&](Engine& e) {
    const ModelInfo& info = e.info();
    copy_string(info.lattice_kind, kind, kind_size, "lsms_surrogate_lattice", "kind");
    if (a) *a = info.a;
    if (c) *c = info.c;
    if (supercell)
      for (int k = 0; k < 3; ++k) supercell[k] = info.supercell[k];
  });
}

int lsms_surrogate_positions(const lsms_surrogate* handle, double* positions) {
  return guarded(handle, [&](Engine& e) {
    need(positions, "lsms_surrogate_positions", "positions");
    const auto& p = e.info().positions;
    std::copy(p.begin(), p.end(), positions);
  });
}

int lsms_surrogate_species_from_Z(const lsms_surrogate* handle, int count, const int* Z,
                                  int* species) {
  return guarded(handle, [&](Engine& e) {
    const char* fn = "lsms_surrogate_species_from_Z";
    need_count(count, fn, "count");
    if (count == 0) return;
    need(Z, fn, "Z");
    need(species, fn, "species");
    const ModelInfo& info = e.info();
    for (int k = 0; k < count; ++k) {
      int found = -1;
      for (int s = 0; s < info.num_species; ++s)
        if (info.Z[s] == Z[k]) found = s;
      if (found < 0) {
        std::string known;
        for (int s = 0; s < info.num_species; ++s)
          known += (s ? ", " : "") + info.symbols[s] + " (Z=" + std::to_string(info.Z[s]) + ")";
        fail(LSMS_SURROGATE_ERROR_SPECIES, std::string(fn) + ": entry " + std::to_string(k) +
                                               ": Z = " + std::to_string(Z[k]) +
                                               " is not a species of the model (" + known + ")");
      }
      species[k] = found;
    }
  });
}

int lsms_surrogate_map_positions(const lsms_surrogate* handle, int count, const double* positions,
                                 double tolerance, int* site) {
  return guarded(handle, [&](Engine& e) {
    const char* fn = "lsms_surrogate_map_positions";
    need_count(count, fn, "count");
    if (count > e.info().num_sites)
      fail(LSMS_SURROGATE_ERROR_SIZE, std::string(fn) + ": " + std::to_string(count) +
                                          " positions, but the model has only " +
                                          std::to_string(e.info().num_sites) + " sites");
    if (count == 0) return;
    need(positions, fn, "positions");
    need(site, fn, "site");
    e.match_positions(positions, count, tolerance > 0 ? tolerance : 1e-3, site);
  });
}

int lsms_surrogate_evaluate(lsms_surrogate* handle, int num_configs, int num_sites,
                            const int* occupation, double* energy, double* energy_std,
                            double* charge, double* charge_std, double* moment,
                            double* moment_std) {
  return guarded(handle, [&](Engine& e) {
    const char* fn = "lsms_surrogate_evaluate";
    const ModelInfo& info = e.info();
    need_count(num_configs, fn, "num_configs");
    check_configurations(info, fn, num_configs, num_sites, occupation);
    auto task = [&](const double* a, const double* b, unsigned bit, const char* what) {
      if ((a || b) && !(info.tasks & bit))
        fail(LSMS_SURROGATE_ERROR_TASK,
             std::string(fn) + ": the model does not predict " + what + " (pass NULL)");
    };
    task(energy, energy_std, LSMS_SURROGATE_TASK_ENERGY, "the energy");
    task(charge, charge_std, LSMS_SURROGATE_TASK_CHARGE, "charges");
    task(moment, moment_std, LSMS_SURROGATE_TASK_MOMENT, "moments");
    if (num_configs == 0) return;
    e.evaluate(occupation, num_configs,
               EvaluateOutputs{energy, energy_std, charge, charge_std, moment, moment_std});
  });
}

int lsms_surrogate_mc_set(lsms_surrogate* handle, int num_walkers, int num_sites,
                          const int* occupation, double* energy, double* energy_std) {
  return guarded(handle, [&](Engine& e) {
    const char* fn = "lsms_surrogate_mc_set";
    if (num_walkers < 1)
      fail(LSMS_SURROGATE_ERROR_ARGUMENT,
           std::string(fn) + ": num_walkers = " + std::to_string(num_walkers) + ", need >= 1");
    if (!(e.info().tasks & LSMS_SURROGATE_TASK_ENERGY))
      fail(LSMS_SURROGATE_ERROR_TASK, std::string(fn) + ": the model does not predict the energy");
    check_configurations(e.info(), fn, num_walkers, num_sites, occupation);
    e.mc_set(occupation, num_walkers, energy, energy_std);
  });
}

int lsms_surrogate_mc_propose(lsms_surrogate* handle, const int* site_i, const int* site_j,
                              double* delta_energy, double* energy, double* energy_std) {
  return guarded(handle, [&](Engine& e) {
    const char* fn = "lsms_surrogate_mc_propose";
    if (e.mc_walkers() == 0)
      fail(LSMS_SURROGATE_ERROR_STATE,
           std::string(fn) + ": no walkers yet (call lsms_surrogate_mc_set first)");
    need(site_i, fn, "site_i");
    need(site_j, fn, "site_j");
    const int N = e.info().num_sites;
    for (int w = 0; w < e.mc_walkers(); ++w)
      for (const int s : {site_i[w], site_j[w]})
        if (s < 0 || s >= N)
          fail(LSMS_SURROGATE_ERROR_ARGUMENT, std::string(fn) + ": walker " + std::to_string(w) +
                                                  ": site " + std::to_string(s) + " is not in 0.." +
                                                  std::to_string(N - 1));
    e.mc_propose(site_i, site_j, delta_energy, energy, energy_std);
  });
}

int lsms_surrogate_mc_accept(lsms_surrogate* handle, int walker) {
  return guarded(handle, [&](Engine& e) {
    const char* fn = "lsms_surrogate_mc_accept";
    check_walker(e, walker, fn);
    if (!e.mc_pending(walker))
      fail(LSMS_SURROGATE_ERROR_STATE, std::string(fn) + ": walker " + std::to_string(walker) +
                                           " has no proposal to accept (accepted or rejected "
                                           "already, or none made since lsms_surrogate_mc_set)");
    e.mc_accept(walker);
  });
}

int lsms_surrogate_mc_reject(lsms_surrogate* handle, int walker) {
  return guarded(handle, [&](Engine& e) {
    check_walker(e, walker, "lsms_surrogate_mc_reject");
    e.mc_reject(walker);
  });
}

int lsms_surrogate_mc_walker(const lsms_surrogate* handle, int walker, int* occupation,
                             double* energy, double* energy_std) {
  return guarded(handle, [&](Engine& e) {
    check_walker(e, walker, "lsms_surrogate_mc_walker");
    e.mc_walker(walker, occupation, energy, energy_std);
  });
}

}  // extern "C"
