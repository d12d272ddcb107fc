// Space-group symmetry and the network's training rows: the cluster-expansion descriptors
// (pair counts, triangles) are equivariant under every operation of core/symmetry (a check of
// the operations against an independent invariant, and of the descriptors), and
// training.augment copies training rows only, with per-site values moved along with their sites.
#include <gtest/gtest.h>

#include <cmath>
#include <numeric>
#include <set>

#include "core/deck.hpp"
#include "core/error.hpp"
#include "core/rng.hpp"
#include "core/symmetry.hpp"
#include "fixtures.hpp"
#include "nn/core/linear_model.hpp"
#include "nn/core/symmetrized_prediction.hpp"
#include "nn/core/symmetry_augmentation.hpp"
#include "nn/core/trainer.hpp"
#include "synthetic.hpp"

using namespace lsmss;
using namespace lsmss::nn;

namespace {

std::vector<std::uint8_t> random_occupation(int n, std::uint64_t seed) {
  Rng rng(seed);
  std::vector<std::uint8_t> occ(n);
  for (auto& o : occ) o = static_cast<std::uint8_t>(rng.below(2));
  return occ;
}

// The first `count` rows with sites of both species (a row of one species is its own image
// under every operation).
std::vector<std::size_t> rows_of_both_species(const dataset::Dataset& d, std::size_t count) {
  std::vector<std::size_t> rows;
  for (std::size_t r = 0; r < d.rows() && rows.size() < count; ++r)
    if (d.composition[r] > 0 && d.composition[r] < d.num_sites) rows.push_back(r);
  return rows;
}

// Site i's descriptors (shell counts by species, triangles by shape) are those of site perm[i]
// once the occupation is moved by perm (new[perm[i]] = old[i]).
bool descriptors_follow(const SiteDescriptors& desc, const std::vector<std::uint8_t>& occ,
                        const std::vector<int>& perm) {
  const int n = desc.num_sites(), k = desc.size();
  std::vector<std::uint8_t> moved(n);
  for (int i = 0; i < n; ++i) moved[perm[i]] = occ[i];
  std::vector<double> before(static_cast<std::size_t>(n) * k), after(before.size());
  desc.compute(occ.data(), before.data());
  desc.compute(moved.data(), after.data());
  for (int i = 0; i < n; ++i)
    for (int e = 0; e < k; ++e)
      if (std::abs(after[perm[i] * k + e] - before[i * k + e]) > 1e-12) return false;
  return true;
}

void expect_cluster_counts_invariant(const System& system) {
  const SiteDescriptors desc(system, 4, 1, 2);  // 4 shells of pairs, triangles within 2
  const auto perms = space_group_permutations(system.lattice);
  for (std::uint64_t seed = 1; seed <= 2; ++seed) {
    const auto occ = random_occupation(system.num_sites(), seed);
    for (std::size_t g = 0; g < perms.size(); ++g)
      ASSERT_TRUE(descriptors_follow(desc, occ, perms[g]))
          << system.lattice.describe() << " op " << g;
  }
  // The check is not vacuous: a permutation outside the group (two sites exchanged) breaks
  // it for this occupation.
  std::vector<int> swap(system.num_sites());
  for (int i = 0; i < system.num_sites(); ++i) swap[i] = i;
  const auto occ = random_occupation(system.num_sites(), 1);
  int other = 1;
  while (occ[other] == occ[0]) ++other;
  std::swap(swap[0], swap[other]);
  EXPECT_FALSE(descriptors_follow(desc, occ, swap));
}

// A 16-wide one-layer network, 3 epochs on the reference backend: enough to train a model
// whose (non-)invariance the tests check.
TrainingOptions tiny_network(std::vector<Task> tasks) {
  TrainingOptions o;
  o.tasks = std::move(tasks);
  o.shared = {16};
  o.epochs = 3;
  o.progress = false;
  o.backend = "reference";
  o.threads = test::kOneThread;
  return o;
}

}  // namespace

TEST(NnSymmetry, ClusterCountsInvariantOnCuAuCell) {
  expect_cluster_counts_invariant(fixtures::cuau_system());
}

TEST(NnSymmetry, ClusterCountsInvariantOnFePtCell) {
  expect_cluster_counts_invariant(fixtures::fept_system());
}

