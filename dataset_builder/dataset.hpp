#pragma once
// In-memory view of one dataset (one HDF5 file written by `build` or `import`), the form every
// consumer (trainer, evaluation, Monte Carlo fallback) reads. The on-disk schema is documented
// in docs/dataset-format.md; this header is the contract between the dataset builder and the
// rest of the project.
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "core/configuration.hpp"
#include "core/hash.hpp"
#include "core/properties.hpp"
#include "core/system.hpp"

namespace lsmss::dataset {

// Where a row came from.
enum class Origin : std::int8_t {
  sampled = 0,
  imported = 1,
  acquired = 2 /* DFT fallback during MC */
};

// Split of a row: the training pool (divided into folds) or the held-out test set.
inline constexpr std::int32_t kTestFold = -1;

struct Dataset {
  System system;  // lattice, species (from the file's attributes)
  int num_sites = 0;
  int num_folds = 0;           // k of k-fold cross-validation
  std::string driver;          // name of the driver that produced the results
  PropertyMask available = 0;  // which properties the rows carry

  // One entry per row; rows x sites arrays are row-major.
  std::vector<std::uint8_t> occupation;   // rows x sites, species index
  std::vector<std::int32_t> composition;  // atoms of species 0
  std::vector<std::int32_t> fold;         // 0..num_folds-1, or kTestFold for the test set
  std::vector<std::int8_t> origin;        // Origin
  std::vector<double> energy;             // Ry
  std::vector<double> charge;             // rows x sites, e (empty if not available)
  std::vector<double> moment;             // rows x sites, muB (empty if not available)
  // Rows of the file that failed verification (not a torn tail): left out above; callers
  // should say so.
  std::size_t damaged_rows = 0;

  std::size_t rows() const { return composition.size(); }
  Configuration configuration(std::size_t row) const;
  bool is_test(std::size_t row) const { return fold[row] == kTestFold; }
  // The rows of the test split (fold kTestFold), in order; inline for the same reason as below.
  std::vector<std::size_t> test_rows() const {
    std::vector<std::size_t> rows;
    for (std::size_t r = 0; r < this->rows(); ++r)
      if (is_test(r)) rows.push_back(r);
    return rows;
  }
  // The fingerprint of the rows' content (occupations, folds, energies, charges, moments; hex
  // FNV-1a), stored in model files (`dataset_hash`) so a model names the data it was trained
  // on: the value must never change. Inline: nn uses Dataset without linking this library.
  std::string fingerprint() const {
    Fnv1a h;
    h.add(occupation.data(), occupation.size());
    h.add(fold.data(), fold.size() * sizeof(std::int32_t));
    for (const auto* v : {&energy, &charge, &moment}) h.add(v->data(), v->size() * sizeof(double));
    return fmt::format("{:016x}", h.value());
  }
};

// Reads the finished (status ok) results of a dataset file, one row per configuration, in a
// deterministic order. Throws FileError naming the file and object for a foreign, corrupt or
// wrong-shaped file.
Dataset read_dataset(const std::filesystem::path& path);

// Appends configurations with their results (e.g. DFT fallbacks acquired during Monte Carlo)
// to an existing dataset file, marked with `origin`; fold ids are assigned like the builder's
// (test fraction and k folds per composition) with a deterministic seed. Never rewrites rows
// already present.
void append_results(const std::filesystem::path& path, const std::vector<Configuration>& configs,
                    const std::vector<Properties>& results, Origin origin);
// The same, naming the driver that computed the results (the file's driver when empty). A
// configuration already in the file gets the result only if it has no successful one yet.
// `source` goes to /configs/source of the new rows (e.g. the Monte Carlo job that acquired
// them).
void append_results(const std::filesystem::path& path, const std::vector<Configuration>& configs,
                    const std::vector<Properties>& results, Origin origin,
                    const std::string& driver, const std::string& source = {});
// Verified /configs rows of `origin` whose source is `source` (e.g. the rows a Monte Carlo job
// acquired in earlier, interrupted runs).
std::size_t count_rows_from(const std::filesystem::path& path, Origin origin,
                            const std::string& source);

}  // namespace lsmss::dataset
