#include "nn/core/linear_model.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <map>

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

SiteDescriptors::SiteDescriptors(const System& system, int shells, int order, int triplet_shells)
    : shells_(shells), order_(order), sites_(system.num_sites()), species_(system.num_species()) {
  if (shells < 1 || shells > 20) fail("linear model: shells = {} outside 1..20", shells);
  if (order != 1 && order != 2) fail("linear model: order = {} (expected 1 or 2)", order);
  if (triplet_shells < 0 || triplet_shells > 4)
    fail("linear model: triplet_shells = {} outside 0..4", triplet_shells);
  if (species_ < 2) fail("linear model: needs at least two species");
  neighbors_ = system.lattice.shells(shells).sites;
  base_ = 1 + (shells + 1) * (species_ - 1);
  const int variable = base_ - 1;
  products_end_ = order == 1 ? base_ : base_ + variable * (variable + 1) / 2;
  size_ = products_end_;
  if (triplet_shells > 0) add_triplets(system.lattice, triplet_shells);
}

// Every triangle i-j-k (periodic images of j and k distinct points) with j and k within
// `triplet_shells` shells of i, classified by its shape: the shells of ij, ik (sorted) and jk.
void SiteDescriptors::add_triplets(const Lattice& lattice, int triplet_shells) {
  constexpr int kShapeShells = 20;  // jk farther than this many shells: not counted
  const auto dist = lattice.shells(kShapeShells).distance;
  auto shell_of = [&dist](double r) {
    for (std::size_t s = 0; s < dist.size(); ++s)
      if (std::abs(r - dist[s]) <= 1e-6 * std::max(1.0, r)) return static_cast<int>(s);
    return -1;
  };
  std::vector<std::vector<PeriodicNeighbor>> around(sites_);
  for (const auto& nb : lattice.neighbors_within(dist[triplet_shells - 1] * (1 + 1e-9)))
    around[nb.i].push_back(nb);
  std::map<std::array<int, 3>, int> shapes;
  triangles_.assign(sites_, {});
  for (int i = 0; i < sites_; ++i)
    for (std::size_t a = 0; a < around[i].size(); ++a)
      for (std::size_t b = a + 1; b < around[i].size(); ++b) {
        const int sjk = shell_of(norm(around[i][b].d - around[i][a].d));
        if (sjk < 0) continue;
        const int s1 = shell_of(around[i][a].r), s2 = shell_of(around[i][b].r);
        const std::array<int, 3> key{std::min(s1, s2), std::max(s1, s2), sjk};
        const auto [it, added] = shapes.emplace(key, static_cast<int>(shapes.size()));
        triangles_[i].push_back({around[i][a].j, around[i][b].j, it->second});
      }
  // Shapes are numbered in the order site 0 meets them; every site meets the same ones (the
  // lattices are Bravais), so the numbering is the same on reading the file back.
  triplet_classes_ = static_cast<int>(shapes.size());
  const int pairs = (species_ - 1) * species_ / 2;  // species pairs (b <= c), b, c >= 1
  size_ = products_end_ + triplet_classes_ * pairs;
}

void SiteDescriptors::compute(const std::uint8_t* occ, double* out) const {
  std::vector<double> fraction(species_, 0.0);
  for (int i = 0; i < sites_; ++i) fraction[occ[i]] += 1.0 / sites_;
  const int pairs = (species_ - 1) * species_ / 2;
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
    if (triangles_.empty()) continue;
    for (const auto& t : triangles_[i]) {
      const int b = std::min(occ[t.j], occ[t.k]), c = std::max(occ[t.j], occ[t.k]);
      if (b == 0) continue;  // a species-0 corner: implied by the lower-order counts
      // index of the pair (b, c), 1 <= b <= c < species
      const int pair = (b - 1) * (2 * species_ - b) / 2 + (c - b);
      d[products_end_ + t.shape * pairs + pair] += 1.0;
    }
  }
}

// ---------------------------------------------------------------- ridge regression

