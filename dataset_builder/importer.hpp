#pragma once
// `lsms-surrogate import`: reads LSMS per-configuration output files (info_evec format, see
// lsms_plugin/info_evec.hpp) from a directory or a tar archive into a dataset file with the
// same schema as `build`, validating as it goes: every file is parsed completely or skipped
// with its name and reason (never half-imported), sites are matched onto the deck's lattice by
// position, species come from Z, and the report per composition gives counts against the cap,
// exact duplicates (and whether their results agree), charge-neutrality violations and
// statistical outliers of the energy.
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "core/deck.hpp"
#include "core/system.hpp"

namespace lsmss::dataset {

struct ImportOptions {
  std::filesystem::path output;       // overrides dataset.file when not empty
  bool force = false;                 // replace an existing output file
  bool merge_duplicates = true;       // one row per distinct configuration (else one per file)
  double duplicate_tolerance = 1e-6;  // Ry (energies) and e / muB (per site): results "agree"
  bool drop_outliers = false;         // leave energy outliers out of the dataset
  double outlier_threshold = 6.0;     // robust z = |E - median| / scale above this: outlier
  double outlier_floor = 0.01;        // Ry: lower bound of the robust scale (1.4826 * MAD)
  double charge_tolerance = 1e-3;     // e: |sum over sites of (electrons - Z)| allowed
  bool keep_non_neutral = false;      // import files that violate charge neutrality anyway
  double position_tolerance = 1e-3;   // Bohr: matching file positions onto lattice sites
  bool progress = true;
};

struct ImportIssue {
  std::string file;
  std::string reason;
};

struct ImportComposition {
  int composition = 0;
  std::string distinct;              // distinct configurations that exist (display)
  std::size_t expected = 0;          // min(cap, distinct)
  std::size_t files = 0;             // parsed files of this composition
  std::size_t unique = 0;            // distinct configurations among them
  std::size_t duplicate_files = 0;   // files repeating an earlier configuration
  std::size_t translated_files = 0;  // of them, a lattice translation of it (unique_translations)
  std::size_t disagreeing = 0;       // duplicate groups whose results differ
  double max_duplicate_dE = 0;       // Ry, largest energy difference inside a duplicate group
  std::size_t non_neutral = 0;
  std::size_t outliers = 0;
  std::size_t outliers_above = 0;       // of them, above the median energy
  std::size_t outliers_low_moment = 0;  // of them, total moment below the composition median
  double worst_z = 0;                   // largest robust z of the composition
  std::string worst_file;
  double e_median = 0, e_scale = 0, e_min = 0, e_max = 0;  // Ry
  double moment_median = 0;  // muB, median over the composition's rows of the total moment
  std::size_t rows = 0;      // rows written
  std::size_t test = 0;      // of them in the test set
};

struct ImportReport {
  std::filesystem::path source, output;
  std::size_t files = 0;                   // entries read
  std::size_t parsed = 0;                  // parsed and mapped onto the lattice
  std::size_t rows = 0;                    // rows written
  std::vector<ImportIssue> skipped;        // not imported, with the reason
  std::vector<std::string> unusual_names;  // names outside the common <prefix><number> pattern
  std::string name_pattern;                // e.g. "out_<number>"
  std::vector<ImportIssue> duplicates;     // examples: "a == b (dE ...)"
  std::vector<ImportIssue> outliers;       // every outlier with its z
  double max_neutrality = 0;               // e, largest |sum(electrons - Z)| seen
  std::size_t non_neutral = 0;
  std::vector<ImportComposition> compositions;
  double read_seconds = 0, total_seconds = 0;
  bool moments_all_zero = false;  // a nonmagnetic calculation (e.g. CuAu)
};

ImportReport import_lsms(const Deck& deck, const System& sys, const std::filesystem::path& source,
                         const ImportOptions& opts);

// The validation report: a table per composition, then the issues by kind.
void print_import_report(std::FILE* out, const ImportReport& r, std::size_t max_listed = 20);

}  // namespace lsmss::dataset
