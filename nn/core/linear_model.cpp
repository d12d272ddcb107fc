#include "nn/core/linear_model.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "core/error.hpp"
#include "nn/core/training_parts.hpp"

namespace lsmss::nn {

std::string model_kind_name(ModelKind kind) {
  switch (kind) {
    case ModelKind::mlp:
      return "mlp";
    case ModelKind::cluster_expansion:
      return "cluster_expansion";
    case ModelKind::ce_mlp:
      return "ce+mlp";
  }
  return "?";
}

ModelKind model_kind_from_name(std::string_view name) {
  for (ModelKind k : {ModelKind::mlp, ModelKind::cluster_expansion, ModelKind::ce_mlp})
    if (model_kind_name(k) == name) return k;
  fail("unknown model kind '{}' (expected mlp, cluster_expansion or ce+mlp)", name);
}

// ---------------------------------------------------------------- descriptors

SiteDescriptors::SiteDescriptors(const System& system, int shells, int order)
    : shells_(shells), order_(order), sites_(system.num_sites()), species_(system.num_species()) {
  if (shells < 1 || shells > 20) fail("linear model: shells = {} outside 1..20", shells);
  if (order != 1 && order != 2) fail("linear model: order = {} (expected 1 or 2)", order);
  if (species_ < 2) fail("linear model: needs at least two species");
  neighbors_ = system.lattice.shells(shells).sites;
  base_ = 1 + (shells + 1) * (species_ - 1);
  const int variable = base_ - 1;
  size_ = order == 1 ? base_ : base_ + variable * (variable + 1) / 2;
}

void SiteDescriptors::compute(const std::uint8_t* occ, double* out) const {
  std::vector<double> fraction(species_, 0.0);
  for (int i = 0; i < sites_; ++i) fraction[occ[i]] += 1.0 / sites_;
  for (int i = 0; i < sites_; ++i) {
    double* d = out + static_cast<std::size_t>(i) * size_;
    std::fill(d, d + size_, 0.0);
    d[0] = 1.0;
    for (int s = 0; s < shells_; ++s)
      for (int j : neighbors_[s][i])
        if (occ[j] > 0) d[1 + s * (species_ - 1) + occ[j] - 1] += 1.0;
    for (int b = 1; b < species_; ++b) d[1 + shells_ * (species_ - 1) + b - 1] = fraction[b];
    if (order_ == 2) {
      int k = base_;
      for (int u = 1; u < base_; ++u)
        for (int v = u; v < base_; ++v) d[k++] = d[u] * d[v];
    }
  }
}

// ---------------------------------------------------------------- ridge regression

namespace {

// Sums of a regression problem, accumulated row by row (targets shifted by the first one so
// that the centred sums keep their precision).
struct NormalSums {
  explicit NormalSums(int p)
      : p(p), sx(p, 0.0), sxx(static_cast<std::size_t>(p) * p, 0.0), sxy(p, 0.0) {}
  void add(const double* x, double y) {
    if (n == 0 && !shift_set) {
      shift = y;
      shift_set = true;
    }
    y -= shift;
    n += 1;
    sy += y;
    syy += y * y;
    for (int a = 0; a < p; ++a) {
      sx[a] += x[a];
      sxy[a] += x[a] * y;
      double* row = &sxx[static_cast<std::size_t>(a) * p];
      for (int b = a; b < p; ++b) row[b] += x[a] * x[b];
    }
  }
  int p;
  double n = 0, sy = 0, syy = 0, shift = 0;
  bool shift_set = false;
  std::vector<double> sx, sxx, sxy;  // sxx: upper triangle
  double xx(int a, int b) const {
    return a <= b ? sxx[static_cast<std::size_t>(a) * p + b]
                  : sxx[static_cast<std::size_t>(b) * p + a];
  }
};

// Solves A w = b (A symmetric positive semi-definite, p x p) by Cholesky; a column whose pivot
// falls below `tolerance` times its diagonal depends linearly on the earlier ones and gets
// weight 0 (the least-squares fit without it is the same fit). False if A is not PSD.
bool cholesky_solve(std::vector<double> A, std::vector<double>& b, int p,
                    double tolerance = 1e-11) {
  auto at = [&A, p](int i, int j) -> double& { return A[static_cast<std::size_t>(i) * p + j]; };
  std::vector<bool> dropped(p, false);
  for (int j = 0; j < p; ++j) {
    const double diagonal = at(j, j);
    double d = diagonal;
    for (int k = 0; k < j; ++k) d -= at(j, k) * at(j, k);
    if (d < -1e-8 * std::abs(diagonal)) return false;
    if (!(d > tolerance * diagonal) || diagonal <= 0) {
      dropped[j] = true;
      for (int i = j; i < p; ++i) at(i, j) = 0.0;
      at(j, j) = 1.0;
      continue;
    }
    d = std::sqrt(d);
    at(j, j) = d;
    for (int i = j + 1; i < p; ++i) {
      double s = at(i, j);
      for (int k = 0; k < j; ++k) s -= at(i, k) * at(j, k);
      at(i, j) = s / d;
    }
  }
  for (int i = 0; i < p; ++i) {
    if (dropped[i]) {
      b[i] = 0.0;
      continue;
    }
    double s = b[i];
    for (int k = 0; k < i; ++k) s -= at(i, k) * b[k];
    b[i] = s / at(i, i);
  }
  for (int i = p - 1; i >= 0; --i) {
    if (dropped[i]) continue;
    double s = b[i];
    for (int k = i + 1; k < p; ++k) s -= at(k, i) * b[k];
    b[i] = s / at(i, i);
  }
  return true;
}

// The fit of the centred problem with penalty ridge * diag(covariance); columns without
// variance get weight 0. Empty weight: not solvable at this ridge.
RidgeFit solve_ridge(const NormalSums& t, double ridge) {
  const int p = t.p;
  RidgeFit f;
  f.ridge = ridge;
  f.mean.resize(p);
  for (int a = 0; a < p; ++a) f.mean[a] = t.sx[a] / t.n;
  const double my = t.sy / t.n;
  std::vector<double> A(static_cast<std::size_t>(p) * p, 0.0), b(p, 0.0);
  std::vector<bool> active(p);
  for (int a = 0; a < p; ++a) {
    const double var = t.xx(a, a) / t.n - f.mean[a] * f.mean[a];
    active[a] = var > 1e-12 * std::max(1.0, f.mean[a] * f.mean[a]);
  }
  for (int a = 0; a < p; ++a) {
    b[a] = active[a] ? t.sxy[a] / t.n - f.mean[a] * my : 0.0;
    for (int c = 0; c < p; ++c)
      A[static_cast<std::size_t>(a) * p + c] =
          active[a] && active[c] ? t.xx(a, c) / t.n - f.mean[a] * f.mean[c] : 0.0;
    double& d = A[static_cast<std::size_t>(a) * p + a];
    d = active[a] ? d * (1.0 + ridge) : 1.0;
  }
  if (!cholesky_solve(std::move(A), b, p)) return f;
  f.weight = std::move(b);
  f.offset = my + t.shift;
  return f;
}

// Sum of squared errors of `f` on the rows summed in `v` (same shift convention, own shift).
double validation_sse(const RidgeFit& f, const NormalSums& v) {
  const int p = v.p;
  // residual = (y - shift_v) - (c + w.x) with c = offset - shift_v - w.mean
  double c = f.offset - v.shift;
  for (int a = 0; a < p; ++a) c -= f.weight[a] * f.mean[a];
  double sse = v.syy - 2 * c * v.sy + v.n * c * c;
  for (int a = 0; a < p; ++a) {
    sse -= 2 * f.weight[a] * (v.sxy[a] - c * v.sx[a]);
    for (int b = 0; b < p; ++b) sse += f.weight[a] * f.weight[b] * v.xx(a, b);
  }
  return sse;
}

// The ridge penalty `options_ridge` (>= 0), or the candidate with the least validation error.
RidgeFit fit_ridge(const NormalSums& train, const NormalSums& validation, double options_ridge,
                   const std::string& what) {
  if (train.n < 1) fail("linear model: no training rows for {}", what);
  std::vector<double> candidates;
  if (options_ridge >= 0 || validation.n < 1)
    candidates = {options_ridge >= 0 ? options_ridge : 1e-8};
  else
    candidates = {1e-12, 1e-10, 1e-8, 1e-6, 1e-4, 1e-2, 1e-1};
  RidgeFit best;
  double best_sse = std::numeric_limits<double>::infinity();
  for (double r : candidates) {
    RidgeFit f = solve_ridge(train, r);
    if (f.weight.empty()) continue;
    const double sse = candidates.size() == 1 ? 0.0 : validation_sse(f, validation);
    if (best.weight.empty() || sse < best_sse) {
      best = std::move(f);
      best_sse = sse;
    }
  }
  if (best.weight.empty())
    fail("linear model: the {} fit is singular at every ridge penalty tried", what);
  return best;
}

}  // namespace

double RidgeFit::predict(const double* x) const {
  double y = offset;
  for (std::size_t a = 0; a < weight.size(); ++a) y += weight[a] * (x[a] - mean[a]);
  return y;
}

// ---------------------------------------------------------------- the model

int LinearModel::energy_features() const {
  const int S = desc_.num_species();
  return S * desc_.size() + (S - 1) * options_.composition_powers;
}

void LinearModel::energy_features(const std::uint8_t* occ, const double* site_desc,
                                  double* out) const {
  const int S = desc_.num_species(), D = desc_.size(), N = desc_.num_sites();
  std::fill(out, out + energy_features(), 0.0);
  std::vector<double> count(S, 0.0);
  for (int i = 0; i < N; ++i) {
    count[occ[i]] += 1.0;
    const double* d = site_desc + static_cast<std::size_t>(i) * D;
    double* block = out + static_cast<std::size_t>(occ[i]) * D;
    for (int k = 0; k < D; ++k) block[k] += d[k];
  }
  double* point = out + static_cast<std::size_t>(S) * D;
  for (int b = 1; b < S; ++b)
    for (int k = 0; k < options_.composition_powers; ++k)
      point[(b - 1) * options_.composition_powers + k] = std::pow(count[b] / N, k + 1);
}

namespace {

// Per-species reference energies (Ry per atom) by least squares of the energy on the atom
// counts: what is left is the mixing energy, a few orders smaller, which the ridge fits.
std::vector<double> fit_reference_energies(const dataset::Dataset& d,
                                           const std::vector<std::size_t>& rows) {
  const int S = d.system.num_species(), N = d.num_sites;
  std::vector<double> A(static_cast<std::size_t>(S) * S, 0.0), b(S, 0.0);
  for (std::size_t r : rows) {
    std::vector<double> n(S, 0.0);
    for (int i = 0; i < N; ++i) n[d.occupation[r * N + i]] += 1;
    for (int a = 0; a < S; ++a) {
      b[a] += n[a] * d.energy[r];
      for (int c = 0; c < S; ++c) A[static_cast<std::size_t>(a) * S + c] += n[a] * n[c];
    }
  }
  for (int a = 0; a < S; ++a) A[static_cast<std::size_t>(a) * S + a] += 1e-9;  // absent species
  if (!cholesky_solve(A, b, S)) fail("linear model: cannot fit per-species reference energies");
  return b;
}

}  // namespace

LinearModel LinearModel::fit(const dataset::Dataset& d, const std::vector<Task>& tasks,
                             const std::vector<std::size_t>& train,
                             const std::vector<std::size_t>& validation,
                             const LinearModelOptions& options) {
  LinearModel m;
  m.tasks_ = tasks;
  m.options_ = options;
  m.desc_ = SiteDescriptors(d.system, options.shells, options.order);
  const int S = d.system.num_species(), N = d.num_sites, D = m.desc_.size();
  if (N != m.desc_.num_sites())
    fail("linear model: dataset rows have {} sites, the lattice {}", N, m.desc_.num_sites());
  const bool has_energy = std::count(tasks.begin(), tasks.end(), Task::energy) > 0;
  if (has_energy) m.reference_energy_ = fit_reference_energies(d, train);
  const int E = m.energy_features();
  NormalSums e_train(E), e_val(E);
  // Per task (charge, moment) and own species: sums over every site of the rows.
  std::vector<std::vector<NormalSums>> s_train(2, std::vector<NormalSums>(S, NormalSums(D)));
  std::vector<std::vector<NormalSums>> s_val = s_train;
  std::vector<double> desc(static_cast<std::size_t>(N) * D), ef(E);
  auto accumulate = [&](const std::vector<std::size_t>& rows, NormalSums& e,
                        std::vector<std::vector<NormalSums>>& s) {
    for (std::size_t r : rows) {
      const std::uint8_t* occ = &d.occupation[r * N];
      m.desc_.compute(occ, desc.data());
      for (Task t : tasks) {
        if (t == Task::energy) {
          m.energy_features(occ, desc.data(), ef.data());
          double ref = 0;
          for (int i = 0; i < N; ++i) ref += m.reference_energy_[occ[i]];
          e.add(ef.data(), d.energy[r] - ref);
          continue;
        }
        const auto& values = training::values_of(d, t);
        auto& sums = s[t == Task::charge ? 0 : 1];
        for (int i = 0; i < N; ++i)
          sums[occ[i]].add(&desc[static_cast<std::size_t>(i) * D], values[r * N + i]);
      }
    }
  };
  accumulate(train, e_train, s_train);
  accumulate(validation, e_val, s_val);
  for (Task t : tasks) {
    if (t == Task::energy) {
      m.energy_ = fit_ridge(e_train, e_val, options.ridge, "energy");
      continue;
    }
    const int k = t == Task::charge ? 0 : 1;
    auto& fits = t == Task::charge ? m.charge_ : m.moment_;
    for (int a = 0; a < S; ++a) {
      if (s_train[k][a].n < 1) {  // a species absent from training: its sites predict 0
        RidgeFit zero;
        zero.mean.assign(D, 0.0);
        zero.weight.assign(D, 0.0);
        fits.push_back(std::move(zero));
        continue;
      }
      fits.push_back(
          fit_ridge(s_train[k][a], s_val[k][a], options.ridge,
                    fmt::format("{} of {} sites", task_name(t), d.system.species[a].symbol)));
    }
  }
  return m;
}

void LinearModel::add_predictions(const std::uint8_t* occupation, std::size_t n,
                                  Predictions& p) const {
  const int N = desc_.num_sites(), D = desc_.size();
  std::vector<double> desc(static_cast<std::size_t>(N) * D), ef(energy_features());
  for (std::size_t r = 0; r < n; ++r) {
    const std::uint8_t* occ = occupation + r * N;
    desc_.compute(occ, desc.data());
    for (Task t : tasks_) {
      if (t == Task::energy) {
        energy_features(occ, desc.data(), ef.data());
        double e = energy_.predict(ef.data());
        for (int i = 0; i < N; ++i) e += reference_energy_[occ[i]];
        p.energy[r] += e;
        continue;
      }
      const auto& fits = t == Task::charge ? charge_ : moment_;
      auto& out = t == Task::charge ? p.charge : p.moment;
      for (int i = 0; i < N; ++i)
        out[r * N + i] += fits[occ[i]].predict(&desc[static_cast<std::size_t>(i) * D]);
    }
  }
}

std::string LinearModel::describe() const {
  std::vector<std::string> parts;
  for (Task t : tasks_) {
    if (t == Task::energy)
      parts.push_back(fmt::format("E: {} CE (ridge {:.0e})",
                                  options_.order == 1 ? "pair" : "3-body", energy_.ridge));
    else
      parts.push_back(fmt::format("{}: site-linear", t == Task::charge ? "C" : "M"));
  }
  return fmt::format("{} shells, {}", options_.shells, fmt::join(parts, ", "));
}

// ---------------------------------------------------------------- model file

namespace {

void write_fits(hid_t g, const std::string& name, const std::vector<RidgeFit>& fits) {
  const hsize_t S = fits.size(), D = fits.empty() ? 0 : fits[0].mean.size();
  std::vector<double> mean, weight, offset, ridge;
  for (const auto& f : fits) {
    mean.insert(mean.end(), f.mean.begin(), f.mean.end());
    weight.insert(weight.end(), f.weight.begin(), f.weight.end());
    offset.push_back(f.offset);
    ridge.push_back(f.ridge);
  }
  auto fg = h5::create_group(g, name);
  h5::write(fg, "mean", mean, {S, D});
  h5::write(fg, "weight", weight, {S, D});
  h5::write(fg, "offset", offset);
  h5::write(fg, "ridge", ridge);
}

std::vector<RidgeFit> read_fits(hid_t g, const std::string& name, std::size_t count,
                                std::size_t size) {
  auto fg = h5::open_group(g, name);
  const auto mean = h5::read<double>(fg, "mean");
  const auto weight = h5::read<double>(fg, "weight");
  const auto offset = h5::read<double>(fg, "offset");
  const auto ridge = h5::read<double>(fg, "ridge");
  if (mean.size() != count * size || weight.size() != count * size || offset.size() != count ||
      ridge.size() != count)
    fail("linear/{}: expected {} fits of {} coefficients", name, count, size);
  std::vector<RidgeFit> fits(count);
  for (std::size_t k = 0; k < count; ++k) {
    fits[k].mean.assign(mean.begin() + k * size, mean.begin() + (k + 1) * size);
    fits[k].weight.assign(weight.begin() + k * size, weight.begin() + (k + 1) * size);
    fits[k].offset = offset[k];
    fits[k].ridge = ridge[k];
    for (std::size_t a = 0; a < size; ++a)
      if (!std::isfinite(fits[k].mean[a]) || !std::isfinite(fits[k].weight[a]))
        fail("linear/{}: non-finite coefficient", name);
  }
  return fits;
}

}  // namespace

void LinearModel::write(hid_t g) const {
  std::vector<std::string> tasks;
  for (Task t : tasks_) tasks.push_back(task_name(t));
  h5::write_attr(g, "tasks", tasks);
  h5::write_attr(g, "shells", static_cast<std::int64_t>(options_.shells));
  h5::write_attr(g, "order", static_cast<std::int64_t>(options_.order));
  h5::write_attr(g, "composition_powers", static_cast<std::int64_t>(options_.composition_powers));
  for (Task t : tasks_) {
    if (t == Task::energy) {
      h5::write(g, "reference_energy", reference_energy_);
      write_fits(g, "energy", {energy_});
    } else {
      write_fits(g, task_name(t), t == Task::charge ? charge_ : moment_);
    }
  }
}

LinearModel LinearModel::read(hid_t g, const System& system) {
  LinearModel m;
  for (const auto& s : h5::read_attr_strings(g, "tasks")) m.tasks_.push_back(task_from_name(s));
  m.options_.shells = static_cast<int>(h5::read_attr_int(g, "shells"));
  m.options_.order = static_cast<int>(h5::read_attr_int(g, "order"));
  m.options_.composition_powers = static_cast<int>(h5::read_attr_int(g, "composition_powers"));
  if (m.options_.composition_powers < 0 || m.options_.composition_powers > 10)
    fail("linear: composition_powers = {} outside 0..10", m.options_.composition_powers);
  m.desc_ = SiteDescriptors(system, m.options_.shells, m.options_.order);
  const std::size_t S = system.num_species();
  for (Task t : m.tasks_) {
    if (t == Task::energy) {
      m.reference_energy_ = h5::read<double>(g, "reference_energy");
      if (m.reference_energy_.size() != S)
        fail("linear/reference_energy has {} values for {} species", m.reference_energy_.size(), S);
      m.energy_ = read_fits(g, "energy", 1, m.energy_features()).front();
    } else {
      (t == Task::charge ? m.charge_ : m.moment_) = read_fits(g, task_name(t), S, m.desc_.size());
    }
  }
  return m;
}

}  // namespace lsmss::nn