namespace {

// Sums of a regression problem, accumulated row by row with the row's weight w (the weighted
// normal equations; w = 1 gives the plain sums bit for bit). Targets are shifted by the first
// one so that the centred sums keep their precision.
struct NormalSums {
  explicit NormalSums(int p)
      : p(p), sx(p, 0.0), sxx(static_cast<std::size_t>(p) * p, 0.0), sxy(p, 0.0) {}
  void add(const double* x, double y, double w = 1.0) {
    if (rows == 0 && !shift_set) {
      shift = y;
      shift_set = true;
    }
    y -= shift;
    rows += 1;
    n += w;
    sy += w * y;
    syy += w * y * y;
    for (int a = 0; a < p; ++a) {
      const double wx = w * x[a];
      sx[a] += wx;
      sxy[a] += wx * y;
      double* row = &sxx[static_cast<std::size_t>(a) * p];
      for (int b = a; b < p; ++b) row[b] += wx * x[b];
    }
  }
  int p;
  double rows = 0;  // rows added
  double n = 0;     // their total weight
  double sy = 0, syy = 0, shift = 0;
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
  if (train.rows < 1) fail("linear model: no training rows for {}", what);
  std::vector<double> candidates;
  if (options_ridge >= 0 || validation.rows < 1)
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
                                           const std::vector<std::size_t>& rows,
                                           const std::vector<float>& weights) {
  const int S = d.system.num_species(), N = d.num_sites;
  std::vector<double> A(static_cast<std::size_t>(S) * S, 0.0), b(S, 0.0);
  for (std::size_t k = 0; k < rows.size(); ++k) {
    const std::size_t r = rows[k];
    const double w = weights.empty() ? 1.0 : weights[k];
    std::vector<double> n(S, 0.0);
    for (int i = 0; i < N; ++i) n[d.occupation[r * N + i]] += 1;
    for (int a = 0; a < S; ++a) {
      b[a] += w * n[a] * d.energy[r];
      for (int c = 0; c < S; ++c) A[static_cast<std::size_t>(a) * S + c] += w * n[a] * n[c];
    }
  }
  for (int a = 0; a < S; ++a) A[static_cast<std::size_t>(a) * S + a] += 1e-9;  // absent species
  if (!cholesky_solve(A, b, S)) fail("linear model: cannot fit per-species reference energies");
  return b;
}

}  // namespace

int LinearModel::bin_of(const std::uint8_t* occ) const {
  if (!options_.per_composition) return 0;
  return 1 + static_cast<int>(std::count(occ, occ + desc_.num_sites(), std::uint8_t{0}));
}

namespace {

// The fit of `group` in `bin`, or the shared one (bin 0) where that bin has none.
const RidgeFit& fit_of(const std::vector<RidgeFit>& fits, int groups, int bin, int group) {
  const RidgeFit& f = fits[static_cast<std::size_t>(bin) * groups + group];
  return f.weight.empty() ? fits[group] : f;
}

// Every bin's fit; bin 0 (all rows) must succeed, the others are left empty with fewer than
// two training rows.
std::vector<RidgeFit> fit_bins(const std::vector<NormalSums>& train,
                               const std::vector<NormalSums>& validation, int groups, double ridge,
                               const std::string& what) {
  std::vector<RidgeFit> fits(train.size());
  for (std::size_t k = 0; k < train.size(); ++k) {
    const bool shared = k < static_cast<std::size_t>(groups);
    if (shared && train[k].rows < 1) {  // a species absent from training: its sites predict 0
      fits[k].mean.assign(train[k].p, 0.0);
      fits[k].weight.assign(train[k].p, 0.0);
      continue;
    }
    if (!shared && train[k].rows < 2) continue;
    fits[k] = fit_ridge(train[k], validation[k], ridge, what);
  }
  return fits;
}

}  // namespace

