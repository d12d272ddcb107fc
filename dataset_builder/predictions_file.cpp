#include "dataset_builder/predictions_file.hpp"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "core/hdf5.hpp"

namespace lsmss::dataset {
namespace {

// The input's own values in the file's layout: NaN for every row without them; per-site arrays
// only when some row has them (`any`).
struct InputValues {
  std::vector<double> energy, charge, moment;
  bool any_charge = false, any_moment = false;
};

InputValues input_values(const InputConfigurations& in, std::size_t rows, int sites) {
  InputValues v;
  for (std::size_t k = 0; k < rows; ++k) {
    v.any_charge = v.any_charge || !in.charge[k].empty();
    v.any_moment = v.any_moment || !in.moment[k].empty();
  }
  const double nan = std::nan("");
  auto append = [sites, nan](std::vector<double>& dst, const std::vector<double>& values) {
    if (values.empty())
      dst.insert(dst.end(), sites, nan);
    else
      dst.insert(dst.end(), values.begin(), values.end());
  };
  for (std::size_t k = 0; k < rows; ++k) {
    v.energy.push_back(in.energy[k]);
    if (v.any_charge) append(v.charge, in.charge[k]);
    if (v.any_moment) append(v.moment, in.moment[k]);
  }
  return v;
}

}  // namespace

void write_predictions_h5(const std::filesystem::path& path, const std::vector<std::string>& models,
                          const System& system, const InputConfigurations& in,
                          const std::vector<Properties>& props) {
  const int sites = system.num_sites();
  std::vector<std::uint8_t> occ;
  std::vector<std::int32_t> comp;
  std::vector<double> e, es, q, qs, m, ms;
  for (std::size_t k = 0; k < props.size(); ++k) {
    occ.insert(occ.end(), in.configs[k].occupation().begin(), in.configs[k].occupation().end());
    comp.push_back(in.configs[k].composition());
    if (props[k].energy) e.push_back(*props[k].energy), es.push_back(*props[k].energy_std);
    q.insert(q.end(), props[k].charge.begin(), props[k].charge.end());
    qs.insert(qs.end(), props[k].charge_std.begin(), props[k].charge_std.end());
    m.insert(m.end(), props[k].moment.begin(), props[k].moment.end());
    ms.insert(ms.end(), props[k].moment_std.begin(), props[k].moment_std.end());
  }
  auto f = h5::File::create(path);
  h5::write_attr(f, "format", kPredictionsFormatName);
  h5::write_attr(f, "models", models);
  h5::write_attr(f, "system", system.name());
  h5::write_attr(f, "lattice", system.lattice.describe());
  const hsize_t rows = props.size(), per_row = sites;
  h5::write_strings(f, "source", in.names);
  h5::write(f, "occupation", occ, {rows, per_row});
  h5::write(f, "composition", comp);
  if (!e.empty()) h5::write(f, "energy", e), h5::write(f, "energy_std", es);
  if (!q.empty())
    h5::write(f, "charge", q, {rows, per_row}), h5::write(f, "charge_std", qs, {rows, per_row});
  if (!m.empty())
    h5::write(f, "moment", m, {rows, per_row}), h5::write(f, "moment_std", ms, {rows, per_row});
  const InputValues input = input_values(in, props.size(), sites);
  if (std::any_of(input.energy.begin(), input.energy.end(),
                  [](double x) { return !std::isnan(x); }))
    h5::write(f, "input_energy", input.energy);
  if (input.any_charge) h5::write(f, "input_charge", input.charge, {rows, per_row});
  if (input.any_moment) h5::write(f, "input_moment", input.moment, {rows, per_row});
}

void write_predictions_csv(std::ostream& out, const InputConfigurations& in,
                           const std::vector<Properties>& props) {
  out << "# lsms-surrogate predict: energy in Ry, charge in e (electrons on the site), moment in "
         "muB; _std = spread of the fold models; input_energy_Ry = the input's own energy "
         "(dataset or LSMS output file; empty for plain configurations)\n"
         "source,configuration,n_A,energy_Ry,energy_std_Ry,charge_e,charge_std_e,moment_muB,"
         "moment_std_muB,input_energy_Ry\n";
  for (std::size_t k = 0; k < props.size(); ++k) {
    const auto& p = props[k];
    out << fmt::format("{},{},{},{},{},\"{:.6f}\",\"{:.6f}\",\"{:.6f}\",\"{:.6f}\",{}\n",
                       in.names[k], in.configs[k].to_string(), in.configs[k].composition(),
                       p.energy ? fmt::format("{:.10f}", *p.energy) : "",
                       p.energy_std ? fmt::format("{:.3e}", *p.energy_std) : "",
                       fmt::join(p.charge, ","), fmt::join(p.charge_std, ","),
                       fmt::join(p.moment, ","), fmt::join(p.moment_std, ","),
                       std::isnan(in.energy[k]) ? "" : fmt::format("{:.10f}", in.energy[k]));
  }
}

PredictionsFile read_predictions_h5(const std::filesystem::path& path) {
  const auto f = h5::File::open(path, h5::Mode::read);
  if (!h5::has_attr(f, "format") || h5::read_attr_string(f, "format") != kPredictionsFormatName)
    throw FileError(fmt::format("{}: not a predictions file (root attribute 'format' is not '{}')",
                                path.string(), kPredictionsFormatName));
  PredictionsFile p;
  p.models = h5::read_attr_strings(f, "models");
  p.system = h5::read_attr_string(f, "system");
  p.lattice = h5::read_attr_string(f, "lattice");
  if (h5::exists(f, "source")) p.source = h5::read_strings(f, "source");
  p.occupation = h5::read<std::uint8_t>(f, "occupation");
  p.composition = h5::read<std::int32_t>(f, "composition");
  auto optional = [&f](const char* name, std::vector<double>& into) {
    if (h5::exists(f, name)) into = h5::read<double>(f, name);
  };
  optional("energy", p.energy);
  optional("energy_std", p.energy_std);
  optional("charge", p.charge);
  optional("charge_std", p.charge_std);
  optional("moment", p.moment);
  optional("moment_std", p.moment_std);
  optional("input_energy", p.input_energy);
  optional("input_charge", p.input_charge);
  optional("input_moment", p.input_moment);
  return p;
}

ErrorsAgainstInputs errors_against_inputs(const InputConfigurations& in,
                                          const std::vector<Properties>& props, int sites) {
  double se = 0, sq = 0, sm = 0;
  ErrorsAgainstInputs r;
  for (std::size_t k = 0; k < props.size(); ++k) {
    const Properties& p = props[k];
    if (p.energy && !std::isnan(in.energy[k])) {
      se += (*p.energy - in.energy[k]) * (*p.energy - in.energy[k]);
      ++r.energies;
    }
    if (!p.charge.empty() && !in.charge[k].empty())
      for (int i = 0; i < sites; ++i, ++r.charges) sq += std::pow(p.charge[i] - in.charge[k][i], 2);
    if (!p.moment.empty() && !in.moment[k].empty())
      for (int i = 0; i < sites; ++i, ++r.moments) sm += std::pow(p.moment[i] - in.moment[k][i], 2);
  }
  if (r.energies > 0) r.energy_rmse = std::sqrt(se / r.energies);
  if (r.charges > 0) r.charge_rmse = std::sqrt(sq / r.charges);
  if (r.moments > 0) r.moment_rmse = std::sqrt(sm / r.moments);
  return r;
}

}  // namespace lsmss::dataset
