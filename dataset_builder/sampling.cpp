#include "dataset_builder/sampling.hpp"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <unordered_set>

#include <fmt/format.h>

#include "core/error.hpp"
#include "dataset_builder/dataset.hpp"

namespace lsmss::dataset {

using u128 = unsigned __int128;

std::optional<std::uint64_t> binomial(int n, int k) {
  if (k < 0 || n < 0 || k > n) return 0;
  k = std::min(k, n - k);
  u128 c = 1;
  for (int i = 0; i < k; ++i) {
    // C(n, i+1) = C(n, i) * (n - i) / (i + 1): exact, since the product is divisible.
    c = c * static_cast<u128>(n - i) / static_cast<u128>(i + 1);
    if (c > std::numeric_limits<std::uint64_t>::max()) return std::nullopt;
  }
  return static_cast<std::uint64_t>(c);
}

double log10_binomial(int n, int k) {
  if (k < 0 || k > n) return -INFINITY;
  return (std::lgamma(n + 1.0) - std::lgamma(k + 1.0) - std::lgamma(n - k + 1.0)) / std::log(10.0);
}

std::string format_count(std::optional<std::uint64_t> exact, double approx_log10) {
  if (exact) return fmt::format("{}", *exact);
  return fmt::format("~{:.2g}", std::pow(10.0, approx_log10));
}

std::optional<std::uint64_t> count_orbits(int n, int k,
                                          const std::vector<std::vector<int>>& group) {
  const auto total = binomial(n, k);
  if (!total || group.empty()) return total;
  // Every fixed-subset count is at most C(n, k) < 2^64, so the sum over at most n elements
  // (with n <= 4096) fits 128 bits; coefficients above k are never needed.
  u128 sum = 0;
  std::vector<u128> poly(k + 1);
  std::vector<char> seen(n);
  for (const auto& g : group) {
    std::fill(poly.begin(), poly.end(), 0);
    poly[0] = 1;
    std::fill(seen.begin(), seen.end(), 0);
    for (int i = 0; i < n; ++i) {
      if (seen[i]) continue;
      int len = 0;
      for (int j = i; !seen[j]; j = g[j]) seen[j] = 1, ++len;
      // A fixed subset is a union of whole cycles: multiply by (1 + x^len).
      for (int d = k; d >= len; --d) poly[d] += poly[d - len];
    }
    sum += poly[k];
  }
  if (sum % group.size() != 0) fail("count_orbits: the permutations given do not form a group");
  return static_cast<std::uint64_t>(sum / group.size());
}

// ---------------------------------------------------------------------------------------------
std::uint64_t derive_seed(std::uint64_t seed, std::uint64_t tag, std::uint64_t item) {
  std::uint64_t x = seed;
  std::uint64_t h = Rng::splitmix(x);
  x = h ^ (tag * 0xd1b54a32d192ed03ULL);
  h = Rng::splitmix(x);
  x = h ^ (item * 0x8cb92ba72f3d8dd7ULL);
  return Rng::splitmix(x);
}

// ---------------------------------------------------------------------------------------------
namespace {

constexpr std::uint64_t kSampleStream = 0x53414d504c45ULL;  // "SAMPLE"
constexpr std::uint64_t kSplitStream = 0x53504c4954ULL;     // "SPLIT"
constexpr std::uint64_t kHashStream = 0x48415348ULL;        // "HASH"

// Occupation with species 0 on the given sites, species 1 elsewhere.
Configuration from_sites(int n, const int* sites, int k) {
  std::vector<std::uint8_t> occ(n, 1);
  for (int i = 0; i < k; ++i) occ[sites[i]] = 0;
  return Configuration(std::move(occ));
}

// Every distinct configuration (or translation class) in lexicographic order of the sites
// holding species 0.
std::vector<Configuration> enumerate_all(int n, int k, const std::vector<std::vector<int>>& tr) {
  std::vector<Configuration> out;
  std::unordered_set<Configuration, ConfigurationHash> seen;
  std::vector<int> idx(k);
  std::iota(idx.begin(), idx.end(), 0);
  while (true) {
    Configuration c = from_sites(n, idx.data(), k);
    if (tr.empty())
      out.push_back(std::move(c));
    else {
      Configuration canon = c.canonical(tr);
      if (seen.insert(canon).second) out.push_back(std::move(canon));
    }
    // Next k-combination of 0..n-1.
    int i = k - 1;
    while (i >= 0 && idx[i] == n - k + i) --i;
    if (i < 0) break;
    ++idx[i];
    for (int j = i + 1; j < k; ++j) idx[j] = idx[j - 1] + 1;
  }
  return out;
}

// Limit on configurations visited by exact enumeration (each costs O(sites) or, with
// translations, O(sites^2)).
constexpr std::uint64_t kEnumerateWork = 400'000'000;

}  // namespace

std::vector<Configuration> sample_composition(int n, int k, long cap,
                                              const std::vector<std::vector<int>>& tr,
                                              std::uint64_t seed, CompositionPlan* info) {
  if (k < 0 || k > n) fail("composition {} is outside 0..{}", k, n);
  const auto total = binomial(n, k);
  const auto distinct = tr.empty() ? total : count_orbits(n, k, tr);
  const bool all = distinct && *distinct <= static_cast<std::uint64_t>(cap);
  if (info) {
    info->composition = k;
    info->distinct = distinct;
    info->log10_distinct =
        log10_binomial(n, k) - (tr.empty() ? 0.0 : std::log10(double(tr.size())));
    info->all = all;
  }
  if (all) {
    // `all` implies both counts are exact: distinct <= cap and total <= distinct * |group|.
    const std::uint64_t work = *total * static_cast<std::uint64_t>(tr.empty() ? n : n * n);
    if (work <= kEnumerateWork) {
      auto out = enumerate_all(n, k, tr);
      if (out.size() != *distinct)
        fail("internal error: enumerated {} configurations of composition {}, expected {}",
             out.size(), k, *distinct);
      return out;
    }
    // Too many configurations to visit, but few translation classes (a large cell): draw at
    // random until every class has been seen; the exact class count says when to stop.
  }
  const std::size_t target =
      all ? static_cast<std::size_t>(*distinct) : static_cast<std::size_t>(cap);
  Rng rng(derive_seed(seed, kSampleStream, (static_cast<std::uint64_t>(n) << 32) | unsigned(k)));
  // Uniform k-subsets by a partial Fisher-Yates shuffle of the sites (of the minority species,
  // which is cheaper); it needs no reset between draws.
  const bool minority_is_a = k <= n - k;
  const int m = minority_is_a ? k : n - k;
  std::vector<int> sites(n);
  std::iota(sites.begin(), sites.end(), 0);
  std::vector<Configuration> out;
  out.reserve(target);
  std::unordered_set<Configuration, ConfigurationHash> seen;
  seen.reserve(target * 2);
  std::vector<std::uint8_t> occ(n);
  while (out.size() < target) {
    for (int i = 0; i < m; ++i) std::swap(sites[i], sites[i + rng.below(n - i)]);
    std::fill(occ.begin(), occ.end(), minority_is_a ? 1 : 0);
    for (int i = 0; i < m; ++i) occ[sites[i]] = minority_is_a ? 0 : 1;
    Configuration c(occ);
    if (!tr.empty()) c = c.canonical(tr);
    if (seen.insert(c).second) out.push_back(std::move(c));
  }
  return out;
}

Plan make_plan(const System& sys, const SamplingSettings& s) {
  if (sys.num_species() != 2)
    fail("the dataset builder samples binary alloys; the deck's system has {} species",
         sys.num_species());
  const int n = sys.num_sites();
  {
    // Refuse up front, naming the key, what would end in an allocation failure after minutes:
    // each planned configuration costs its occupation, the plan's columns and the sampler's
    // hash set (about 160 bytes beyond the occupation).
    double configs = 0;
    for (int k : s.composition_list(n))
      configs += std::min(static_cast<double>(s.cap), std::pow(10.0, log10_binomial(n, k)));
    const double bytes = configs * (n + 160.0);
    const double memory =
        static_cast<double>(sysconf(_SC_PHYS_PAGES)) * static_cast<double>(sysconf(_SC_PAGE_SIZE));
    if (memory > 0 && bytes > 0.8 * memory)
      fail(
          "sampling.cap = {} plans about {:.3g} configurations of {} sites, about {:.1f} GiB, "
          "more than this machine's {:.1f} GiB of memory allow: lower sampling.cap or choose "
          "sampling.compositions",
          s.cap, configs, n, bytes / (1 << 30), memory / (1 << 30));
  }
  const auto tr =
      s.unique_translations ? sys.lattice.translations() : std::vector<std::vector<int>>{};
  Plan plan;
  for (int k : s.composition_list(n)) {
    CompositionPlan cp;
    auto configs = sample_composition(n, k, s.cap, tr, s.seed, &cp);
    cp.first = plan.configs.size();
    cp.count = configs.size();
    const auto folds = assign_folds(configs.size(), k, s.folds, s.test_fraction, s.seed);
    for (std::size_t i = 0; i < configs.size(); ++i) {
      plan.configs.push_back(std::move(configs[i]));
      plan.composition.push_back(k);
      plan.fold.push_back(folds[i]);
    }
    plan.compositions.push_back(cp);
  }
  return plan;
}

std::vector<std::int32_t> assign_folds(std::size_t n, int composition, int folds,
                                       double test_fraction, std::uint64_t seed) {
  if (folds < 1) fail("number of folds must be >= 1, got {}", folds);
  Rng rng(derive_seed(seed, kSplitStream, static_cast<std::uint64_t>(composition)));
  std::vector<std::size_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  for (std::size_t i = n; i > 1; --i) std::swap(order[i - 1], order[rng.below(i)]);
  const auto n_test =
      static_cast<std::size_t>(std::llround(test_fraction * static_cast<double>(n)));
  // A random first fold per composition spreads the remainders evenly over all folds.
  const std::uint64_t offset = rng.below(static_cast<std::uint64_t>(folds));
  std::vector<std::int32_t> fold(n);
  for (std::size_t r = 0; r < n; ++r)
    fold[order[r]] =
        r < n_test ? kTestFold : static_cast<std::int32_t>((offset + (r - n_test)) % folds);
  return fold;
}

std::int32_t fold_for_hash(std::uint64_t config_hash, int folds, double test_fraction,
                           std::uint64_t seed) {
  Rng rng(derive_seed(seed, kHashStream, config_hash));
  if (rng.uniform() < test_fraction) return kTestFold;
  return static_cast<std::int32_t>(rng.below(static_cast<std::uint64_t>(std::max(folds, 1))));
}

}  // namespace lsmss::dataset
