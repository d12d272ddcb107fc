#include "dataset_builder/configuration_inputs.hpp"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>

#include <fmt/format.h>

#include "core/error.hpp"
#include "core/hdf5.hpp"
#include "dataset_builder/dataset.hpp"
#include "lsms_plugin/info_evec.hpp"

namespace lsmss::dataset {

void InputConfigurations::add(Configuration config, std::string name, double e,
                              std::vector<double> q, std::vector<double> m) {
  configs.push_back(std::move(config));
  names.push_back(std::move(name));
  energy.push_back(e);
  charge.push_back(std::move(q));
  moment.push_back(std::move(m));
}

namespace {

// Every row of a dataset file, with the properties it holds.
void add_dataset_rows(const std::string& path, const System& sys, InputConfigurations& in) {
  const int N = sys.num_sites();
  const auto d = read_dataset(path);
  if (d.num_sites != N)
    fail("{}: {} sites per configuration, the model's lattice has {}", path, d.num_sites, N);
  const bool has_e = (d.available & kEnergy) && d.energy.size() == d.rows();
  const bool has_q = (d.available & kCharge) && d.charge.size() == d.rows() * N;
  const bool has_m = (d.available & kMoment) && d.moment.size() == d.rows() * N;
  auto slice = [N](const std::vector<double>& v, std::size_t r) {
    return std::vector<double>(v.begin() + r * N, v.begin() + (r + 1) * N);
  };
  for (std::size_t r = 0; r < d.rows(); ++r)
    in.add(Configuration(std::vector<std::uint8_t>(d.occupation.begin() + r * N,
                                                   d.occupation.begin() + (r + 1) * N)),
           fmt::format("{}:{}", path, r), has_e ? d.energy[r] : std::nan(""),
           has_q ? slice(d.charge, r) : std::vector<double>{},
           has_m ? slice(d.moment, r) : std::vector<double>{});
}

// A line of species digits (and blanks) only: the first line tells a text file of
// configurations from an LSMS output file.
bool is_digit_line(const std::string& line) {
  return !line.empty() && line.find_first_not_of("0123456789 \t\r") == std::string::npos &&
         line.find_first_not_of(" \t\r") != std::string::npos;
}

// One configuration per line (blank lines skipped), `first` being the line already read.
void add_digit_lines(std::ifstream& f, const std::string& first, const std::string& path,
                     const System& sys, InputConfigurations& in) {
  const int N = sys.num_sites();
  std::string line = first;
  int lineno = 1;
  do {
    std::string s;
    for (char c : line)
      if (c >= '0' && c <= '9') s += c;
    if (!s.empty()) {
      if (static_cast<int>(s.size()) != N)
        fail("{}:{}: {} species digits, the model's lattice has {} sites", path, lineno, s.size(),
             N);
      Configuration c = Configuration::from_string(s);
      for (int i = 0; i < N; ++i)
        if (c[i] >= sys.num_species())
          fail("{}:{}: species {} at site {} does not exist", path, lineno, c[i], i);
      in.add(std::move(c), fmt::format("{}:{}", path, lineno), std::nan(""));
    }
    ++lineno;
  } while (std::getline(f, line));
}

// An LSMS info_evec output file: its positions mapped onto the lattice, with its results.
void add_lsms_output(const std::string& path, const System& sys, InputConfigurations& in) {
  const auto ie = lsms::parse_info_evec(path);
  lsms::SiteValues v;
  try {
    v = lsms::SiteMapper(sys, "the model").map(ie);
  } catch (const Error& e) {
    fail("{}: {}", path, e.what());
  }
  in.add(std::move(v.config), path, ie.total_energy, std::move(v.charge), std::move(v.moment));
}

// A directory stands for the files in it (LSMS output files, in name order); a deck is refused
// with a pointer to --deck (it used to be parsed as an LSMS file: "empty file").
std::vector<std::string> expand_inputs(const std::vector<std::string>& inputs) {
  std::vector<std::string> paths;
  for (const auto& path : inputs) {
    if (std::filesystem::path(path).extension() == ".lua")
      fail(
          "{}: a deck is not an input to predict; give the models with -m, or the deck with "
          "--deck (its training.model)",
          path);
    if (!std::filesystem::is_directory(path)) {
      paths.push_back(path);
      continue;
    }
    std::vector<std::string> files;
    for (const auto& e : std::filesystem::directory_iterator(path))
      if (e.is_regular_file() && e.path().filename().string().front() != '.')
        files.push_back(e.path().string());
    if (files.empty()) fail("{}: a directory without files to predict", path);
    std::sort(files.begin(), files.end());
    paths.insert(paths.end(), files.begin(), files.end());
  }
  return paths;
}

}  // namespace

InputConfigurations read_prediction_inputs(const std::vector<std::string>& inputs,
                                           const System& model_system) {
  InputConfigurations in;
  for (const auto& path : expand_inputs(inputs)) {
    if (h5::File::is_hdf5(path)) {
      add_dataset_rows(path, model_system, in);
      continue;
    }
    std::ifstream f(path);
    if (!f) fail("cannot read '{}'", path);
    std::string first;
    std::getline(f, first);
    if (is_digit_line(first))
      add_digit_lines(f, first, path, model_system, in);
    else
      add_lsms_output(path, model_system, in);
  }
  if (in.configs.empty()) fail("no configurations to predict");
  return in;
}

Configuration random_configuration(const System& system, int count_a, Rng& rng) {
  std::vector<std::uint8_t> occ(system.num_sites(), 1);
  if (count_a >= 0) {
    std::fill(occ.begin(), occ.begin() + count_a, 0);
    for (std::size_t i = occ.size(); i > 1; --i) std::swap(occ[i - 1], occ[rng.below(i)]);
  } else {
    for (auto& o : occ) o = static_cast<std::uint8_t>(rng.below(system.num_species()));
  }
  return Configuration(std::move(occ));
}

}  // namespace lsmss::dataset