// Every copy is the image of its row under a distinct non-identity operation of the group, and
// its per-site charges and moments obey the data's own rule (charge and moment linear in the
// unlike nearest neighbours of the site) on the moved occupation: a copy whose values moved the
// other way (perm^-1) or not at all would fail it.
TEST(NnSymmetry, AugmentedCopiesMovePerSiteValuesWithTheirSites) {
  const auto d = test::synthetic_dataset(40, 3, 11, {2, 2, 2});
  const auto perms = symmetry_permutations(d, SymmetryGroup::space_group);
  ASSERT_EQ(perms.size(), 1536u);
  const std::vector<std::size_t> rows = rows_of_both_species(d, 3);
  ASSERT_EQ(rows.size(), 3u);
  const auto a = append_permuted_rows(d, perms, rows, 4, 3);
  ASSERT_EQ(a.rows(), d.rows() + 12);
  const int N = d.num_sites;
  ASSERT_GT(N, 0);  // (also spares GCC 12 a false -Wstringop-overread on the slices below)
  const auto nn = d.system.lattice.shells(1).sites[0];
  std::size_t k = d.rows();
  for (std::size_t r : rows) {
    std::set<std::vector<std::uint8_t>> images;
    for (int c = 0; c < 4; ++c, ++k) {
      EXPECT_EQ(a.energy[k], d.energy[r]);
      EXPECT_EQ(a.fold[k], d.fold[r]);
      EXPECT_EQ(a.composition[k], d.composition[r]);
      const std::vector<std::uint8_t> occ(a.occupation.begin() + k * N,
                                          a.occupation.begin() + (k + 1) * N);
      images.insert(occ);
      for (int i = 0; i < N; ++i) {
        int unlike = 0;
        for (int j : nn[i]) unlike += occ[j] != occ[i] ? 1 : 0;
        const double sign = occ[i] == 0 ? 1 : -1;
        EXPECT_NEAR(a.charge[k * N + i], d.system.species[occ[i]].Z + sign * 0.01 * unlike, 1e-12);
        EXPECT_NEAR(a.moment[k * N + i], occ[i] == 0 ? 0.5 + 0.02 * unlike : 0.0, 1e-12);
      }
    }
    EXPECT_GE(images.size(), 2u);  // not one image repeated (the operations are distinct)
  }
}

// training.augment.copies adds copies of the fold's training rows only: none of its
// validation fold, none of the test rows; the translation group caps the copies at 31.
TEST(NnSymmetry, OnlyTrainingRowsAreAugmented) {
  const auto d = test::synthetic_dataset(60, 3, 9, {2, 2, 2});
  TrainingOptions o;
  o.augment_symmetry = {SymmetryGroup::space_group, 2};
  const auto split = split_for_fold(d, 1);
  const auto a = augment_training_rows(d, o, 1);
  ASSERT_EQ(a.rows(), d.rows() + 2 * split.train.size());
  for (std::size_t k = d.rows(); k < a.rows(); ++k) {
    EXPECT_NE(a.fold[k], 1);
    EXPECT_NE(a.fold[k], dataset::kTestFold);
  }
  o.augment_symmetry = {SymmetryGroup::translations, 1000};
  EXPECT_EQ(augment_training_rows(d, o, 1).rows(), d.rows() + 31 * split.train.size());
}

TEST(NnSymmetry, AugmentedTrainingRuns) {
  const auto d = test::synthetic_dataset(80, 3, 4, {2, 2, 2});
  TrainingOptions o = tiny_network({Task::energy, Task::charge});
  o.augment_symmetry = {SymmetryGroup::space_group, 2};
  const Model m = train_model(d, o, 0);
  EXPECT_EQ(m.fold(), 0);
  EXPECT_EQ(m.dataset_hash(), d.fingerprint());
}

