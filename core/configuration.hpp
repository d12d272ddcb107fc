#pragma once
// A configuration: which species occupies every site of the supercell.
#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace lsmss {

class Configuration {
 public:
  Configuration() = default;
  explicit Configuration(std::vector<std::uint8_t> occupation) : occ_(std::move(occupation)) {}
  // From a string of species digits, e.g. "0110".
  static Configuration from_string(std::string_view digits);
  // Inverse of one_hot(): exactly one 1 per site row, otherwise lsmss::Error.
  static Configuration from_one_hot(std::span<const float> one_hot, int num_species);

  int num_sites() const { return static_cast<int>(occ_.size()); }
  std::uint8_t operator[](int site) const { return occ_[site]; }
  std::uint8_t& operator[](int site) { return occ_[site]; }
  const std::vector<std::uint8_t>& occupation() const { return occ_; }

  int count(int species) const;  // atoms of that species
  // Composition as the number of atoms of species 0 (the first species of the deck).
  int composition() const { return count(0); }

  // One-hot encoding, row-major sites x species (flattened: site * num_species + species).
  std::vector<float> one_hot(int num_species) const;
  void one_hot_into(int num_species, float* out) const;

  // 64-bit canonical hash of the occupation (FNV-1a over site species); equal
  // configurations hash equal. Used for de-duplication together with operator==.
  std::uint64_t hash() const;

  // new[perm[i]] = old[i]: the configuration moved by a site permutation (e.g. a translation).
  Configuration permuted(std::span<const int> perm) const;
  // Lexicographically smallest image under the given permutations (translation-canonical form).
  Configuration canonical(const std::vector<std::vector<int>>& perms) const;

  std::string to_string() const;  // species digits, one per site

  bool operator==(const Configuration&) const = default;
  auto operator<=>(const Configuration&) const = default;

 private:
  std::vector<std::uint8_t> occ_;
};

struct ConfigurationHash {
  std::size_t operator()(const Configuration& c) const {
    return static_cast<std::size_t>(c.hash());
  }
};

}  // namespace lsmss
