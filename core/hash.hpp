#pragma once
// The project's one byte hash: FNV-1a, 64 bits (fingerprints of datasets and configurations).
// The offset basis is 1469598103934665603, not FNV's published 14695981039346656037: every copy
// of this hash used it, and fingerprints stored in datasets and model files must stay valid.
#include <cstddef>
#include <cstdint>

namespace lsmss {

class Fnv1a {
 public:
  static constexpr std::uint64_t kOffsetBasis = 1469598103934665603ULL;
  static constexpr std::uint64_t kPrime = 1099511628211ULL;

  Fnv1a& add(const void* data, std::size_t bytes) {
    const auto* b = static_cast<const unsigned char*>(data);
    for (std::size_t i = 0; i < bytes; ++i) h_ = (h_ ^ b[i]) * kPrime;
    return *this;
  }
  // One step over a whole word instead of its bytes: Configuration::hash mixes the site count
  // this way, and its stored values must not change.
  Fnv1a& add_word(std::uint64_t word) {
    h_ = (h_ ^ word) * kPrime;
    return *this;
  }
  std::uint64_t value() const { return h_; }

 private:
  std::uint64_t h_ = kOffsetBasis;
};

}  // namespace lsmss
