#include "nn/core/standardization.hpp"

#include <cmath>

#include "core/error.hpp"
#include "nn/core/elementwise.hpp"

namespace lsmss::nn {

std::string energy_target_name(EnergyTarget t) {
  return t == EnergyTarget::mixing ? "mixing" : "standardized";
}
EnergyTarget energy_target_from_name(const std::string& s) {
  if (s == "mixing") return EnergyTarget::mixing;
  if (s == "standardized") return EnergyTarget::standardized;
  fail("unknown energy target '{}' (expected mixing or standardized)", s);
}
std::string charge_target_name(ChargeTarget t) {
  return t == ChargeTarget::transfer ? "transfer" : "total";
}
ChargeTarget charge_target_from_name(const std::string& s) {
  if (s == "transfer") return ChargeTarget::transfer;
  if (s == "total") return ChargeTarget::total;
  fail("unknown charge target '{}' (expected transfer or total)", s);
}

namespace {

// Least squares of E ~ counts . e with a tiny ridge so that training sets of one composition
// (collinear counts) still give a well-defined, near minimum-norm answer.
std::vector<double> fit_reference(const std::vector<std::vector<double>>& counts,
                                  const std::vector<double>& e) {
  const std::size_t S = counts.empty() ? 0 : counts[0].size();
  std::vector<double> A(S * S, 0.0), b(S, 0.0);
  for (std::size_t r = 0; r < counts.size(); ++r)
    for (std::size_t i = 0; i < S; ++i) {
      b[i] += counts[r][i] * e[r];
      for (std::size_t j = 0; j < S; ++j) A[i * S + j] += counts[r][i] * counts[r][j];
    }
  double trace = 0;
  for (std::size_t i = 0; i < S; ++i) trace += A[i * S + i];
  for (std::size_t i = 0; i < S; ++i) A[i * S + i] += 1e-12 * trace + 1e-300;
  // Gaussian elimination with partial pivoting.
  for (std::size_t c = 0; c < S; ++c) {
    std::size_t p = c;
    for (std::size_t r = c + 1; r < S; ++r)
      if (std::abs(A[r * S + c]) > std::abs(A[p * S + c])) p = r;
    for (std::size_t j = 0; j < S; ++j) std::swap(A[c * S + j], A[p * S + j]);
    std::swap(b[c], b[p]);
    for (std::size_t r = c + 1; r < S; ++r) {
      const double f = A[r * S + c] / A[c * S + c];
      for (std::size_t j = c; j < S; ++j) A[r * S + j] -= f * A[c * S + j];
      b[r] -= f * b[c];
    }
  }
  std::vector<double> x(S, 0.0);
  for (std::size_t c = S; c-- > 0;) {
    double s = b[c];
    for (std::size_t j = c + 1; j < S; ++j) s -= A[c * S + j] * x[j];
    x[c] = s / A[c * S + c];
  }
  return x;
}

void mean_std(const std::vector<std::vector<double>>& cols, std::vector<double>& mean,
              std::vector<double>& sd) {
  const std::size_t n = cols.size();
  mean.assign(n, 0.0);
  sd.assign(n, 1.0);
  for (std::size_t k = 0; k < n; ++k) {
    const auto& v = cols[k];
    double m = 0;
    for (double x : v) m += x;
    m /= std::max<std::size_t>(v.size(), 1);
    double s = 0;
    for (double x : v) s += (x - m) * (x - m);
    s = std::sqrt(s / std::max<std::size_t>(v.size(), 1));
    mean[k] = m;
    // A constant column (e.g. moments of a nonmagnetic alloy) keeps unit scale.
    sd[k] = s > 1e-12 * std::max(1.0, std::abs(m)) ? s : 1.0;
  }
}

}  // namespace

Standardization Standardization::fit(const std::vector<std::uint8_t>& occupation, int num_sites,
                                     const System& system, const std::vector<HeadSpec>& heads,
                                     const std::vector<const std::vector<double>*>& values,
                                     const std::vector<std::size_t>& rows, EnergyTarget et,
                                     ChargeTarget ct) {
  if (rows.empty()) fail("standardization: the training set is empty");
  Standardization s;
  s.num_sites = num_sites;
  s.num_species = system.num_species();
  s.energy_target = et;
  s.charge_target = ct;
  for (const auto& sp : system.species) s.species_z.push_back(sp.Z);
  s.reference_energy.assign(s.num_species, 0.0);
  const int F = num_sites * s.num_species;

  std::vector<std::vector<double>> feat(F);
  for (auto& f : feat) f.reserve(rows.size());
  for (std::size_t r : rows) {
    const std::uint8_t* occ = &occupation[r * num_sites];
    for (int i = 0; i < num_sites; ++i)
      for (int k = 0; k < s.num_species; ++k)
        feat[i * s.num_species + k].push_back(occ[i] == k ? 1.0 : 0.0);
  }
  mean_std(feat, s.input_mean, s.input_std);

  for (std::size_t h = 0; h < heads.size(); ++h) {
    HeadStats hs;
    hs.task = heads[h].task;
    const int O = heads[h].outputs;
    const std::vector<double>& v = *values[h];
    if (v.size() < (rows.empty() ? 0 : (rows.back() + 1) * O))
      fail("standardization: task {} has {} values, expected {} per row", task_name(hs.task),
           v.size(), O);
    if (hs.task == Task::energy && et == EnergyTarget::mixing) {
      std::vector<std::vector<double>> counts;
      std::vector<double> e;
      for (std::size_t r : rows) {
        std::vector<double> c(s.num_species, 0.0);
        for (int i = 0; i < num_sites; ++i) c[occupation[r * num_sites + i]] += 1;
        counts.push_back(std::move(c));
        e.push_back(v[r]);
      }
      s.reference_energy = fit_reference(counts, e);
    }
    std::vector<std::vector<double>> raw(O), transformed(O);
    s.heads.push_back(hs);
    s.heads[h].mean.assign(O, 0.0);
    s.heads[h].std.assign(O, 1.0);
    for (std::size_t r : rows) {
      const std::uint8_t* occ = &occupation[r * num_sites];
      for (int o = 0; o < O; ++o) {
        raw[o].push_back(v[r * O + o]);
        double t = v[r * O + o];
        if (hs.task == Task::energy) t -= s.reference_energy_of(occ);
        if (hs.task == Task::charge && ct == ChargeTarget::transfer) t -= s.species_z[occ[o]];
        transformed[o].push_back(t);
      }
    }
    std::vector<double> unused;
    mean_std(raw, unused, s.heads[h].paper_std);
    mean_std(transformed, s.heads[h].mean, s.heads[h].std);
  }
  return s;
}

double Standardization::reference_energy_of(const std::uint8_t* occ) const {
  double e = 0;
  for (int i = 0; i < num_sites; ++i) e += reference_energy[occ[i]];
  return e;
}

double Standardization::reference_energy_of_counts(const double* counts) const {
  double e = 0;
  for (int k = 0; k < num_species; ++k) e += counts[k] * reference_energy[k];
  return e;
}

void Standardization::encode_input(const std::uint8_t* occ, float* out) const {
  for (int i = 0; i < num_sites; ++i)
    for (int k = 0; k < num_species; ++k) {
      const int f = i * num_species + k;
      out[f] = standardize(occ[i] == k ? 1.0 : 0.0, input_mean[f], input_std[f]);
    }
}

void Standardization::encode_target(int h, const std::uint8_t* occ, const double* physical,
                                    float* out) const {
  const HeadStats& hs = heads[h];
  const int O = static_cast<int>(hs.mean.size());
  const double eref = hs.task == Task::energy ? reference_energy_of(occ) : 0.0;
  for (int o = 0; o < O; ++o) {
    double t = physical[o] - eref;
    if (hs.task == Task::charge && charge_target == ChargeTarget::transfer) t -= species_z[occ[o]];
    out[o] = standardize(t, hs.mean[o], hs.std[o]);
  }
}

void Standardization::decode_output(int h, const std::uint8_t* occ, const float* network,
                                    double* physical) const {
  const HeadStats& hs = heads[h];
  const int O = static_cast<int>(hs.mean.size());
  const double eref = hs.task == Task::energy ? reference_energy_of(occ) : 0.0;
  for (int o = 0; o < O; ++o) {
    double p = destandardize(network[o], hs.mean[o], hs.std[o]) + eref;
    if (hs.task == Task::charge && charge_target == ChargeTarget::transfer) p += species_z[occ[o]];
    physical[o] = p;
  }
}

}  // namespace lsmss::nn