LinearModel LinearModel::fit(const dataset::Dataset& d, const std::vector<Task>& tasks,
                             const std::vector<std::size_t>& train,
                             const std::vector<std::size_t>& validation,
                             const LinearModelOptions& options,
                             const std::vector<float>& train_weight,
                             const std::vector<float>& validation_weight) {
  if ((!train_weight.empty() && train_weight.size() != train.size()) ||
      (!validation_weight.empty() && validation_weight.size() != validation.size()))
    fail("linear model: {} and {} row weights for {} training and {} validation rows",
         train_weight.size(), validation_weight.size(), train.size(), validation.size());
  LinearModel m;
  m.tasks_ = tasks;
  m.options_ = options;
  m.desc_ = SiteDescriptors(d.system, options.shells, options.order, options.triplet_shells);
  const int S = d.system.num_species(), N = d.num_sites, D = m.desc_.size(), B = m.bins();
  if (N != m.desc_.num_sites())
    fail("linear model: dataset rows have {} sites, the lattice {}", N, m.desc_.num_sites());
  const bool has_energy = std::count(tasks.begin(), tasks.end(), Task::energy) > 0;
  if (has_energy) m.reference_energy_ = fit_reference_energies(d, train, train_weight);
  const int E = m.energy_features();
  std::vector<NormalSums> e_train(B, NormalSums(E)), e_val = e_train;
  // Per task (charge, moment), bin and own species: sums over every site of the rows.
  std::vector<std::vector<NormalSums>> s_train(
      2, std::vector<NormalSums>(static_cast<std::size_t>(B) * S, NormalSums(D)));
  std::vector<std::vector<NormalSums>> s_val = s_train;
  std::vector<double> desc(static_cast<std::size_t>(N) * D), ef(E);
  auto accumulate = [&](const std::vector<std::size_t>& rows, const std::vector<float>& weights,
                        std::vector<NormalSums>& e, std::vector<std::vector<NormalSums>>& s) {
    for (std::size_t row = 0; row < rows.size(); ++row) {
      const std::size_t r = rows[row];
      const double w = weights.empty() ? 1.0 : weights[row];
      const std::uint8_t* occ = &d.occupation[r * N];
      const int bin = m.bin_of(occ);
      m.desc_.compute(occ, desc.data());
      for (Task t : tasks) {
        if (t == Task::energy) {
          m.energy_features(occ, desc.data(), ef.data());
          double ref = 0;
          for (int i = 0; i < N; ++i) ref += m.reference_energy_[occ[i]];
          e[0].add(ef.data(), d.energy[r] - ref, w);
          if (bin > 0) e[bin].add(ef.data(), d.energy[r] - ref, w);
          continue;
        }
        const auto& values = training::values_of(d, t);
        auto& sums = s[t == Task::charge ? 0 : 1];
        for (int i = 0; i < N; ++i) {
          const double* x = &desc[static_cast<std::size_t>(i) * D];
          sums[occ[i]].add(x, values[r * N + i], w);
          if (bin > 0)
            sums[static_cast<std::size_t>(bin) * S + occ[i]].add(x, values[r * N + i], w);
        }
      }
    }
  };
  accumulate(train, train_weight, e_train, s_train);
  accumulate(validation, validation_weight, e_val, s_val);
  for (Task t : tasks) {
    if (t == Task::energy) {
      m.energy_ = fit_bins(e_train, e_val, 1, options.ridge, "energy");
      continue;
    }
    const int k = t == Task::charge ? 0 : 1;
    (t == Task::charge ? m.charge_ : m.moment_) =
        fit_bins(s_train[k], s_val[k], S, options.ridge, task_name(t));
  }
  return m;
}

void LinearModel::add_predictions(const std::uint8_t* occupation, std::size_t n,
                                  Predictions& p) const {
  const int N = desc_.num_sites(), D = desc_.size(), S = desc_.num_species();
  std::vector<double> desc(static_cast<std::size_t>(N) * D), ef(energy_features());
  for (std::size_t r = 0; r < n; ++r) {
    const std::uint8_t* occ = occupation + r * N;
    const int bin = bin_of(occ);
    desc_.compute(occ, desc.data());
    for (Task t : tasks_) {
      if (t == Task::energy) {
        energy_features(occ, desc.data(), ef.data());
        double e = fit_of(energy_, 1, bin, 0).predict(ef.data());
        for (int i = 0; i < N; ++i) e += reference_energy_[occ[i]];
        p.energy[r] += e;
        continue;
      }
      const auto& fits = t == Task::charge ? charge_ : moment_;
      auto& out = t == Task::charge ? p.charge : p.moment;
      for (int i = 0; i < N; ++i)
        out[r * N + i] +=
            fit_of(fits, S, bin, occ[i]).predict(&desc[static_cast<std::size_t>(i) * D]);
    }
  }
}

