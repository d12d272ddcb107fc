#include "montecarlo/checkpoint.hpp"

#include <cstddef>

#include <fmt/format.h>

namespace lsmss::mc {

std::filesystem::path rank_checkpoint(const std::filesystem::path& path, int rank, int nranks) {
  if (nranks <= 1) return path;
  std::filesystem::path p = path;
  return p.replace_extension(fmt::format("rank{}of{}{}", rank, nranks, path.extension().string()));
}

CheckpointWriter::CheckpointWriter(std::filesystem::path path, const std::string& kind,
                                   const std::string& fingerprint)
    : path_(std::move(path)), tmp_(path_.string() + ".tmp"), file_(h5::File::create(tmp_)) {
  h5::write_attr(file_.id(), "kind", kind);
  h5::write_attr(file_.id(), "fingerprint", fingerprint);
}

void CheckpointWriter::commit() {
  file_ = h5::File();  // close before the rename
  std::error_code ec;
  std::filesystem::rename(tmp_, path_, ec);
  if (ec)
    throw FileError(fmt::format("cannot move checkpoint '{}' into place as '{}': {}", tmp_.string(),
                                path_.string(), ec.message()));
}

CheckpointReader::CheckpointReader(const std::filesystem::path& path, const std::string& kind,
                                   const std::string& fingerprint)
    : file_(h5::File::open(path)) {
  const std::string k =
      h5::has_attr(file_.id(), "kind") ? h5::read_attr_string(file_.id(), "kind") : "";
  if (k != kind)
    throw FileError(fmt::format("'{}' is not a {} (kind '{}')", path.string(), kind, k));
  const std::string fp = h5::read_attr_string(file_.id(), "fingerprint");
  if (fp != fingerprint)
    throw FileError(
        fmt::format("checkpoint '{}' was written with other Monte Carlo settings:\n  checkpoint: "
                    "{}\n  deck:       {}\n"
                    "delete it, name another montecarlo.checkpoint, or run with --restart",
                    path.string(), fp, fingerprint));
}

void WalkerState::sync(const Walkers& walkers, const std::vector<double>& walker_energy,
                       double run_seconds, std::int64_t run_acquired) {
  configs.assign(walkers.configs().begin(), walkers.configs().end());
  rngs = walkers.rngs();
  site_order = walkers.site_order();
  energy = walker_energy;
  seconds = run_seconds;
  acquired = run_acquired;
}

void WalkerState::write(hid_t f) const {
  h5::write_attr(f, "lowest_energy", lowest_energy);
  h5::write_attr(f, "lowest", lowest.to_string());
  h5::write_attr(f, "steps", static_cast<std::int64_t>(steps));
  h5::write_attr(f, "seconds", seconds);
  h5::write_attr(f, "acquired", static_cast<std::int64_t>(acquired));
  h5::write(f, "site_order", site_order);
  const hsize_t w = configs.size(), n = configs.empty() ? 0 : configs[0].num_sites();
  std::vector<std::uint8_t> occ;
  occ.reserve(w * n);
  for (const auto& c : configs) occ.insert(occ.end(), c.occupation().begin(), c.occupation().end());
  h5::write(f, "occupation", occ, {w, n});
  std::vector<std::uint64_t> st;
  for (const auto& r : rngs) st.insert(st.end(), r.state().begin(), r.state().end());
  h5::write(f, "rng", st, {w, 4});
  h5::write(f, "energy", energy);
}

void WalkerState::read(hid_t f, int num_sites, int walkers) {
  lowest_energy = h5::read_attr_double(f, "lowest_energy");
  const std::string low = h5::read_attr_string(f, "lowest");
  if (!low.empty()) lowest = Configuration::from_string(low);
  steps = h5::read_attr_int(f, "steps");
  seconds = h5::read_attr_double(f, "seconds");
  acquired = h5::has_attr(f, "acquired") ? h5::read_attr_int(f, "acquired") : 0;
  site_order = h5::read<std::int32_t>(f, "site_order");
  std::vector<hsize_t> shape;
  const auto occ = h5::read<std::uint8_t>(f, "occupation", &shape);
  if (shape.size() != 2 || shape[0] != static_cast<hsize_t>(walkers) ||
      shape[1] != static_cast<hsize_t>(num_sites))
    throw FileError(fmt::format("{}: expected {} walkers x {} sites",
                                h5::object_name(f, "occupation"), walkers, num_sites));
  configs.clear();
  for (int w = 0; w < walkers; ++w)
    configs.emplace_back(
        std::vector<std::uint8_t>(occ.begin() + static_cast<std::size_t>(w) * num_sites,
                                  occ.begin() + static_cast<std::size_t>(w + 1) * num_sites));
  const auto st = h5::read<std::uint64_t>(f, "rng");
  if (st.size() != static_cast<std::size_t>(walkers) * 4)
    throw FileError(fmt::format("{}: expected {} x 4 values", h5::object_name(f, "rng"), walkers));
  rngs.assign(walkers, Rng());
  for (int w = 0; w < walkers; ++w) {
    const std::size_t b = static_cast<std::size_t>(w) * 4;
    rngs[w].set_state({st[b], st[b + 1], st[b + 2], st[b + 3]});
  }
  energy = h5::read<double>(f, "energy");
  if (energy.size() != static_cast<std::size_t>(walkers))
    throw FileError(fmt::format("{}: expected {} values", h5::object_name(f, "energy"), walkers));
}

namespace {
constexpr int kFixed = 15;
}

void write_rows(hid_t f, const std::string& name, const std::vector<TemperatureResult>& rows,
                int sro_values) {
  const hsize_t cols = kFixed + 2 * sro_values;
  std::vector<double> v;
  for (const auto& r : rows) {
    const double fixed[kFixed] = {r.temperature,
                                  double(r.chains),
                                  double(r.samples),
                                  r.energy,
                                  r.energy_err,
                                  r.heat_capacity,
                                  r.heat_capacity_err,
                                  r.acceptance,
                                  double(r.fallbacks),
                                  double(r.acquired),
                                  double(r.failed),
                                  r.free_energy,
                                  r.entropy,
                                  0,
                                  0};
    v.insert(v.end(), fixed, fixed + kFixed);
    for (int k = 0; k < sro_values; ++k) v.push_back(k < int(r.sro.size()) ? r.sro[k] : NAN);
    for (int k = 0; k < sro_values; ++k)
      v.push_back(k < int(r.sro_err.size()) ? r.sro_err[k] : NAN);
  }
  h5::write(f, name, v, {static_cast<hsize_t>(rows.size()), cols});
}

std::vector<TemperatureResult> read_rows(hid_t f, const std::string& name, int sro_values) {
  std::vector<hsize_t> shape;
  const auto v = h5::read<double>(f, name, &shape);
  const std::size_t cols = kFixed + 2 * sro_values;
  if (shape.size() != 2 || shape[1] != cols)
    throw FileError(
        fmt::format("{}: expected a table of {} columns", h5::object_name(f, name), cols));
  std::vector<TemperatureResult> rows(shape[0]);
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const double* x = v.data() + i * cols;
    auto& r = rows[i];
    r.temperature = x[0];
    r.chains = static_cast<int>(x[1]);
    r.samples = static_cast<long>(x[2]);
    r.energy = x[3];
    r.energy_err = x[4];
    r.heat_capacity = x[5];
    r.heat_capacity_err = x[6];
    r.acceptance = x[7];
    r.fallbacks = static_cast<long>(x[8]);
    r.acquired = static_cast<long>(x[9]);
    r.failed = static_cast<long>(x[10]);
    r.free_energy = x[11];
    r.entropy = x[12];
    r.sro.assign(x + kFixed, x + kFixed + sro_values);
    r.sro_err.assign(x + kFixed + sro_values,
                     x + kFixed + 2 * static_cast<std::ptrdiff_t>(sro_values));
  }
  return rows;
}

}  // namespace lsmss::mc
