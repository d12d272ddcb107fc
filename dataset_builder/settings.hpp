#pragma once
// The deck sections of the dataset builder, `sampling = {...}` and `dataset = {...}` (keys,
// units and defaults in docs/deck.md), and the "fingerprints" a dataset file keeps of the deck
// so that a resumed run can refuse a deck that would make the file inconsistent.
#include <cstdint>
#include <string>
#include <vector>

#include "core/deck.hpp"
#include "core/system.hpp"

namespace lsmss::dataset {

struct SamplingSettings {
  long cap = 1000;                   // configurations per composition, at most
  std::uint64_t seed = 1;            // sampling and split seed
  int folds = 60;                    // k of k-fold cross-validation
  double test_fraction = 0.1;        // held-out test share of every composition
  bool unique_translations = false;  // drop configurations equal under a lattice translation
  std::vector<int> compositions;     // atoms of species A to include (empty: 0..N)

  // Reads the deck's `sampling` table (absent: defaults) and checks it against the system.
  static SamplingSettings from_deck(const DeckTable& t, const System& sys);
  // The compositions to build, in increasing order.
  std::vector<int> composition_list(int num_sites) const;
};

struct DatasetSettings {
  std::string file;                  // output HDF5 file
  int ranks_per_calculation = 1;     // MPI ranks of one driver instance
  int retries = 2;                   // extra attempts after a failed calculation
  int batch = 1;                     // configurations per work message
  bool coordinator_computes = true;  // rank 0 also calculates between messages (MPI runs)

  // Reads the deck's `dataset` table; the file defaults to "<deck name>.h5".
  static DatasetSettings from_deck(const DeckTable& t, const std::string& deck_file);
};

// "key = value" lines describing what decides a dataset's content: the system and the
// sampling settings. Stored in the file; a resumed run must present the same lines.
std::vector<std::string> plan_keys(const System& sys, const SamplingSettings& s);
// "key = value" lines of a deck table, recursively (for a driver's settings). Reads every key,
// so call it after the table's own reader has checked the keys.
std::vector<std::string> table_keys(const DeckTable& t, const std::string& prefix);
// Differences between stored and current key lines, one message per differing key; empty
// when they agree.
std::vector<std::string> diff_keys(const std::vector<std::string>& stored,
                                   const std::vector<std::string>& current);

}  // namespace lsmss::dataset
