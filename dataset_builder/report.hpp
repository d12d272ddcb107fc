#pragma once
// Per-composition summaries of a dataset file (printed after build and import, and by `info`).
#include <cstdio>
#include <string>
#include <vector>

#include "dataset_builder/store.hpp"

namespace lsmss::dataset {

struct CompositionSummary {
  int composition = 0;
  std::size_t rows = 0;                     // configurations in /configs
  std::size_t ok = 0;                       // with a successful result
  std::size_t failed = 0;                   // without one, retries used up
  std::size_t pending = 0;                  // without one, attempts left
  std::size_t test = 0;                     // rows in the test set
  std::size_t attempts_failed = 0;          // failed attempts recorded (retried or not)
  double e_min = 0, e_mean = 0, e_max = 0;  // over ok rows, Ry
};

// `max_attempts` = 1 + retries: a configuration without a success that has used them all is
// "failed", otherwise "pending".
std::vector<CompositionSummary> summarize(const ConfigTable& configs, const ResultTable& results,
                                          int max_attempts);

// Table with one line per composition and a total line; `distinct` (optional, same order)
// adds the number of distinct configurations of each composition.
void print_composition_table(std::FILE* out, const std::vector<CompositionSummary>& rows,
                             const std::vector<std::string>& distinct = {});

// Everything `lsms-surrogate info` prints about a dataset file.
void print_file_info(std::FILE* out, const DatasetFile& f);

}  // namespace lsmss::dataset
