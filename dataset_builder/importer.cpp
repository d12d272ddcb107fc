#include "dataset_builder/importer.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <limits>
#include <map>
#include <numeric>
#include <tuple>
#include <unordered_map>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "core/error.hpp"
#include "core/progress.hpp"
#include "dataset_builder/archive.hpp"
#include "dataset_builder/sampling.hpp"
#include "dataset_builder/store.hpp"
#include "lsms_plugin/info_evec.hpp"

namespace lsmss::dataset {
namespace {

using Clock = std::chrono::steady_clock;

// One file, converted into the deck's site order.
struct Record {
  std::string name;
  std::string error;  // not empty: the file is skipped for this reason
  Configuration config;
  double energy = 0, band = 0, fermi = 0;
  std::vector<double> charge, moment;  // per lattice site
  double neutrality = 0;               // sum over sites of (electrons - Z), e
};

Record convert(FileEntry& e, const System& sys, lsms::SiteMapper& mapper) {
  Record r;
  r.name = std::move(e.name);
  if (!e.skip.empty()) {  // not read (link out of the source, FIFO, huge file, ...)
    r.error = std::move(e.skip);
    return r;
  }
  try {
    const lsms::InfoEvec info = lsms::parse_info_evec_text(e.text, r.name);
    const int n = sys.num_sites();
    lsms::SiteValues mapped = mapper.map(info);
    for (const auto& a : info.atoms) r.neutrality += a.electrons - a.Z;
    // What the file claims must be physically possible: a damaged or forged file is skipped
    // with the reason, never imported as data.
    for (int k = 0; k < n; ++k) {
      const auto& a = info.atoms[k];
      if (!std::isfinite(a.electrons) || a.electrons < 0 || a.electrons > 2.0 * a.Z)
        fail("atom {} (Z = {}) holds {} electrons: impossible", k + 1, a.Z, a.electrons);
      if (!std::isfinite(a.moment) || std::abs(a.moment) > a.Z)
        fail("atom {} (Z = {}) has a moment of {} muB: impossible", k + 1, a.Z, a.moment);
    }
    // Total energies are about -3300 Ry (Cu) to -40000 Ry (Au) per atom; 1e6 Ry per atom is
    // far beyond any element.
    for (const auto& [what, v, bound] : {std::tuple{"total energy", info.total_energy, 1e6 * n},
                                         std::tuple{"band energy", info.band_energy, 1e6 * n},
                                         std::tuple{"Fermi energy", info.fermi_energy, 1e3}})
      if (!std::isfinite(v) || std::abs(v) > bound)
        fail("{} {} Ry is impossible (|value| above {:g} Ry)", what, v, bound);
    r.config = std::move(mapped.config);
    r.charge = std::move(mapped.charge);
    r.moment = std::move(mapped.moment);
    r.energy = info.total_energy;
    r.band = info.band_energy;
    r.fermi = info.fermi_energy;
  } catch (const FileError& ex) {
    r.error = ex.what();
  } catch (const Error& ex) {
    r.error = fmt::format("{}: {}", r.name, ex.what());
  }
  e.text.clear();
  e.text.shrink_to_fit();
  return r;
}

// "out_123" -> ("out_", 123); names without trailing digits -> (name, -1).
std::pair<std::string, long long> name_parts(const std::string& name) {
  const auto slash = name.find_last_of('/');
  const std::string base = slash == std::string::npos ? name : name.substr(slash + 1);
  std::size_t d = base.size();
  while (d > 0 && std::isdigit(static_cast<unsigned char>(base[d - 1]))) --d;
  if (d == base.size() || base.size() - d > 18) return {base, -1};
  return {base.substr(0, d), std::stoll(base.substr(d))};
}

// Natural order: out_2 before out_10.
bool natural_less(const std::string& a, const std::string& b) {
  const auto pa = name_parts(a), pb = name_parts(b);
  if (pa.first != pb.first) return a < b;
  if (pa.second != pb.second) return pa.second < pb.second;
  return a < b;
}

double median(std::vector<double> v) {
  if (v.empty()) return 0;
  const std::size_t m = v.size() / 2;
  std::nth_element(v.begin(), v.begin() + m, v.end());
  double x = v[m];
  if (v.size() % 2 == 0) x = 0.5 * (x + *std::max_element(v.begin(), v.begin() + m));
  return x;
}

std::string report_text(const ImportReport& r, std::size_t max_listed) {
  char* buf = nullptr;
  std::size_t len = 0;
  std::FILE* m = open_memstream(&buf, &len);
  if (!m) return {};
  print_import_report(m, r, max_listed);
  std::fclose(m);
  std::string s(buf, len);
  std::free(buf);
  return s;
}

// Reads and converts every file of `source` (in parallel; the reader streams archives in
// batches).
std::vector<Record> read_records(const std::filesystem::path& source, const System& sys,
                                 const ImportOptions& opts) {
  std::vector<Record> records;
  Progress progress("import", 0, "files", opts.progress);
  read_files(source, 2048, [&](std::vector<FileEntry>& batch) {
    std::vector<Record> out(batch.size());
#pragma omp parallel
    {
      lsms::SiteMapper mapper(sys, "the deck", opts.position_tolerance);
#pragma omp for schedule(dynamic, 16)
      for (std::size_t i = 0; i < batch.size(); ++i) out[i] = convert(batch[i], sys, mapper);
    }
    for (auto& r : out) records.push_back(std::move(r));
    progress.advance(static_cast<long>(batch.size()));
  });
  progress.finish();
  return records;
}

// File names: the common pattern and the names that do not follow it.
void note_file_names(const std::vector<Record>& records, ImportReport& rep) {
  std::map<std::string, std::size_t> prefixes;
  for (const auto& r : records) {
    const auto p = name_parts(r.name);
    if (p.second >= 0) ++prefixes[p.first];
  }
  std::string common;
  std::size_t best = 0;
  for (const auto& [p, c] : prefixes)
    if (c > best) best = c, common = p;
  if (best > 0) rep.name_pattern = common + "<number>";
  for (const auto& r : records) {
    const auto p = name_parts(r.name);
    if (best == 0 || p.second < 0 || p.first != common) rep.unusual_names.push_back(r.name);
  }
}

// The records that parsed, are charge neutral (or kept anyway) and have a wanted composition;
// the others are listed in rep.skipped.
std::vector<Record> usable_records(std::vector<Record>& records, const SamplingSettings& ss, int n,
                                   const ImportOptions& opts, ImportReport& rep) {
  std::vector<int> wanted(n + 1, ss.compositions.empty() ? 1 : 0);
  for (int c : ss.compositions) wanted[c] = 1;
  std::vector<Record> good;
  for (auto& r : records) {
    if (!r.error.empty()) {
      rep.skipped.push_back({r.name, r.error});
      continue;
    }
    ++rep.parsed;
    rep.max_neutrality = std::max(rep.max_neutrality, std::abs(r.neutrality));
    if (std::abs(r.neutrality) > opts.charge_tolerance) {
      ++rep.non_neutral;
      if (!opts.keep_non_neutral) {
        rep.skipped.push_back(
            {r.name, fmt::format("charge neutrality violated: sum(electrons - Z) = {:.3g} e "
                                 "(tolerance {:g} e; --keep-non-neutral imports it)",
                                 r.neutrality, opts.charge_tolerance)});
        continue;
      }
    }
    if (!wanted[r.config.composition()]) {
      rep.skipped.push_back({r.name, fmt::format("composition {} is not in sampling.compositions",
                                                 r.config.composition())});
      continue;
    }
    good.push_back(std::move(r));
  }
  records.clear();
  return good;
}

// Duplicates among the records `idx` of one composition: the same occupation after mapping onto
// the lattice or, with sampling.unique_translations (`tr` not empty), the same one up to a
// lattice translation (then the per-site results are compared site by site through that
// translation). Returns the records to keep; counts go to `ic`, the list to rep.duplicates.
std::vector<std::size_t> without_duplicates(const std::vector<Record>& good,
                                            const std::vector<std::size_t>& idx,
                                            const std::vector<std::vector<int>>& tr, int n,
                                            const ImportOptions& opts, ImportComposition& ic,
                                            ImportReport& rep) {
  std::unordered_map<Configuration, std::size_t, ConfigurationHash> first;
  std::vector<std::size_t> keep;
  for (std::size_t i : idx) {
    const Record& r = good[i];
    auto [it, fresh] = first.emplace(tr.empty() ? r.config : r.config.canonical(tr), i);
    if (fresh) {
      keep.push_back(i);
      continue;
    }
    const Record& o = good[it->second];
    ++ic.duplicate_files;
    const std::vector<int>* shift = nullptr;  // r moved by *shift is o
    if (!(r.config == o.config)) {
      for (const auto& t : tr)
        if (r.config.permuted(t) == o.config) {
          shift = &t;
          break;
        }
      if (!shift)
        fail("internal error: {} and {} share a translation class but no translation maps them",
             r.name, o.name);
      ++ic.translated_files;
    }
    const double dE = std::abs(r.energy - o.energy);
    double dq = 0, dm = 0;
    for (int s = 0; s < n; ++s) {
      const int t = shift ? (*shift)[s] : s;
      dq = std::max(dq, std::abs(r.charge[s] - o.charge[t]));
      dm = std::max(dm, std::abs(r.moment[s] - o.moment[t]));
    }
    ic.max_duplicate_dE = std::max(ic.max_duplicate_dE, dE);
    const bool agree = dE <= opts.duplicate_tolerance && dq <= opts.duplicate_tolerance &&
                       dm <= opts.duplicate_tolerance;
    if (!agree) ++ic.disagreeing;
    rep.duplicates.push_back(
        {r.name, fmt::format("{} {} ({}; |dE| = {:.3g} Ry, max |dq| = "
                             "{:.3g} e, max |dm| = {:.3g} muB)",
                             shift ? "a lattice translation of" : "same configuration as", o.name,
                             agree ? "results agree" : "RESULTS DIFFER", dE, dq, dm)});
    if (!opts.merge_duplicates) keep.push_back(i);
  }
  ic.unique = first.size();
  return keep;
}

// How many distinct configurations composition ic.composition has (up to the lattice's
// translations `tr` when given), and how many the sampling would have made of them.
void expected_counts(ImportComposition& ic, int n, const std::vector<std::vector<int>>& tr,
                     long cap) {
  const int k = ic.composition;
  const auto exact = tr.empty() ? binomial(n, k) : count_orbits(n, k, tr);
  ic.distinct = format_count(
      exact, log10_binomial(n, k) - (tr.empty() ? 0.0 : std::log10(double(tr.size()))));
  ic.expected = exact ? static_cast<std::size_t>(std::min<std::uint64_t>(*exact, cap)) : cap;
}

double total_moment(const Record& r) {
  return std::accumulate(r.moment.begin(), r.moment.end(), 0.0);
}

// The energy statistics of one composition's files `keep` and the rows to write: all of them
// but the outliers when they are dropped. Robust statistics: median and 1.4826 * MAD
// (floored), z = |E - median| / scale; every outlier is reported.
std::vector<std::size_t> without_outliers(const std::vector<Record>& good,
                                          const std::vector<std::size_t>& keep,
                                          const ImportOptions& opts, ImportComposition& ic,
                                          ImportReport& rep) {
  std::vector<double> e;
  e.reserve(keep.size());
  for (std::size_t i : keep) e.push_back(good[i].energy);
  std::vector<std::size_t> rows;
  if (e.empty()) return rows;
  ic.e_median = median(e);
  std::vector<double> dev;
  dev.reserve(e.size());
  for (double x : e) dev.push_back(std::abs(x - ic.e_median));
  ic.e_scale = std::max(1.4826 * median(dev), opts.outlier_floor);
  ic.e_min = *std::min_element(e.begin(), e.end());
  ic.e_max = *std::max_element(e.begin(), e.end());
  // Total moments: on the FePt data the energy spread within a composition follows them
  // (docs/lsms.md), so each outlier is listed with its total moment against the median.
  std::vector<double> total_moments;
  total_moments.reserve(keep.size());
  for (std::size_t i : keep) total_moments.push_back(total_moment(good[i]));
  ic.moment_median = median(total_moments);
  for (std::size_t i : keep) {
    const double z = std::abs(good[i].energy - ic.e_median) / ic.e_scale;
    if (z > ic.worst_z) ic.worst_z = z, ic.worst_file = good[i].name;
    if (z > opts.outlier_threshold && keep.size() >= 8) {
      ++ic.outliers;
      ic.outliers_above += good[i].energy > ic.e_median;
      ic.outliers_low_moment += total_moment(good[i]) < ic.moment_median;
      rep.outliers.push_back(
          {good[i].name,
           fmt::format("composition {}: E = {:.6f} Ry, median {:.6f} Ry, z = {:.1f}; total "
                       "moment {:.2f} muB (median {:.2f}){}",
                       ic.composition, good[i].energy, ic.e_median, z, total_moment(good[i]),
                       ic.moment_median, opts.drop_outliers ? " (dropped)" : " (kept)")});
      if (opts.drop_outliers) continue;
    }
    rows.push_back(i);
  }
  return rows;
}

// The header of an imported dataset file.
FileInfo import_file_info(const Deck& deck, const System& sys, const SamplingSettings& ss,
                          const std::filesystem::path& source) {
  FileInfo info;
  info.kind = "import";
  info.driver = "lsms";
  info.provides = kEnergy | kCharge | kMoment;
  info.sampling = ss;
  info.plan_keys = plan_keys(sys, ss);
  info.driver_keys = {fmt::format("import.source = \"{}\"", source.string())};
  info.deck_text = deck.text();
  info.deck_file = deck.file();
  return info;
}

// What the dataset file keeps of the import: the skipped files with reasons and the report.
ImportLog import_log(const ImportReport& rep) {
  ImportLog log;
  log.source = rep.source.string();
  for (const auto& s : rep.skipped) log.files.push_back(s.file), log.reasons.push_back(s.reason);
  log.report = report_text(rep, std::numeric_limits<std::size_t>::max());
  log.summary = report_text(rep, 0);
  return log;
}

// The rows of composition k, in a deterministic order (by occupation) before the splits,
// appended to the tables with their folds.
void add_rows(const std::vector<Record>& good, std::vector<std::size_t>& rows, int k,
              const SamplingSettings& ss, const System& sys, ConfigTable& configs,
              ResultTable& results, ImportComposition& ic, bool& all_zero_moments) {
  const int n = sys.num_sites();
  std::sort(rows.begin(), rows.end(), [&](std::size_t a, std::size_t b) {
    const int c =
        std::memcmp(good[a].config.occupation().data(), good[b].config.occupation().data(), n);
    return c != 0 ? c < 0 : natural_less(good[a].name, good[b].name);
  });
  const auto folds = assign_folds(rows.size(), k, ss.folds, ss.test_fraction, ss.seed);
  for (std::size_t j = 0; j < rows.size(); ++j) {
    const Record& r = good[rows[j]];
    const auto row = static_cast<std::int64_t>(configs.rows());
    configs.push_back(r.config, folds[j], Origin::imported, r.name);
    ResultRecord rec;
    rec.config = row;
    rec.props.status = Status::ok;
    rec.props.energy = r.energy;
    rec.props.band_energy = r.band;
    rec.props.fermi_energy = r.fermi;
    rec.props.charge = r.charge;
    rec.props.moment = r.moment;
    rec.props.message = "imported from " + r.name;
    rec.driver = "lsms";
    for (double m : r.moment) all_zero_moments = all_zero_moments && m == 0.0;
    results.push_back(rec, r.config.occupation().data(), sys);
    if (folds[j] == kTestFold) ++ic.test;
  }
}

}  // namespace

ImportReport import_lsms(const Deck& deck, const System& sys, const std::filesystem::path& source,
                         const ImportOptions& opts) {
  const auto t0 = Clock::now();
  const DeckTable& root = deck.root();
  const SamplingSettings ss = SamplingSettings::from_deck(root.table("sampling"), sys);
  const DatasetSettings ds = DatasetSettings::from_deck(root.table("dataset"), deck.file());
  if (sys.num_species() != 2)
    fail("import expects a binary alloy; the deck's system has {} species", sys.num_species());
  ImportReport rep;
  rep.source = source;
  rep.output = opts.output.empty() ? std::filesystem::path(ds.file) : opts.output;
  if (std::filesystem::exists(rep.output) && !opts.force)
    fail(
        "{}: exists already; pass --force to replace it, or choose another file (dataset.file or "
        "-o)",
        rep.output.string());
  const int n = sys.num_sites();

  // Read and convert every file (in parallel; the reader streams archives in batches).
  std::vector<Record> records = read_records(source, sys, opts);
  rep.read_seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  rep.files = records.size();
  if (records.empty()) fail("{}: no files found", source.string());
  std::sort(records.begin(), records.end(),
            [](const Record& a, const Record& b) { return natural_less(a.name, b.name); });

  note_file_names(records, rep);

  // Parse errors, wrong sites, foreign species; then charge neutrality.
  std::vector<Record> good = usable_records(records, ss, n, opts, rep);

  // Per composition: duplicates, outliers, counts, folds.
  std::map<int, std::vector<std::size_t>> by;
  for (std::size_t i = 0; i < good.size(); ++i) by[good[i].config.composition()].push_back(i);
  const auto tr =
      ss.unique_translations ? sys.lattice.translations() : std::vector<std::vector<int>>{};
  ConfigTable configs;
  configs.sites = n;
  ResultTable results;
  results.sites = n;
  bool all_zero_moments = true;
  for (int k : ss.composition_list(n)) {
    ImportComposition ic;
    ic.composition = k;
    expected_counts(ic, n, tr, ss.cap);
    const auto& idx = by[k];
    ic.files = idx.size();
    for (std::size_t i : idx)
      if (std::abs(good[i].neutrality) > opts.charge_tolerance) ++ic.non_neutral;
    const std::vector<std::size_t> keep = without_duplicates(good, idx, tr, n, opts, ic, rep);
    std::vector<std::size_t> rows = without_outliers(good, keep, opts, ic, rep);
    add_rows(good, rows, k, ss, sys, configs, results, ic, all_zero_moments);
    ic.rows = rows.size();
    rep.rows += rows.size();
    rep.compositions.push_back(ic);
  }
  rep.moments_all_zero = all_zero_moments && rep.rows > 0;

  const FileInfo info = import_file_info(deck, sys, ss, source);
  rep.total_seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  const ImportLog log = import_log(rep);
  if (rep.rows == 0)
    fail(
        "{}: none of the {} files could be imported ({} skipped, e.g. {}); were they computed for "
        "the deck's system ({} on {})? Nothing was written.",
        source.string(), rep.files, rep.skipped.size(),
        rep.skipped.empty() ? std::string("-") : rep.skipped.front().reason, sys.name(),
        sys.lattice.describe());
  // With --force the old file is replaced only by the complete new one (create() renames).
  DatasetFile::create(rep.output, sys, info, configs, results, &log);
  rep.total_seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  return rep;
}

namespace {
// One line: how many energy outliers, where, how far, and whether they sit above the median
// energy with a lower total moment (what the FePt outliers do; docs/lsms.md).
void print_outlier_summary(std::FILE* out, const ImportReport& r) {
  std::size_t count = 0, above = 0, low_moment = 0;
  double worst = 0;
  std::vector<int> where;
  for (const auto& c : r.compositions) {
    if (c.outliers == 0) continue;
    count += c.outliers, above += c.outliers_above, low_moment += c.outliers_low_moment;
    worst = std::max(worst, c.worst_z);
    where.push_back(c.composition);
  }
  if (count == 0) return;
  fmt::print(out,
             "outliers   {} energy outlier(s) at n_A = {}; z up to {:.1f}; {} above the median "
             "energy, {} with a total moment below their composition's median\n",
             count, fmt::join(where, ", "), worst, above, low_moment);
}
}  // namespace

void print_import_report(std::FILE* out, const ImportReport& r, std::size_t max_listed) {
  fmt::print(out, "source     {}\n", r.source.string());
  fmt::print(
      out,
      "files      {} read, {} parsed and mapped onto the lattice, {} skipped; {} rows written\n",
      r.files, r.parsed, r.skipped.size(), r.rows);
  if (!r.name_pattern.empty())
    fmt::print(
        out, "names      {} unusual (not {}){}{}\n", r.unusual_names.size(), r.name_pattern,
        r.unusual_names.empty() ? "" : ": ",
        fmt::join(r.unusual_names.begin(),
                  r.unusual_names.begin() + std::min(r.unusual_names.size(), max_listed), ", "));
  fmt::print(out,
             "neutrality max |sum(electrons - Z)| = {:.3g} e; {} file(s) beyond the tolerance\n",
             r.max_neutrality, r.non_neutral);
  if (r.moments_all_zero) fmt::print(out, "moments    all exactly 0 (a nonmagnetic calculation)\n");
  {
    std::size_t dup = 0, differ = 0, translated = 0;
    std::vector<int> missing;
    const ImportComposition* widest = nullptr;
    for (const auto& c : r.compositions) {
      dup += c.duplicate_files, differ += c.disagreeing, translated += c.translated_files;
      if (c.files == 0) missing.push_back(c.composition);
      if (c.rows > 0 && (!widest || c.e_max - c.e_min > widest->e_max - widest->e_min)) widest = &c;
    }
    fmt::print(out, "duplicates {} file(s) repeat a configuration already seen{}; {}\n", dup,
               translated ? fmt::format(" ({} of them as a lattice translation)", translated) : "",
               differ == 0 ? std::string("all results agree")
                           : fmt::format("{} with DIFFERENT results", differ));
    if (!missing.empty())
      fmt::print(out, "missing    no file for composition(s) {}\n", fmt::join(missing, ", "));
    if (widest)
      fmt::print(out,
                 "spread     widest energy range at n_A = {}: {:.4g} Ry (robust scale {:.3g} Ry)\n",
                 widest->composition, widest->e_max - widest->e_min, widest->e_scale);
  }
  print_outlier_summary(out, r);
  fmt::print(
      out,
      "\n{:>5} {:>10} {:>6} {:>6} {:>7} {:>6} {:>6} {:>7} {:>6} {:>5} {:>13} {:>10} {:>8} {:>6}\n",
      "n_A", "distinct", "expect", "files", "unique", "dupl", "differ", "outlier", "rows", "test",
      "median E (Ry)", "scale (Ry)", "range", "max z");
  std::size_t files = 0, unique = 0, dup = 0, differ = 0, outl = 0, rows = 0, test = 0;
  for (const auto& c : r.compositions) {
    const bool off = c.unique != c.expected;
    fmt::print(out,
               "{:>5} {:>10} {:>6} {:>6} {:>7}{} {:>6} {:>6} {:>7} {:>6} {:>5} {:>13} {:>10} {:>8} "
               "{:>6}\n",
               c.composition, c.distinct, c.expected, c.files, c.unique, off ? "*" : " ",
               c.duplicate_files, c.disagreeing, c.outliers, c.rows, c.test,
               c.rows ? fmt::format("{:.4f}", c.e_median) : "-",
               c.rows ? fmt::format("{:.3g}", c.e_scale) : "-",
               c.rows ? fmt::format("{:.3g}", c.e_max - c.e_min) : "-",
               c.rows ? fmt::format("{:.1f}", c.worst_z) : "-");
    files += c.files, unique += c.unique, dup += c.duplicate_files, differ += c.disagreeing;
    outl += c.outliers, rows += c.rows, test += c.test;
  }
  fmt::print(out, "{:>5} {:>10} {:>6} {:>6} {:>7}  {:>6} {:>6} {:>7} {:>6} {:>5}\n", "all", "", "",
             files, unique, dup, differ, outl, rows, test);
  std::size_t off = 0;
  for (const auto& c : r.compositions) off += c.unique != c.expected;
  fmt::print(out,
             "(*: {} composition(s) where the distinct configurations found differ from min(cap, "
             "distinct); "
             "scale = max(1.4826 MAD, floor); z = |E - median| / scale)\n",
             off);
  auto list = [&](const char* title, const std::vector<ImportIssue>& v) {
    if (v.empty()) return;
    fmt::print(out, "\n{} ({}):\n", title, v.size());
    for (std::size_t i = 0; i < v.size() && i < max_listed; ++i)
      fmt::print(out, "  {}: {}\n", v[i].file, v[i].reason);
    if (v.size() > max_listed)
      fmt::print(out, "  ... and {} more (the dataset's /import@report lists all)\n",
                 v.size() - max_listed);
  };
  list("skipped files", r.skipped);
  list("duplicate configurations", r.duplicates);
  list("energy outliers", r.outliers);
}

}  // namespace lsmss::dataset