// Averaged over the whole group, a network's predictions become invariant (energy) and move
// with the sites (charge); the network alone is not (the contrast shows the check can fail).
TEST(NnSymmetry, SymmetrizedPredictionsAreInvariant) {
  const auto d = test::synthetic_dataset(60, 3, 4, {2, 1, 1});
  const TrainingOptions o = tiny_network({Task::energy, Task::charge});
  const Model m = train_model(d, o, 0);
  const auto perms = symmetry_permutations(d, SymmetryGroup::space_group);
  // 2a x a x a box, 8 sites: 16 point operations keep it, but the reflections of y and z act
  // as the identity modulo a (-a/2 = a/2), leaving 4 (x reflection, y-z exchange) x 8.
  ASSERT_EQ(perms.size(), 4u * 8u);
  std::size_t row = 0;  // a mixed configuration (a pure one is invariant anyway)
  while (d.composition[row] < 3 || d.composition[row] > 5) ++row;
  const std::vector<Configuration> c = {d.configuration(row)};
  const Predictions base = symmetrized_predictions(m, c, perms);
  const Predictions plain = m.predict(c);
  double plain_change = 0;
  for (std::size_t g = 1; g < perms.size(); ++g) {
    const std::vector<Configuration> image = {c[0].permuted(perms[g])};
    const Predictions p = symmetrized_predictions(m, image, perms);
    EXPECT_NEAR(p.energy[0], base.energy[0], 1e-9 * std::abs(base.energy[0]));
    for (int i = 0; i < d.num_sites; ++i)
      EXPECT_NEAR(p.charge[perms[g][i]], base.charge[i], 1e-9) << "op " << g << " site " << i;
    plain_change = std::max(plain_change, std::abs(m.predict(image).energy[0] - plain.energy[0]));
  }
  EXPECT_GT(plain_change, 1e-6);
}

// evaluate --symmetrize: a fixed draw starting at the identity; one operation is the plain
// model; the whole group gives the RMSE of symmetrized_predictions (and differs from plain).
TEST(NnSymmetry, EvaluationAveragesOverTheChosenOperations) {
  const auto d = test::synthetic_dataset(60, 3, 4, {2, 1, 1});
  const TrainingOptions o = tiny_network({Task::energy});
  const Model m = train_model(d, o, 0);
  const auto all = chosen_symmetry_operations(d.system.lattice, 0);
  ASSERT_EQ(all.size(), 4u * 8u);
  const auto five = chosen_symmetry_operations(d.system.lattice, 5);
  ASSERT_EQ(five.size(), 5u);
  EXPECT_EQ(five, chosen_symmetry_operations(d.system.lattice, 5));
  EXPECT_EQ(five[0], all[0]);
  EXPECT_EQ(std::set<std::vector<int>>(five.begin(), five.end()).size(), 5u);
  const auto identity = chosen_symmetry_operations(d.system.lattice, 1);

  std::vector<std::size_t> rows(d.rows());
  std::iota(rows.begin(), rows.end(), std::size_t{0});
  const double plain = evaluate_model(m, d, rows).tasks.at(0).rmse;
  EXPECT_DOUBLE_EQ(evaluate_model(m, d, rows, false, &identity).tasks.at(0).rmse, plain);
  const double averaged = evaluate_model(m, d, rows, false, &all).tasks.at(0).rmse;
  std::vector<Configuration> configs;
  for (std::size_t r : rows) configs.push_back(d.configuration(r));
  const Predictions p = symmetrized_predictions(m, configs, all);
  double se = 0;
  for (std::size_t k = 0; k < rows.size(); ++k) se += std::pow(p.energy[k] - d.energy[rows[k]], 2);
  EXPECT_NEAR(averaged, std::sqrt(se / double(rows.size())), 1e-9 * averaged);
  EXPECT_GT(std::abs(averaged - plain), 1e-9 * plain);
  const std::vector<Model> ensemble = {m};
  EXPECT_NEAR(evaluate_ensemble(ensemble, d, rows, &all).tasks.at(0).rmse, averaged,
              1e-9 * averaged);
}

TEST(NnSymmetry, DeckKeys) {
  auto opts = [](const std::string& training) {
    const Deck deck = Deck::from_string("training = " + training, "test.lua");
    return TrainingOptions::from_deck(deck.root().table("training"), "test.lua");
  };
  EXPECT_EQ(opts("{}").augment_symmetry.copies, 0);
  const auto o = opts("{ augment = { copies = 3 } }");
  EXPECT_EQ(o.augment_symmetry.copies, 3);
  EXPECT_EQ(o.augment_symmetry.group, SymmetryGroup::space_group);
  EXPECT_EQ(opts("{ augment = { copies = 1, group = 'translations' } }").augment_symmetry.group,
            SymmetryGroup::translations);
  test::expect_error_containing([&] { opts("{ augment = { copies = 1, group = 'rotations' } }"); },
                                "group");
  test::expect_error_containing([&] { opts("{ augment = { copies = 1, translations = 2 } }"); },
                                "copies");
  test::expect_error_containing(
      [&] { opts("{ kind = 'cluster_expansion', augment = { copies = 2 } }"); },
      "translation-invariant");
}
