#include "core/configuration.hpp"

#include <algorithm>

#include "core/error.hpp"
#include "core/hash.hpp"

namespace lsmss {

Configuration Configuration::from_string(std::string_view digits) {
  std::vector<std::uint8_t> occ;
  occ.reserve(digits.size());
  for (char ch : digits) {
    if (ch < '0' || ch > '9')
      fail("configuration '{}': expected species digits 0-9, got '{}'", digits, ch);
    occ.push_back(static_cast<std::uint8_t>(ch - '0'));
  }
  return Configuration(std::move(occ));
}

Configuration Configuration::from_one_hot(std::span<const float> one_hot, int num_species) {
  if (num_species < 1 || one_hot.size() % num_species != 0)
    fail("one-hot vector of length {} does not split into rows of {} species", one_hot.size(),
         num_species);
  const int n = static_cast<int>(one_hot.size()) / num_species;
  std::vector<std::uint8_t> occ(n);
  for (int i = 0; i < n; ++i) {
    int hot = -1;
    for (int s = 0; s < num_species; ++s) {
      const float v = one_hot[i * num_species + s];
      if (v == 1.0f) {
        if (hot >= 0) fail("one-hot row {} has more than one 1", i);
        hot = s;
      } else if (v != 0.0f) {
        fail("one-hot row {} holds {}, expected only 0 and 1", i, v);
      }
    }
    if (hot < 0) fail("one-hot row {} has no 1", i);
    occ[i] = static_cast<std::uint8_t>(hot);
  }
  return Configuration(std::move(occ));
}

int Configuration::count(int species) const {
  return static_cast<int>(std::count(occ_.begin(), occ_.end(), species));
}

std::vector<float> Configuration::one_hot(int num_species) const {
  std::vector<float> v(occ_.size() * num_species);
  one_hot_into(num_species, v.data());
  return v;
}

void Configuration::one_hot_into(int num_species, float* out) const {
  std::fill(out, out + occ_.size() * num_species, 0.0f);
  for (std::size_t i = 0; i < occ_.size(); ++i) {
    if (occ_[i] >= num_species)
      fail("site {} holds species {} but only {} species exist", i, occ_[i], num_species);
    out[i * num_species + occ_[i]] = 1.0f;
  }
}

std::uint64_t Configuration::hash() const {
  return Fnv1a().add(occ_.data(), occ_.size()).add_word(occ_.size()).value();
}

Configuration Configuration::permuted(std::span<const int> perm) const {
  if (perm.size() != occ_.size())
    fail("permutation of length {} applied to {} sites", perm.size(), occ_.size());
  std::vector<std::uint8_t> out(occ_.size());
  for (std::size_t i = 0; i < occ_.size(); ++i) out[perm[i]] = occ_[i];
  return Configuration(std::move(out));
}

Configuration Configuration::canonical(const std::vector<std::vector<int>>& perms) const {
  Configuration best = *this;
  for (const auto& p : perms) {
    Configuration c = permuted(p);
    if (c.occ_ < best.occ_) best = std::move(c);
  }
  return best;
}

std::string Configuration::to_string() const {
  std::string s(occ_.size(), '0');
  for (std::size_t i = 0; i < occ_.size(); ++i) s[i] = static_cast<char>('0' + occ_[i]);
  return s;
}

}  // namespace lsmss
