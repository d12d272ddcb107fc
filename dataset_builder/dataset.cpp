#include "dataset_builder/dataset.hpp"

#include <bit>
#include <cmath>
#include <unordered_map>

#include "core/error.hpp"
#include "dataset_builder/sampling.hpp"
#include "dataset_builder/store.hpp"

namespace lsmss::dataset {

Configuration Dataset::configuration(std::size_t row) const {
  const auto* p = occupation.data() + row * num_sites;
  return Configuration(std::vector<std::uint8_t>(p, p + num_sites));
}

Dataset read_dataset(const std::filesystem::path& path) {
  const DatasetFile f = DatasetFile::open(path, h5::Mode::read);
  const ConfigTable& c = f.configs();
  const ResultTable& r = f.results();
  Dataset d{f.system(), 0, 0, {}, 0, {}, {}, {}, {}, {}, {}, {}};
  d.num_sites = f.system().num_sites();
  d.num_folds = f.info().sampling.folds;
  d.driver = f.info().driver;
  // The first successful result of every configuration, in /configs order.
  std::vector<std::int64_t> first(c.rows(), -1);
  for (std::size_t k = 0; k < r.rows(); ++k)
    if (r.row_status(k) == Status::ok && first[r.config[k]] < 0)
      first[r.config[k]] = static_cast<std::int64_t>(k);
  const int n = d.num_sites;
  bool has_q = true, has_m = true;
  for (std::size_t row = 0; row < c.rows(); ++row) {
    const auto k = first[row];
    if (k < 0) continue;
    d.occupation.insert(d.occupation.end(), c.occupation.begin() + row * n,
                        c.occupation.begin() + (row + 1) * n);
    d.composition.push_back(c.composition[row]);
    d.fold.push_back(c.fold[row]);
    d.origin.push_back(c.origin[row]);
    d.energy.push_back(r.energy[k]);
    d.charge.insert(d.charge.end(), r.charge.begin() + k * n, r.charge.begin() + (k + 1) * n);
    d.moment.insert(d.moment.end(), r.moment.begin() + k * n, r.moment.begin() + (k + 1) * n);
    for (int i = 0; i < n; ++i) {
      has_q = has_q && std::isfinite(r.charge[k * n + i]);
      has_m = has_m && std::isfinite(r.moment[k * n + i]);
    }
    if (!std::isfinite(r.energy[k]))
      throw FileError(
          fmt::format("{}: /results row {} has status ok but no energy", path.string(), k));
  }
  d.damaged_rows = f.damaged_config_rows() + f.damaged_result_rows();
  d.available = f.info().provides & kEnergy;
  if (has_q && (f.info().provides & kCharge))
    d.available |= kCharge;
  else
    d.charge.clear();
  if (has_m && (f.info().provides & kMoment))
    d.available |= kMoment;
  else
    d.moment.clear();
  return d;
}

void append_results(const std::filesystem::path& path, const std::vector<Configuration>& configs,
                    const std::vector<Properties>& results, Origin origin,
                    const std::string& driver, const std::string& source) {
  if (configs.size() != results.size())
    fail("append_results: {} configurations but {} results", configs.size(), results.size());
  DatasetFile f = DatasetFile::open(path, h5::Mode::read_write);
  const System& sys = f.system();
  const ConfigTable& have = f.configs();
  const auto& info = f.info();
  const std::string drv = driver.empty() ? info.driver : driver;
  // Existing rows by occupation, and whether they already have a successful result.
  std::unordered_map<Configuration, std::int64_t, ConfigurationHash> row_of;
  for (std::size_t r = 0; r < have.rows(); ++r)
    if (have.usable(r)) row_of.emplace(have.configuration(r), static_cast<std::int64_t>(r));
  std::vector<int> attempts(have.rows(), 0);
  std::vector<char> ok(have.rows(), 0);
  for (std::size_t k = 0; k < f.results().rows(); ++k) {
    ++attempts[f.results().config[k]];
    if (f.results().row_status(k) == Status::ok) ok[f.results().config[k]] = 1;
  }
  ConfigTable new_configs;
  new_configs.sites = sys.num_sites();
  ResultTable rows;
  rows.sites = sys.num_sites();
  for (std::size_t i = 0; i < configs.size(); ++i) {
    const Configuration& c = configs[i];
    if (c.num_sites() != sys.num_sites())
      fail("append_results: configuration {} has {} sites, {} holds {}", i, c.num_sites(),
           path.string(), sys.num_sites());
    for (int s = 0; s < c.num_sites(); ++s)
      if (c[s] >= sys.num_species())
        fail("append_results: configuration {} puts species {} on site {}; {} has {} species", i,
             c[s], s, path.string(), sys.num_species());
    auto it = row_of.find(c);
    if (it == row_of.end()) {
      const auto row = static_cast<std::int64_t>(have.rows() + new_configs.rows());
      new_configs.push_back(c,
                            fold_for_hash(c.hash(), info.sampling.folds,
                                          info.sampling.test_fraction, info.sampling.seed),
                            origin, source);
      it = row_of.emplace(c, row).first;
      attempts.push_back(0);
      ok.push_back(0);
    }
    const auto row = it->second;
    if (ok[row]) continue;  // never a second result for a finished configuration
    rows.push_back({row, ++attempts[row], results[i], drv}, c.occupation().data(), sys);
    if (results[i].ok()) ok[row] = 1;
  }
  // Configurations first: a crash in between leaves them without results (pending), never
  // results without their configuration.
  f.append_configs(new_configs);
  f.append_results(rows);
}

std::size_t count_rows_from(const std::filesystem::path& path, Origin origin,
                            const std::string& source) {
  const DatasetFile f = DatasetFile::open(path, h5::Mode::read);
  const ConfigTable& c = f.configs();
  std::size_t n = 0;
  for (std::size_t r = 0; r < c.rows(); ++r)
    if (c.usable(r) && c.origin[r] == static_cast<std::int8_t>(origin) && c.source[r] == source)
      ++n;
  return n;
}

void append_results(const std::filesystem::path& path, const std::vector<Configuration>& configs,
                    const std::vector<Properties>& results, Origin origin) {
  append_results(path, configs, results, origin, std::string());
}

}  // namespace lsmss::dataset
