// nn::Model: inference in physical units, the Monte Carlo fast path, model files (ensembles:
// nn/core/ensemble.cpp).
#include <unistd.h>

#include <cmath>
#include <cstring>

#include <fmt/format.h>

#include "core/error.hpp"
#include "core/hdf5.hpp"
#include "core/species.hpp"
#include "core/version.hpp"
#include "nn/core/backend.hpp"
#include "nn/core/model_impl.hpp"

namespace lsmss::nn {

namespace {
constexpr const char* kFormat = "lsms-surrogate-model";
// 2: the `kind` attribute and the `linear` group (model kinds other than the paper's MLP). Files
// of plain MLPs are still written as version 1, so older programs read them.
constexpr std::int64_t kFormatVersion = 2;

std::vector<std::int64_t> to64(const std::vector<int>& v) {
  return {v.begin(), v.end()};
}
}  // namespace

void ModelData::prepare(const std::string& name) {
  // An unknown or uncompiled backend is refused at load time, not at the first prediction.
  if (name != "auto" && !backend_compiled(name)) make_backend(name);
  backend_name = name;
  if (!has_network()) {  // a linear model alone: no first layer to fold
    fast_path = false;
    width1 = 0;
    return;
  }
  const auto& L = net.layers();
  width1 = L[0].out;
  // The one-hot trick needs the first layer to read the input alone and feed everything else.
  fast_path = L[0].input < 0;
  for (std::size_t l = 1; l < L.size(); ++l) fast_path = fast_path && L[l].input >= 0;
  // The fast path sums first-layer rows only: a linear base needs the whole configuration.
  fast_path = fast_path && !linear;
  const int S = stdz.num_species, F = stdz.num_sites * S, W = width1 + S;
  folded_rows.assign(static_cast<std::size_t>(F) * W, 0.0f);
  folded_bias.assign(W, 0.0f);
  // z1 = b + W ((x - mean)/std) = [b - sum_f W_f mean_f/std_f] + sum_{active f} W_f/std_f;
  // folded in double, stored float. Channels width1.. count the atoms of each species.
  const float* Wt = params.data() + L[0].w;
  const float* b = params.data() + L[0].b;
  for (int o = 0; o < width1; ++o) {
    double bias = b[o];
    for (int f = 0; f < F; ++f) {
      const double w = double(Wt[static_cast<std::size_t>(o) * F + f]) / stdz.input_std[f];
      folded_rows[static_cast<std::size_t>(f) * W + o] = static_cast<float>(w);
      bias -= w * stdz.input_mean[f];
    }
    folded_bias[o] = static_cast<float>(bias);
  }
  for (int f = 0; f < F; ++f) folded_rows[static_cast<std::size_t>(f) * W + width1 + f % S] = 1.0f;
}

// ---------------------------------------------------------------- workspaces

ModelWorkspace::ModelWorkspace(Model model) : model_(std::move(model)) {}
ModelWorkspace::ModelWorkspace(ModelWorkspace&&) noexcept = default;
ModelWorkspace& ModelWorkspace::operator=(ModelWorkspace&&) noexcept = default;
ModelWorkspace::~ModelWorkspace() = default;

void ModelWorkspace::reserve(int rows) {
  if (rows <= capacity_) return;
  const ModelData& m = ModelAccess::data(model_);
  if (!backend_) backend_ = make_backend(m.backend_name);
  backend_->setup(m.net, rows);
  std::copy(m.params.begin(), m.params.end(), backend_->params().begin());
  backend_->upload_params();
  capacity_ = rows;
  const int features = m.stdz.num_sites * m.stdz.num_species;
  scratch_.assign(static_cast<std::size_t>(rows) * std::max(m.width1, features), 0.0f);
}

// ---------------------------------------------------------------- the steps of a prediction

Predictions ModelData::zero_predictions(std::size_t count) const {
  const std::size_t N = static_cast<std::size_t>(system.num_sites());
  Predictions p;
  const PropertyMask mask = tasks();
  if (mask & kEnergy) p.energy.assign(count, 0.0);
  if (mask & kCharge) p.charge.assign(count * N, 0.0);
  if (mask & kMoment) p.moment.assign(count * N, 0.0);
  return p;
}

void ModelData::read_occupations(std::span<const Configuration> configs, std::uint8_t* occ) const {
  const int N = system.num_sites();
  for (std::size_t r = 0; r < configs.size(); ++r) {
    const Configuration& c = configs[r];
    if (c.num_sites() != N)
      fail("model for {} sites asked about a configuration of {} sites", N, c.num_sites());
    for (int i = 0; i < N; ++i) {
      if (c[i] >= system.num_species())
        fail("configuration has species {} at site {}; the model knows {} species", c[i], i,
             system.num_species());
      occ[r * N + i] = c[i];
    }
  }
}

void ModelData::add_linear_part(const std::uint8_t* occ, int n, std::size_t first,
                                Predictions& p) const {
  if (!linear) return;
  const std::size_t N = static_cast<std::size_t>(system.num_sites());
  Predictions part = zero_predictions(static_cast<std::size_t>(n));
  linear->add_predictions(occ, n, part);
  auto copy = [&](const std::vector<double>& from, std::vector<double>& to, std::size_t per) {
    if (!from.empty()) std::copy(from.begin(), from.end(), to.begin() + first * per);
  };
  copy(part.energy, p.energy, 1);
  copy(part.charge, p.charge, N);
  copy(part.moment, p.moment, N);
}

int ModelData::network_input_width() const {
  return fast_path ? width1 : stdz.num_sites * stdz.num_species;
}

void ModelData::network_input(const std::uint8_t* occ, int n, float* out) const {
  const int N = stdz.num_sites, S = stdz.num_species, F = N * S, W = width1 + S;
  if (!fast_path) {
    for (int r = 0; r < n; ++r)
      stdz.encode_input(occ + static_cast<std::size_t>(r) * N,
                        out + static_cast<std::size_t>(r) * F);
    return;
  }
  for (int r = 0; r < n; ++r) {
    float* z = out + static_cast<std::size_t>(r) * width1;
    std::memcpy(z, folded_bias.data(), sizeof(float) * width1);
    for (int i = 0; i < N; ++i) {
      const float* row = folded_rows.data() + static_cast<std::size_t>(i * S + occ[r * N + i]) * W;
#pragma omp simd
      for (int o = 0; o < width1; ++o) z[o] += row[o];
    }
  }
}

void ModelData::add_head_outputs(int h, const std::uint8_t* occ, int n, const float* y,
                                 std::size_t first, Predictions& p) const {
  const HeadSpec& head = net.spec().heads[h];
  const int O = head.outputs, N = system.num_sites();
  auto& v = head.task == Task::energy ? p.energy : head.task == Task::charge ? p.charge : p.moment;
  std::vector<double> decoded(O);
  for (int r = 0; r < n; ++r) {
    stdz.decode_output(h, occ + static_cast<std::size_t>(r) * N,
                       y + static_cast<std::size_t>(r) * O, decoded.data());
    for (int o = 0; o < O; ++o) v[(first + r) * O + o] += decoded[o];
  }
}

Predictions ModelWorkspace::predict(std::span<const Configuration> configs) {
  const ModelData& m = ModelAccess::data(model_);
  Predictions p = m.zero_predictions(configs.size());
  if (configs.empty()) return p;
  const std::size_t chunk = ModelData::kPredictChunk;
  if (m.has_network()) reserve(static_cast<int>(std::min(configs.size(), chunk)));
  std::vector<std::uint8_t> occ(std::min(configs.size(), chunk) * m.system.num_sites());
  for (std::size_t first = 0; first < configs.size(); first += chunk) {
    const int n = static_cast<int>(std::min(chunk, configs.size() - first));
    m.read_occupations(configs.subspan(first, n), occ.data());
    m.add_linear_part(occ.data(), n, first, p);
    if (!m.has_network()) continue;
    m.network_input(occ.data(), n, scratch_.data());
    if (m.fast_path)
      backend_->forward_from_first(scratch_.data(), n);
    else
      backend_->forward(scratch_.data(), n);
    for (int h = 0; h < m.net.num_heads(); ++h)
      m.add_head_outputs(h, occ.data(), n, backend_->output(h), first, p);
  }
  return p;
}

int ModelData::fast_path_energy_head(std::size_t z1_size, std::size_t out_size, int batch) const {
  int head = -1;
  for (int h = 0; h < net.num_heads(); ++h)
    if (net.spec().heads[h].task == Task::energy) head = h;
  if (!fast_path)
    fail("energy_from_first_preactivation: this model (kind {}) has no first-layer fast path",
         model_kind_name(kind));
  if (head < 0) fail("energy_from_first_preactivation: this model does not predict the energy");
  const std::size_t W = static_cast<std::size_t>(width1) + stdz.num_species;
  if (z1_size < static_cast<std::size_t>(batch) * W || out_size < static_cast<std::size_t>(batch))
    fail("energy_from_first_preactivation: buffers too small for batch {} x width {}", batch, W);
  return head;
}

void ModelData::first_preactivations(const float* z1, int n, float* out) const {
  const std::size_t W = static_cast<std::size_t>(width1) + stdz.num_species;
  for (int r = 0; r < n; ++r)
    std::memcpy(out + static_cast<std::size_t>(r) * width1, z1 + r * W, sizeof(float) * width1);
}

void ModelData::energies_from_outputs(int head, const float* y, const float* z1, int n,
                                      double* out) const {
  const int S = stdz.num_species;
  const std::size_t W = static_cast<std::size_t>(width1) + S;
  const HeadStats& hs = stdz.heads[head];
  for (int r = 0; r < n; ++r) {
    double counts[256];
    const float* c = z1 + r * W + width1;
    for (int k = 0; k < S; ++k) counts[k] = std::round(c[k]);  // exact small integers in float
    out[r] = double(y[r]) * hs.std[0] + hs.mean[0] + stdz.reference_energy_of_counts(counts);
  }
}

void ModelWorkspace::energy_from_first_preactivation(std::span<const float> z1, int batch,
                                                     std::span<double> energy_out) {
  const ModelData& m = ModelAccess::data(model_);
  const int head = m.fast_path_energy_head(z1.size(), energy_out.size(), batch);
  if (batch < 1) return;
  reserve(std::min(ModelData::kMaxBatch, batch));
  const std::size_t W = model_.first_layer_width();
  for (int first = 0; first < batch; first += ModelData::kMaxBatch) {
    const int n = std::min(ModelData::kMaxBatch, batch - first);
    const float* rows = z1.data() + first * W;
    m.first_preactivations(rows, n, scratch_.data());
    backend_->forward_from_first(scratch_.data(), n);
    m.energies_from_outputs(head, backend_->output(head), rows, n, energy_out.data() + first);
  }
}

// ---------------------------------------------------------------- models

Model::Model(std::shared_ptr<const ModelData> impl) : impl_(std::move(impl)) {}
Model::Model(Model&&) noexcept = default;
Model& Model::operator=(Model&&) noexcept = default;
Model::~Model() = default;

PropertyMask ModelData::tasks() const {
  PropertyMask m = 0;
  for (const auto& h : net.spec().heads) m |= task_bit(h.task);
  if (linear)
    for (Task t : linear->tasks()) m |= task_bit(t);
  return m;
}

PropertyMask Model::tasks() const {
  return impl_->tasks();
}

std::string Model::kind() const {
  return model_kind_name(impl_->kind);
}

std::string Model::describe() const {
  const ModelData& m = *impl_;
  if (!m.linear) return m.net.describe();
  const std::string linear = "linear " + m.linear->describe();
  return m.has_network() ? fmt::format("{} + MLP {}", linear, m.net.describe()) : linear;
}

const System& Model::system() const {
  return impl_->system;
}

void Model::check_matches(const System& s) const {
  const System& m = impl_->system;
  const std::string where =
      fmt::format("model trained for {} on {}", m.name(), m.lattice.describe());
  if (s.lattice.kind() != m.lattice.kind())
    fail("{}: lattice kind differs (model {}, asked {})", where,
         lattice_kind_name(m.lattice.kind()), lattice_kind_name(s.lattice.kind()));
  if (s.lattice.supercell() != m.lattice.supercell()) {
    auto sc = [](const Lattice& l) {
      return fmt::format("{}x{}x{}", l.supercell()[0], l.supercell()[1], l.supercell()[2]);
    };
    fail("{}: supercell differs (model {}, asked {})", where, sc(m.lattice), sc(s.lattice));
  }
  auto close = [](double a, double b) {
    return std::abs(a - b) <= 1e-6 * std::max(1.0, std::abs(a));
  };
  if (!close(s.lattice.a(), m.lattice.a()) || !close(s.lattice.c(), m.lattice.c()))
    fail("{}: lattice constants differ (model a={} c={} Bohr, asked a={} c={} Bohr)", where,
         m.lattice.a(), m.lattice.c(), s.lattice.a(), s.lattice.c());
  if (s.species.size() != m.species.size())
    fail("{}: {} species, asked about {}", where, m.species.size(), s.species.size());
  for (std::size_t k = 0; k < s.species.size(); ++k)
    if (s.species[k].symbol != m.species[k].symbol)
      fail("{}: species {} is {} in the model but {} in the system (order matters)", where, k,
           m.species[k].symbol, s.species[k].symbol);
}

Predictions Model::predict(std::span<const Configuration> configs) const {
  return ModelWorkspace(*this).predict(configs);
}

int Model::first_layer_width() const {
  return impl_->width1 + impl_->stdz.num_species;
}

std::span<const float> Model::first_layer_row(int feature) const {
  const int W = first_layer_width();
  const int F = impl_->stdz.num_sites * impl_->stdz.num_species;
  if (feature < 0 || feature >= F)
    fail("first_layer_row: feature {} outside 0..{}", feature, F - 1);
  return {impl_->folded_rows.data() + static_cast<std::size_t>(feature) * W,
          static_cast<std::size_t>(W)};
}

std::span<const float> Model::first_layer_bias() const {
  return impl_->folded_bias;
}

bool Model::has_fast_path() const {
  return impl_->fast_path;
}

// ---------------------------------------------------------------- model files

namespace {

void write_network(hid_t g, const ModelData& m) {
  const auto& spec = m.net.spec();
  std::vector<std::string> tasks, shared_act;
  std::vector<int> hidden, outputs;
  for (const auto& h : spec.heads) {
    tasks.push_back(task_name(h.task));
    hidden.push_back(h.hidden);
    outputs.push_back(h.outputs);
  }
  for (auto a : spec.shared_act) shared_act.push_back(activation_name(a));
  h5::write_attr(g, "tasks", tasks);
  h5::write_attr(g, "architecture", m.net.describe());
  h5::write_attr(g, "inputs", static_cast<std::int64_t>(spec.inputs));
  h5::write_attr(g, "shared_widths", to64(spec.shared));
  if (!shared_act.empty()) h5::write_attr(g, "shared_activations", shared_act);
  h5::write_attr(g, "task_activation", activation_name(spec.task_act));
  h5::write_attr(g, "task_widths", to64(hidden));
  h5::write_attr(g, "task_outputs", to64(outputs));
  h5::write_attr(g, "energy_target", energy_target_name(m.stdz.energy_target));
  h5::write_attr(g, "charge_target", charge_target_name(m.stdz.charge_target));
  h5::write(g, "params", m.params);
  h5::write(g, "input_mean", m.stdz.input_mean);
  h5::write(g, "input_std", m.stdz.input_std);
  h5::write(g, "reference_energy", m.stdz.reference_energy);
  for (const auto& hs : m.stdz.heads) {
    auto hg = h5::create_group(g, "target_" + task_name(hs.task));
    h5::write(hg, "mean", hs.mean);
    h5::write(hg, "std", hs.std);
    h5::write(hg, "paper_std", hs.paper_std);
  }
}

}  // namespace

void write_model_group(hid_t g, const ModelData& m) {
  h5::write_attr(g, "fold", static_cast<std::int64_t>(m.fold));
  if (m.kind != ModelKind::mlp) h5::write_attr(g, "kind", model_kind_name(m.kind));
  if (m.has_network()) write_network(g, m);
  if (m.linear) {
    auto lg = h5::create_group(g, "linear");
    m.linear->write(lg);
  }
  // System the model was trained for.
  const Lattice& lat = m.system.lattice;
  h5::write_attr(g, "lattice", lattice_kind_name(lat.kind()));
  h5::write_attr(g, "a", lat.a());
  h5::write_attr(g, "c", lat.c());
  h5::write_attr(
      g, "supercell",
      std::vector<std::int64_t>{lat.supercell()[0], lat.supercell()[1], lat.supercell()[2]});
  std::vector<std::string> sym;
  std::vector<std::int64_t> Z;
  std::vector<double> valence;
  for (const auto& s : m.system.species) {
    sym.push_back(s.symbol);
    Z.push_back(s.Z);
    valence.push_back(s.valence);
  }
  h5::write_attr(g, "species", sym);
  h5::write_attr(g, "species_Z", Z);
  h5::write_attr(g, "species_valence", valence);
  // Provenance.
  h5::write_attr(g, "dataset_hash", m.dataset_hash);
  h5::write_attr(g, "trained_backend", m.trained_backend);
  h5::write_attr(g, "software_version", m.software_version);
  h5::write_attr(g, "created", m.created);
  h5::write_attr(g, "epochs_run", m.epochs_run);
  h5::write_attr(g, "seed", m.seed);
  h5::write(g, "training_deck",
            std::vector<std::uint8_t>(m.training_deck.begin(), m.training_deck.end()));
  auto cg = h5::create_group(g, "curve");
  const hsize_t samples = m.curve.epoch.size(), T = m.net.spec().heads.size();
  h5::write(cg, "epoch", m.curve.epoch);
  h5::write(cg, "train_loss", m.curve.train, {samples, T});
  h5::write(cg, "validation_loss", m.curve.validation, {samples, T});
  h5::write(cg, "learning_rate", m.curve.learning_rate);
}

namespace {

// The network, its standardization and targets (every kind but cluster_expansion).
void read_network(hid_t g, ModelData& model, const std::vector<std::int64_t>& Z) {
  ModelData* m = &model;
  NetworkSpec spec;
  spec.inputs = static_cast<int>(h5::read_attr_int(g, "inputs"));
  for (auto w : h5::read_attr_ints(g, "shared_widths")) spec.shared.push_back(static_cast<int>(w));
  if (h5::has_attr(g, "shared_activations"))
    for (const auto& a : h5::read_attr_strings(g, "shared_activations"))
      spec.shared_act.push_back(activation_from_name(a));
  spec.task_act = activation_from_name(h5::read_attr_string(g, "task_activation"));
  const auto tasks = h5::read_attr_strings(g, "tasks");
  const auto hidden = h5::read_attr_ints(g, "task_widths");
  const auto outputs = h5::read_attr_ints(g, "task_outputs");
  if (hidden.size() != tasks.size() || outputs.size() != tasks.size())
    fail("task attributes of unequal length");
  for (std::size_t t = 0; t < tasks.size(); ++t)
    spec.heads.push_back(
        {task_from_name(tasks[t]), static_cast<int>(outputs[t]), static_cast<int>(hidden[t])});
  m->net = Network(spec);
  Standardization& s = m->stdz;
  for (auto z : Z) s.species_z.push_back(double(z));
  s.energy_target = energy_target_from_name(h5::read_attr_string(g, "energy_target"));
  s.charge_target = charge_target_from_name(h5::read_attr_string(g, "charge_target"));
  m->params = h5::read<float>(g, "params");
  if (m->params.size() != m->net.num_params())
    fail("params has {} values, architecture {} needs {}", m->params.size(), m->net.describe(),
         m->net.num_params());
  s.input_mean = h5::read<double>(g, "input_mean");
  s.input_std = h5::read<double>(g, "input_std");
  s.reference_energy = h5::read<double>(g, "reference_energy");
  const std::size_t F = static_cast<std::size_t>(s.num_sites) * s.num_species;
  if (spec.inputs != static_cast<int>(F) || s.input_mean.size() != F || s.input_std.size() != F ||
      s.reference_energy.size() != static_cast<std::size_t>(s.num_species))
    fail("standardization does not match {} sites x {} species", s.num_sites, s.num_species);
  for (const auto& h : spec.heads) {
    auto hg = h5::open_group(g, "target_" + task_name(h.task));
    HeadStats hs{h.task, h5::read<double>(hg, "mean"), h5::read<double>(hg, "std"),
                 h5::read<double>(hg, "paper_std")};
    if (hs.mean.size() != static_cast<std::size_t>(h.outputs) || hs.std.size() != hs.mean.size())
      fail("target_{} statistics have {} values, expected {}", task_name(h.task), hs.mean.size(),
           h.outputs);
    s.heads.push_back(std::move(hs));
  }
  // A network with a non-finite weight or statistic predicts NaN: refuse it here.
  auto all_finite = [](const auto& v) {
    for (const auto x : v)
      if (!std::isfinite(x)) return false;
    return true;
  };
  if (!all_finite(m->params)) fail("params holds a non-finite (NaN or infinite) weight");
  if (!all_finite(s.input_mean) || !all_finite(s.input_std) || !all_finite(s.reference_energy))
    fail("the input standardization holds a non-finite value");
  for (const auto& hs : s.heads)
    if (!all_finite(hs.mean) || !all_finite(hs.std))
      fail("target_{} statistics hold a non-finite value", task_name(hs.task));
}

}  // namespace

std::unique_ptr<ModelData> read_model_group(hid_t g, const std::string& where) {
  std::unique_ptr<ModelData> m;
  try {
    const auto sc = h5::read_attr_ints(g, "supercell");
    if (sc.size() != 3) fail("supercell has {} entries", sc.size());
    System sys{Lattice(lattice_kind_from_name(h5::read_attr_string(g, "lattice")),
                       h5::read_attr_double(g, "a"), h5::read_attr_double(g, "c"),
                       {int(sc[0]), int(sc[1]), int(sc[2])}),
               {}};
    const auto sym = h5::read_attr_strings(g, "species");
    const auto Z = h5::read_attr_ints(g, "species_Z");
    const auto val = h5::read_attr_doubles(g, "species_valence");
    if (Z.size() != sym.size() || val.size() != sym.size())
      fail("species, species_Z and species_valence have {}, {} and {} entries", sym.size(),
           Z.size(), val.size());
    for (std::size_t k = 0; k < sym.size(); ++k) {
      // What the file claims must be consistent: the symbol names the element.
      if (species_from_symbol(sym[k]).Z != Z[k])
        fail("species {} is '{}' (Z = {}) but species_Z says {}", k, sym[k],
             species_from_symbol(sym[k]).Z, Z[k]);
      sys.species.push_back({sym[k], int(Z[k]), val[k]});
    }
    m = std::make_unique<ModelData>(std::move(sys));
    m->fold = static_cast<int>(h5::read_attr_int(g, "fold"));
    // Version 1 files have no kind: the paper's MLP.
    if (h5::has_attr(g, "kind")) m->kind = model_kind_from_name(h5::read_attr_string(g, "kind"));
    m->stdz.num_sites = m->system.num_sites();
    m->stdz.num_species = m->system.num_species();
    if (m->kind != ModelKind::cluster_expansion) read_network(g, *m, Z);
    if (m->kind != ModelKind::mlp) {
      if (!h5::exists(g, "linear"))
        fail("kind {} needs a `linear` group", model_kind_name(m->kind));
      auto lg = h5::open_group(g, "linear");
      m->linear = LinearModel::read(lg, m->system);
    }
    m->dataset_hash = h5::read_attr_string(g, "dataset_hash");
    m->trained_backend = h5::read_attr_string(g, "trained_backend");
    m->software_version = h5::read_attr_string(g, "software_version");
    m->created = h5::read_attr_string(g, "created");
    m->epochs_run = h5::read_attr_int(g, "epochs_run");
    m->seed = h5::read_attr_int(g, "seed");
    const auto deck = h5::read<std::uint8_t>(g, "training_deck");
    m->training_deck.assign(deck.begin(), deck.end());
    auto cg = h5::open_group(g, "curve");
    m->curve.epoch = h5::read<std::int64_t>(cg, "epoch");
    m->curve.train = h5::read<double>(cg, "train_loss");
    m->curve.validation = h5::read<double>(cg, "validation_loss");
    m->curve.learning_rate = h5::read<double>(cg, "learning_rate");
  } catch (const FileError&) {
    throw;
  } catch (const Error& e) {
    throw FileError(fmt::format("{}: not a valid model: {}", where, e.what()));
  }
  return m;
}

namespace {

std::vector<std::string> model_groups(const h5::File& f) {
  if (!h5::has_attr(f, "format") || h5::read_attr_string(f, "format") != kFormat)
    throw FileError(fmt::format("{}: not an lsms-surrogate model file (no format = '{}' attribute)",
                                f.path(), kFormat));
  const auto v = h5::read_attr_int(f, "format_version");
  if (v > kFormatVersion)
    throw FileError(fmt::format("{}: model format version {} is newer than this program's {}",
                                f.path(), v, kFormatVersion));
  const auto n = h5::read_attr_int(f, "num_models");
  std::vector<std::string> names;
  for (std::int64_t i = 0; i < n; ++i) names.push_back(fmt::format("models/{}", i));
  return names;
}

}  // namespace

void save_models(const std::filesystem::path& path, const std::vector<const Model*>& models) {
  // Written under a temporary name beside `path`, read back and checked, then renamed over it:
  // an existing model is replaced only by a complete, valid one (a crash, a full disk or a
  // broken network leaves it untouched).
  const std::filesystem::path tmp =
      path.string() + fmt::format(".tmp{}", static_cast<long>(::getpid()));
  try {
    {
      auto f = h5::File::create(tmp);
      h5::write_attr(f, "format", kFormat);
      // Plain MLPs keep version 1 (readable by older programs).
      std::int64_t version = 1;
      for (const Model* m : models)
        if (m->impl().kind != ModelKind::mlp) version = kFormatVersion;
      h5::write_attr(f, "format_version", version);
      h5::write_attr(f, "software_version", kVersion);
      h5::write_attr(f, "num_models", static_cast<std::int64_t>(models.size()));
      auto root = h5::create_group(f, "models");
      for (std::size_t i = 0; i < models.size(); ++i) {
        auto g = h5::create_group(root, std::to_string(i));
        write_model_group(g, models[i]->impl());
      }
      f.flush();
    }
    {
      auto f = h5::File::open(tmp);
      const auto groups = model_groups(f);
      if (groups.size() != models.size())
        fail("{} models written, {} read back", models.size(), groups.size());
      for (const auto& name : groups) {
        auto g = h5::open_group(f, name);
        read_model_group(g, h5::object_name(f, name))->prepare("reference");
      }
    }
  } catch (const Error& e) {
    std::error_code ec;
    std::filesystem::remove(tmp, ec);
    throw FileError(fmt::format("{}: model not written ({}); an existing file is left unchanged",
                                path.string(), e.what()));
  } catch (...) {
    std::error_code ec;
    std::filesystem::remove(tmp, ec);
    throw;
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) {
    std::filesystem::remove(tmp, ec);
    throw FileError(
        fmt::format("{}: cannot replace the model file: {}", path.string(), ec.message()));
  }
}

Model Model::load(const std::filesystem::path& path, const std::string& backend) {
  auto f = h5::File::open(path);
  const auto groups = model_groups(f);
  if (groups.size() != 1)
    throw FileError(fmt::format(
        "{} holds {} fold models: load it as an ensemble (nn::Ensemble), or load one with "
        "Model::load_member",
        path.string(), groups.size()));
  return load_member(path, 0, backend);
}

Model Model::load_member(const std::filesystem::path& path, std::size_t index,
                         const std::string& backend) {
  auto f = h5::File::open(path);
  const auto groups = model_groups(f);
  if (index >= groups.size())
    throw FileError(
        fmt::format("{}: model {} requested, file holds {}", path.string(), index, groups.size()));
  auto g = h5::open_group(f, groups[index]);
  auto impl = read_model_group(g, h5::object_name(f, groups[index]));
  impl->prepare(backend);
  return ModelAccess::make(std::move(impl));
}

std::size_t Model::count_in_file(const std::filesystem::path& path) {
  auto f = h5::File::open(path);
  return model_groups(f).size();
}

void Model::save(const std::filesystem::path& path) const {
  save_models(path, {this});
}

int Model::fold() const {
  return impl_->fold;
}
const Network& Model::network() const {
  return impl_->net;
}
const Standardization& Model::standardization() const {
  return impl_->stdz;
}
std::span<const float> Model::parameters() const {
  return impl_->params;
}
const std::string& Model::backend() const {
  return impl_->backend_name;
}
const std::string& Model::dataset_hash() const {
  return impl_->dataset_hash;
}
const std::string& Model::training_deck() const {
  return impl_->training_deck;
}
const std::string& Model::trained_backend() const {
  return impl_->trained_backend;
}
const std::string& Model::software_version() const {
  return impl_->software_version;
}
const std::string& Model::created() const {
  return impl_->created;
}
std::int64_t Model::epochs_run() const {
  return impl_->epochs_run;
}
std::int64_t Model::seed() const {
  return impl_->seed;
}
const LearningCurve& Model::learning_curve() const {
  return impl_->curve;
}

}  // namespace lsmss::nn
