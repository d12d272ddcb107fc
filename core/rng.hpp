#pragma once
// The project's random number generator: xoshiro256** seeded through SplitMix64. The same
// stream on every compiler and platform (unlike std::uniform_int_distribution), 4 words of
// state that fit a checkpoint. Used by sampling (dataset_builder) and the walkers (montecarlo).
#include <array>
#include <cmath>
#include <cstdint>
#include <iterator>
#include <numbers>
#include <utility>

namespace lsmss {

class Rng {
 public:
  Rng() : Rng(0) {}
  // State filled by SplitMix64 from `seed`.
  explicit Rng(std::uint64_t seed) {
    for (auto& w : s_) w = splitmix(seed);
  }
  // Independent streams for (seed, stream) pairs (one per Monte Carlo walker).
  Rng(std::uint64_t seed, std::uint64_t stream)
      : Rng(seed * 0x9E3779B97F4A7C15ull ^
            (stream + 0x632BE59BD9B4E019ull) * 0xD1B54A32D192ED03ull) {}

  std::uint64_t next() {
    const std::uint64_t r = rotl(s_[1] * 5, 7) * 9;
    const std::uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = rotl(s_[3], 45);
    return r;
  }
  // Uniform in [0, 1) with 53 random bits.
  double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }
  // Uniform in [lo, hi).
  double uniform(double lo, double hi) { return lo + (hi - lo) * uniform(); }
  // Standard normal by Box-Muller (one draw per call, two uniforms): the same numbers with every
  // standard library, unlike std::normal_distribution.
  double normal() {
    const double u1 = 1.0 - uniform();  // in (0, 1]: log stays finite
    const double u2 = uniform();
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * std::numbers::pi * u2);
  }
  // Uniform integer in [0, n), exactly (Lemire's method with rejection); n > 0.
  std::uint64_t below(std::uint64_t n) {
    using u128 = unsigned __int128;
    u128 m = static_cast<u128>(next()) * n;
    auto low = static_cast<std::uint64_t>(m);
    if (low < n) {
      const std::uint64_t threshold = (0 - n) % n;
      while (low < threshold) {
        m = static_cast<u128>(next()) * n;
        low = static_cast<std::uint64_t>(m);
      }
    }
    return static_cast<std::uint64_t>(m >> 64);
  }
  // Uniform integer in [0, n) without rejection (bias < n / 2^64, negligible): the Monte Carlo
  // hot path.
  std::uint32_t below_fast(std::uint32_t n) {
    return static_cast<std::uint32_t>((static_cast<unsigned __int128>(next()) * n) >> 64);
  }
  const std::array<std::uint64_t, 4>& state() const { return s_; }
  void set_state(const std::array<std::uint64_t, 4>& s) { s_ = s; }

  // SplitMix64 step (also the seed-derivation hash).
  static std::uint64_t splitmix(std::uint64_t& x) {
    std::uint64_t z = (x += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }

 private:
  static std::uint64_t rotl(std::uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  std::array<std::uint64_t, 4> s_{};
};

// Fisher-Yates with the project's generator (std::shuffle's order depends on the library).
// Any random-access container (std::vector, std::span, std::array).
template <class Container>
void shuffle(Container& items, Rng& rng) {
  for (std::size_t i = std::size(items); i > 1; --i) std::swap(items[i - 1], items[rng.below(i)]);
}

}  // namespace lsmss
