// The project's generator (core/rng.hpp): the helpers tests, benches and libraries share.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <numeric>
#include <vector>

#include "core/rng.hpp"

using namespace lsmss;

TEST(Rng, UniformInRangeStaysInside) {
  Rng rng(1);
  double lo = 1, hi = -1;
  for (int k = 0; k < 10000; ++k) {
    const double x = rng.uniform(-0.5, 2.0);
    lo = std::min(lo, x);
    hi = std::max(hi, x);
  }
  EXPECT_GE(lo, -0.5);
  EXPECT_LT(hi, 2.0);
  EXPECT_LT(lo, -0.49);  // the whole range is reached
  EXPECT_GT(hi, 1.99);
}

TEST(Rng, NormalHasMeanZeroAndUnitVariance) {
  Rng rng(2);
  const int n = 100000;
  double sum = 0, sum2 = 0;
  for (int k = 0; k < n; ++k) {
    const double x = rng.normal();
    sum += x;
    sum2 += x * x;
  }
  EXPECT_NEAR(sum / n, 0.0, 0.016);   // 5 sigma, sigma = 1/sqrt(n)
  EXPECT_NEAR(sum2 / n, 1.0, 0.023);  // 5 sigma, sigma = sqrt(2/n)
}

TEST(Rng, ShuffleIsAReproducibleUniformPermutation) {
  std::array<std::array<int, 5>, 5> where{};  // where[value][position]
  Rng rng(3), again(3);
  for (int t = 0; t < 5000; ++t) {
    std::vector<int> v(5), w(5);
    std::iota(v.begin(), v.end(), 0);
    std::iota(w.begin(), w.end(), 0);
    shuffle(v, rng);
    shuffle(w, again);
    ASSERT_EQ(v, w);
    std::vector<int> sorted = v;
    std::sort(sorted.begin(), sorted.end());
    ASSERT_EQ(sorted, (std::vector<int>{0, 1, 2, 3, 4}));
    for (int p = 0; p < 5; ++p) ++where[v[p]][p];
  }
  for (const auto& row : where)
    for (int count : row) EXPECT_NEAR(count, 1000, 150);  // 1000 +- 5 sigma (sigma = 28)
}