std::string LinearModel::describe() const {
  std::vector<std::string> parts;
  for (Task t : tasks_) {
    if (t == Task::energy)
      parts.push_back(fmt::format("E: {} CE (ridge {:.0e})",
                                  options_.order == 1 ? "pair" : "3-body", energy_[0].ridge));
    else
      parts.push_back(fmt::format("{}: site-{}", t == Task::charge ? "C" : "M",
                                  options_.order == 1 ? "linear" : "quadratic"));
  }
  return fmt::format("{} shells{}{}, {}", options_.shells,
                     options_.triplet_shells > 0
                         ? fmt::format(", triangles within {} shells", options_.triplet_shells)
                         : "",
                     options_.per_composition ? ", per composition" : "", fmt::join(parts, ", "));
}

// ---------------------------------------------------------------- model file

namespace {

void write_fits(hid_t g, const std::string& name, const std::vector<RidgeFit>& fits,
                std::size_t size) {
  const hsize_t K = fits.size(), D = size;
  std::vector<double> mean, weight, offset, ridge;
  std::vector<std::int64_t> fitted;
  for (const auto& f : fits) {
    const bool ok = !f.weight.empty();
    fitted.push_back(ok ? 1 : 0);
    if (ok) {
      mean.insert(mean.end(), f.mean.begin(), f.mean.end());
      weight.insert(weight.end(), f.weight.begin(), f.weight.end());
    } else {
      mean.resize(mean.size() + size, 0.0);
      weight.resize(weight.size() + size, 0.0);
    }
    offset.push_back(f.offset);
    ridge.push_back(f.ridge);
  }
  auto fg = h5::create_group(g, name);
  h5::write(fg, "mean", mean, {K, D});
  h5::write(fg, "weight", weight, {K, D});
  h5::write(fg, "offset", offset);
  h5::write(fg, "ridge", ridge);
  h5::write(fg, "fitted", fitted);
}

std::vector<RidgeFit> read_fits(hid_t g, const std::string& name, std::size_t count,
                                std::size_t size) {
  auto fg = h5::open_group(g, name);
  const auto mean = h5::read<double>(fg, "mean");
  const auto weight = h5::read<double>(fg, "weight");
  const auto offset = h5::read<double>(fg, "offset");
  const auto ridge = h5::read<double>(fg, "ridge");
  const auto fitted = h5::read<std::int64_t>(fg, "fitted");
  if (mean.size() != count * size || weight.size() != count * size || offset.size() != count ||
      ridge.size() != count || fitted.size() != count)
    fail("linear/{}: expected {} fits of {} coefficients", name, count, size);
  std::vector<RidgeFit> fits(count);
  for (std::size_t k = 0; k < count; ++k) {
    if (!fitted[k]) continue;
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
  h5::write_attr(g, "per_composition", static_cast<std::int64_t>(options_.per_composition));
  h5::write_attr(g, "triplet_shells", static_cast<std::int64_t>(options_.triplet_shells));
  for (Task t : tasks_) {
    if (t == Task::energy) {
      h5::write(g, "reference_energy", reference_energy_);
      write_fits(g, "energy", energy_, energy_features());
    } else {
      write_fits(g, task_name(t), t == Task::charge ? charge_ : moment_, desc_.size());
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
  m.options_.per_composition = h5::read_attr_int(g, "per_composition") != 0;
  m.options_.triplet_shells = static_cast<int>(h5::read_attr_int(g, "triplet_shells"));
  m.desc_ = SiteDescriptors(system, m.options_.shells, m.options_.order, m.options_.triplet_shells);
  const std::size_t S = system.num_species(), B = m.bins();
  for (Task t : m.tasks_) {
    if (t == Task::energy) {
      m.reference_energy_ = h5::read<double>(g, "reference_energy");
      if (m.reference_energy_.size() != S)
        fail("linear/reference_energy has {} values for {} species", m.reference_energy_.size(), S);
      m.energy_ = read_fits(g, "energy", B, m.energy_features());
      if (m.energy_[0].weight.empty()) fail("linear/energy: the shared fit is missing");
    } else {
      auto& fits = t == Task::charge ? m.charge_ : m.moment_;
      fits = read_fits(g, task_name(t), B * S, m.desc_.size());
      for (std::size_t a = 0; a < S; ++a)
        if (fits[a].weight.empty()) fail("linear/{}: the shared fit is missing", task_name(t));
    }
  }
  return m;
}

}  // namespace lsmss::nn
