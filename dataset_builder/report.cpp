#include "dataset_builder/report.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>

#include <fmt/format.h>
#include <fmt/ranges.h>

namespace lsmss::dataset {

std::vector<CompositionSummary> summarize(const ConfigTable& configs, const ResultTable& results,
                                          int max_attempts) {
  struct State {
    bool ok = false;
    int attempts = 0;
    double energy = 0;
  };
  std::vector<State> st(configs.rows());
  std::map<int, CompositionSummary> by;
  for (std::size_t r = 0; r < results.rows(); ++r) {
    State& c = st[static_cast<std::size_t>(results.config[r])];
    ++c.attempts;
    if (results.row_status(r) == Status::ok) {
      if (!c.ok) c.energy = results.energy[r];
      c.ok = true;
    } else {
      ++by[configs.composition[results.config[r]]].attempts_failed;
    }
  }
  for (std::size_t k = 0; k < st.size(); ++k) {
    if (!configs.usable(k)) continue;  // reported by print_file_info, never counted as data
    const State& c = st[k];
    auto& s = by[configs.composition[k]];
    ++s.rows;
    if (configs.fold[k] == kTestFold) ++s.test;
    if (c.ok) {
      if (s.ok == 0) s.e_min = s.e_max = c.energy;
      ++s.ok;
      s.e_min = std::min(s.e_min, c.energy);
      s.e_max = std::max(s.e_max, c.energy);
      s.e_mean += (c.energy - s.e_mean) / static_cast<double>(s.ok);
    } else if (c.attempts > 0 && (max_attempts <= 0 || c.attempts >= max_attempts)) {
      ++s.failed;
    } else {
      ++s.pending;
    }
  }
  std::vector<CompositionSummary> out;
  for (auto& [k, s] : by) {
    s.composition = k;
    out.push_back(s);
  }
  return out;
}

void print_composition_table(std::FILE* out, const std::vector<CompositionSummary>& rows,
                             const std::vector<std::string>& distinct) {
  const bool d = distinct.size() == rows.size() && !rows.empty();
  fmt::print(out, "{:>5} {}{:>7} {:>7} {:>7} {:>7} {:>6} {:>9} {:>18} {:>12}\n", "n_A",
             d ? fmt::format("{:>12} ", "distinct") : "", "configs", "ok", "failed", "pending",
             "test", "fail.att", "mean E (Ry)", "E range (Ry)");
  CompositionSummary tot;
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const auto& s = rows[i];
    fmt::print(out, "{:>5} {}{:>7} {:>7} {:>7} {:>7} {:>6} {:>9} {:>18} {:>12}\n", s.composition,
               d ? fmt::format("{:>12} ", distinct[i]) : "", s.rows, s.ok, s.failed, s.pending,
               s.test, s.attempts_failed, s.ok ? fmt::format("{:.6f}", s.e_mean) : "-",
               s.ok ? fmt::format("{:.4g}", s.e_max - s.e_min) : "-");
    tot.rows += s.rows, tot.ok += s.ok, tot.failed += s.failed, tot.pending += s.pending;
    tot.test += s.test, tot.attempts_failed += s.attempts_failed;
  }
  fmt::print(out, "{:>5} {}{:>7} {:>7} {:>7} {:>7} {:>6} {:>9}\n", "all",
             d ? fmt::format("{:>12} ", "") : "", tot.rows, tot.ok, tot.failed, tot.pending,
             tot.test, tot.attempts_failed);
}

void print_file_info(std::FILE* out, const DatasetFile& f) {
  const FileInfo& i = f.info();
  const System& sys = f.system();
  fmt::print(out, "file          {}\n", f.path());
  fmt::print(out, "format        {} v{} ({}), written by {} on {}\n", kFormatName, kFormatVersion,
             i.kind, i.software_version, i.created);
  fmt::print(out, "deck          {}\n", i.deck_file.empty() ? "-" : i.deck_file);
  fmt::print(out, "system        {} on {}\n", sys.name(), sys.lattice.describe());
  for (int s = 0; s < sys.num_species(); ++s)
    fmt::print(out, "species {}     {} (Z = {}){}\n", s, sys.species[s].symbol, sys.species[s].Z,
               s == 0 ? "  <- A: compositions count its atoms" : "");
  fmt::print(out, "driver        {} (properties {})\n", i.driver, property_mask_name(i.provides));
  if (!i.driver_keys.empty()) fmt::print(out, "driver deck   {}\n", fmt::join(i.driver_keys, "; "));
  fmt::print(out, "sampling      cap {} per composition, seed {}, {}{}\n", i.sampling.cap,
             i.sampling.seed,
             i.sampling.unique_translations ? "translation-equivalent configurations dropped"
                                            : "all distinct configurations",
             i.sampling.compositions.empty()
                 ? std::string()
                 : fmt::format(", compositions {}", fmt::join(i.sampling.compositions, ",")));
  fmt::print(out, "splits        test fraction {} per composition, {} folds over the rest\n",
             i.sampling.test_fraction, i.sampling.folds);
  fmt::print(out,
             "units         energy Ry, charge e (electrons on the site incl. core), moment muB, "
             "length Bohr, wall_time s\n");

  const auto& c = f.configs();
  const auto& r = f.results();
  std::map<int, std::size_t> origins;
  for (auto o : c.origin) ++origins[o];
  std::string o_text;
  for (auto [o, n] : origins)
    o_text += fmt::format("{}{} {}", o_text.empty() ? "" : ", ", n, origin_name(Origin(o)));
  fmt::print(out, "configs       {} ({})\n", c.rows(), o_text.empty() ? "none" : o_text);
  std::map<int, std::size_t> statuses;
  double wall = 0;
  for (std::size_t k = 0; k < r.rows(); ++k) ++statuses[r.status[k]], wall += r.wall_time[k];
  std::string s_text;
  for (auto [s, n] : statuses)
    s_text +=
        fmt::format("{}{} {}", s_text.empty() ? "" : ", ", n, status_name(static_cast<Status>(s)));
  fmt::print(out, "results       {} rows ({}), total calculation time {}\n", r.rows(),
             s_text.empty() ? "none" : s_text, wall > 0 ? fmt::format("{:.1f} s", wall) : "-");
  if (f.torn_config_rows() + f.torn_result_rows() > 0)
    fmt::print(out,
               "torn tail     {} config rows and {} result rows at the end were never completed "
               "(an interrupted run); they are ignored, and `build` on this file cuts them off "
               "(nothing else is ever removed)\n",
               f.torn_config_rows(), f.torn_result_rows());
  if (f.damaged_config_rows() + f.damaged_result_rows() > 0)
    fmt::print(
        out,
        "DAMAGED       {} config rows (/configs rows {}{}) and {} result rows (/results rows "
        "{}{}) fail their checksum or consistency check: they are not a torn tail, stay "
        "in the file untouched, and are left out of training and of `build`; restore "
        "the file from a copy, or rebuild those rows into another file\n",
        f.damaged_config_rows(), fmt::join(f.damaged_config_list(), ","),
        f.damaged_config_rows() > f.damaged_config_list().size() ? ",..." : "",
        f.damaged_result_rows(), fmt::join(f.damaged_result_list(), ","),
        f.damaged_result_rows() > f.damaged_result_list().size() ? ",..." : "");
  fmt::print(out, "\n");
  print_composition_table(out, summarize(c, r, 0));
  if (!i.import_summary.empty())
    fmt::print(out, "\nimport validation report (/import@report has the full lists):\n{}",
               i.import_summary);
}

}  // namespace lsmss::dataset
