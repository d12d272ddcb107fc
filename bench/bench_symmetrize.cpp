// Prediction symmetrization (docs/nn.md, "Symmetry"): test RMSE of each fold model of a model
// file and of their ensemble mean, plain and averaged over operations of the supercell's space
// group (nn::symmetrized_predictions), with the CPU time of each.
//   bench_symmetrize DATASET.h5 MODEL.h5 [OPS]
// OPS: the identity and OPS - 1 distinct random operations (seed 1); absent or 0: the whole
// group. Energy, charge and moment as the model predicts them; physical units.
#include <algorithm>
#include <cmath>
#include <ctime>
#include <numeric>
#include <string>

#include <fmt/format.h>

#include "bench_args.hpp"
#include "dataset_builder/dataset.hpp"
#include "nn/core/symmetrized_prediction.hpp"
#include "nn/core/symmetry_augmentation.hpp"

namespace {

using namespace lsmss;

constexpr const char* kUsage =
    "usage: bench_symmetrize DATASET.h5 MODEL.h5 [OPS]\n"
    "  test RMSE of the fold models and their ensemble, plain and averaged over OPS operations\n"
    "  of the supercell's space group (identity + OPS-1 random; 0 or absent: all)\n";

double seconds() {
  return static_cast<double>(std::clock()) / CLOCKS_PER_SEC;
}

// RMSE per task of `p` against the dataset's values of `rows` ("energy mRy/cell", ...).
std::string errors(const dataset::Dataset& d, const std::vector<std::size_t>& rows,
                   const nn::Predictions& p) {
  std::string out;
  const std::size_t N = d.num_sites;
  auto rmse = [&](const std::vector<double>& pred, const std::vector<double>& ref, std::size_t w) {
    double s2 = 0;
    for (std::size_t k = 0; k < rows.size(); ++k)
      for (std::size_t o = 0; o < w; ++o) s2 += std::pow(pred[k * w + o] - ref[rows[k] * w + o], 2);
    return std::sqrt(s2 / static_cast<double>(rows.size() * w));
  };
  if (!p.energy.empty())
    out += fmt::format("  energy {:8.2f} mRy/cell", 1e3 * rmse(p.energy, d.energy, 1));
  if (!p.charge.empty()) out += fmt::format("  charge {:.4g} e", rmse(p.charge, d.charge, N));
  if (!p.moment.empty()) out += fmt::format("  moment {:.4g} muB", rmse(p.moment, d.moment, N));
  return out;
}

void accumulate(nn::Predictions& sum, const nn::Predictions& p, double w) {
  auto add = [w](std::vector<double>& s, const std::vector<double>& v) {
    if (s.empty()) s.assign(v.size(), 0.0);
    for (std::size_t i = 0; i < v.size(); ++i) s[i] += w * v[i];
  };
  add(sum.energy, p.energy);
  add(sum.charge, p.charge);
  add(sum.moment, p.moment);
}

int run(int argc, char** argv) {
  if (bench::wants_help(argc, argv, kUsage)) return 0;
  if (argc < 3) {
    std::fputs(kUsage, stderr);
    return 2;
  }
  const dataset::Dataset d = dataset::read_dataset(argv[1]);
  const int ops = argc > 3 ? std::stoi(argv[3]) : 0;
  const auto perms = nn::chosen_symmetry_operations(d.system.lattice, ops);
  std::vector<std::size_t> rows;
  std::vector<Configuration> configs;
  for (std::size_t r = 0; r < d.rows(); ++r)
    if (d.is_test(r)) rows.push_back(r), configs.push_back(d.configuration(r));
  const std::size_t n = nn::Model::count_in_file(argv[2]);
  fmt::print("{}: {} test rows; {} fold models of {}; {} of {} space-group operations\n", argv[1],
             rows.size(), n, argv[2], perms.size(),
             nn::symmetry_permutations(d, nn::SymmetryGroup::space_group).size());
  nn::Predictions plain_mean, sym_mean;
  for (std::size_t i = 0; i < n; ++i) {
    const nn::Model m = nn::Model::load_member(argv[2], i, "auto");
    double t0 = seconds();
    const nn::Predictions plain = m.predict(configs);
    const double t_plain = seconds() - t0;
    t0 = seconds();
    const nn::Predictions sym = nn::symmetrized_predictions(m, configs, perms);
    const double t_sym = seconds() - t0;
    fmt::print("fold {:2d} plain      {}  ({:.2f} s CPU)\n", m.fold(), errors(d, rows, plain),
               t_plain);
    fmt::print("fold {:2d} symmetric  {}  ({:.2f} s CPU)\n", m.fold(), errors(d, rows, sym), t_sym);
    accumulate(plain_mean, plain, 1.0 / static_cast<double>(n));
    accumulate(sym_mean, sym, 1.0 / static_cast<double>(n));
  }
  fmt::print("ensemble plain      {}\n", errors(d, rows, plain_mean));
  fmt::print("ensemble symmetric  {}\n", errors(d, rows, sym_mean));
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  return lsmss::bench::guarded_main(argc, argv, "bench_symmetrize", run);
}
