// nn::Ensemble (the fold models of a run: mean and spread of their predictions) and its
// workspace, which runs the members' networks one member after the other (a ModelWorkspace
// each) or all at once through a fold group (nn/core/fold_group.hpp).
#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "core/error.hpp"
#include "nn/core/backend.hpp"
#include "nn/core/fold_group.hpp"
#include "nn/core/model_impl.hpp"
#include "nn/core/multi_fold.hpp"
#include "nn/first_layer.hpp"

namespace lsmss::nn {

namespace detail {

namespace {

// Why `members` cannot run as one group; empty when they can (one architecture, a network).
std::string why_not_grouped(const std::vector<Model>& members) {
  const ModelData& first = ModelAccess::data(members.front());
  if (!first.has_network())
    return fmt::format("model kind {} has no network", model_kind_name(first.kind));
  for (std::size_t i = 1; i < members.size(); ++i) {
    const ModelData& m = ModelAccess::data(members[i]);
    if (m.kind != first.kind)
      return fmt::format("members 1 and {} are of different kinds ({} and {})", i + 1,
                         model_kind_name(first.kind), model_kind_name(m.kind));
    if (!(m.net.spec() == first.net.spec()))
      return fmt::format("members 1 and {} have different networks ({} and {})", i + 1,
                         first.net.describe(), m.net.describe());
    if (m.backend_name != first.backend_name)
      return fmt::format("members 1 and {} run on different backends ({} and {})", i + 1,
                         first.backend_name, m.backend_name);
  }
  return {};
}

}  // namespace

// The members' networks through one fold group: per chunk of configurations every member's
// network input (its own standardization or folded first layer), stacked; one forward pass of
// all members; each member's outputs decoded with its own statistics. The steps are those of
// ModelWorkspace::predict (ModelData's shared functions), with the same chunks.
class GroupedInference {
 public:
  explicit GroupedInference(std::vector<Model> members) : members_(std::move(members)) {}

  std::vector<Predictions> predict(std::span<const Configuration> configs) {
    const std::size_t K = members_.size();
    std::vector<Predictions> out;
    out.reserve(K);
    for (const auto& m : members_) out.push_back(data(m).zero_predictions(configs.size()));
    if (configs.empty()) return out;
    const ModelData& m0 = data(members_.front());
    const std::size_t chunk = ModelData::kPredictChunk;
    reserve(static_cast<int>(std::min(configs.size(), chunk)));
    const std::size_t width = m0.network_input_width();
    std::vector<std::uint8_t> occ(std::min(configs.size(), chunk) * m0.system.num_sites());
    for (std::size_t first = 0; first < configs.size(); first += chunk) {
      const int n = static_cast<int>(std::min(chunk, configs.size() - first));
      m0.read_occupations(configs.subspan(first, n), occ.data());  // members share the system
      for (std::size_t k = 0; k < K; ++k) {
        data(members_[k]).add_linear_part(occ.data(), n, first, out[k]);
        data(members_[k]).network_input(occ.data(), n, inputs_.data() + k * n * width);
      }
      if (m0.fast_path)
        group_->forward_from_first(inputs_.data(), n);
      else
        group_->forward(inputs_.data(), n);
      for (std::size_t k = 0; k < K; ++k)
        for (int h = 0; h < m0.net.num_heads(); ++h)
          data(members_[k])
              .add_head_outputs(h, occ.data(), n, group_->output(static_cast<int>(k), h), first,
                                out[k]);
    }
    return out;
  }

  // The Monte Carlo fast path's rest of the forward pass for every member (the steps of
  // ModelWorkspace::energy_from_first_preactivation, with its chunks).
  void energies_from_first(std::span<const std::vector<float>> z1, int batch,
                           std::span<std::vector<double>> out) {
    const std::size_t K = members_.size();
    if (z1.size() != K || out.size() != K)
      fail("grouped energies: {} members given {} z1 buffers and {} outputs", K, z1.size(),
           out.size());
    int head = -1;
    for (std::size_t k = 0; k < K; ++k)
      head = data(members_[k]).fast_path_energy_head(z1[k].size(), out[k].size(), batch);
    if (batch < 1) return;
    reserve(std::min(ModelData::kMaxBatch, batch));
    const ModelData& m0 = data(members_.front());
    const std::size_t W = static_cast<std::size_t>(m0.width1) + m0.stdz.num_species;
    for (int first = 0; first < batch; first += ModelData::kMaxBatch) {
      const int n = std::min(ModelData::kMaxBatch, batch - first);
      for (std::size_t k = 0; k < K; ++k)
        data(members_[k])
            .first_preactivations(z1[k].data() + first * W, n, inputs_.data() + k * n * m0.width1);
      group_->forward_from_first(inputs_.data(), n);
      for (std::size_t k = 0; k < K; ++k)
        data(members_[k])
            .energies_from_outputs(head, group_->output(static_cast<int>(k), head),
                                   z1[k].data() + first * W, n, out[k].data() + first);
    }
  }

 private:
  static const ModelData& data(const Model& m) { return ModelAccess::data(m); }

  // Makes the group hold chunks of `rows` rows (set up on first use, grown when needed).
  void reserve(int rows) {
    if (rows <= capacity_) return;
    const ModelData& m0 = data(members_.front());
    const int K = static_cast<int>(members_.size());
    if (!group_) group_ = make_fold_group(m0.backend_name, 0);
    // Forward passes only: a device group then holds no training buffers.
    group_->setup(m0.net, K, rows, Precision::fp32, FoldGroupUse::inference);
    for (int k = 0; k < K; ++k) {
      const auto& p = data(members_[k]).params;
      std::copy(p.begin(), p.end(), group_->params(k).begin());
    }
    group_->upload_params();
    capacity_ = rows;
    inputs_.assign(static_cast<std::size_t>(K) * rows * m0.network_input_width(), 0.0f);
  }

  std::vector<Model> members_;
  std::unique_ptr<FoldGroup> group_;
  int capacity_ = 0;
  std::vector<float> inputs_;  // members x rows x network input width
};

namespace {

// The members of `ensemble`; whether `how` runs them as one group (throws for `grouped` when
// they cannot be grouped).
std::pair<std::vector<Model>, bool> members_and_grouping(const Ensemble& ensemble,
                                                         EnsembleInference how) {
  std::vector<Model> members;
  members.reserve(ensemble.size());
  for (std::size_t i = 0; i < ensemble.size(); ++i) members.push_back(ensemble.member(i));
  if (how == EnsembleInference::per_member) return {std::move(members), false};
  const std::string why = why_not_grouped(members);
  if (how == EnsembleInference::grouped && !why.empty())
    fail("grouped ensemble inference needs members of one architecture with a network: {}", why);
  const std::string& backend = ModelAccess::data(members.front()).backend_name;
  // Where it pays: one model is far too small for a GPU, k of them in the same products not.
  const bool group = how == EnsembleInference::grouped ||
                     (why.empty() && members.size() > 1 &&
                      (backend == "auto" ? auto_backend_name() : backend) == "cuda");
  return {std::move(members), group};
}

}  // namespace

}  // namespace detail

// ---------------------------------------------------------------- workspaces

EnsembleWorkspace::EnsembleWorkspace(const Ensemble& ensemble, EnsembleInference how)
    : size_(ensemble.size()) {
  auto [members, group] = detail::members_and_grouping(ensemble, how);
  if (group) {
    group_ = std::make_unique<detail::GroupedInference>(std::move(members));
    return;
  }
  members_.reserve(members.size());
  for (auto& m : members) members_.emplace_back(std::move(m));
}

EnsembleWorkspace::EnsembleWorkspace(EnsembleWorkspace&&) noexcept = default;
EnsembleWorkspace& EnsembleWorkspace::operator=(EnsembleWorkspace&&) noexcept = default;
EnsembleWorkspace::~EnsembleWorkspace() = default;

std::vector<Predictions> EnsembleWorkspace::predict_members(
    std::span<const Configuration> configs) {
  if (group_) return group_->predict(configs);
  std::vector<Predictions> all;
  all.reserve(members_.size());
  for (auto& w : members_) all.push_back(w.predict(configs));
  return all;
}

// ---------------------------------------------------------------- the Monte Carlo fast path

namespace {

class GroupedFirstLayer final : public FirstLayerGroup {
 public:
  explicit GroupedFirstLayer(std::vector<Model> members) : group_(std::move(members)) {}
  void energies_from_z1(std::span<const std::vector<float>> z1, int batch,
                        std::span<std::vector<double>> out) override {
    group_.energies_from_first(z1, batch, out);
  }

 private:
  detail::GroupedInference group_;
};

}  // namespace

std::unique_ptr<FirstLayerGroup> make_first_layer_group(const Ensemble& ensemble,
                                                        EnsembleInference how) {
  auto [members, group] = detail::members_and_grouping(ensemble, how);
  if (!group) return nullptr;
  for (const auto& m : members) (void)ModelAccess::data(m).fast_path_energy_head(0, 0, 0);
  return std::make_unique<GroupedFirstLayer>(std::move(members));
}

// ---------------------------------------------------------------- ensembles

Ensemble::Ensemble(std::vector<Model> members) : members_(std::move(members)) {
  if (members_.empty()) fail("an ensemble needs at least one model");
  for (std::size_t i = 1; i < members_.size(); ++i) {
    members_[0].check_matches(members_[i].system());
    if (members_[i].tasks() != members_[0].tasks())
      fail("ensemble members predict different tasks ({} and {})",
           property_mask_name(members_[0].tasks()), property_mask_name(members_[i].tasks()));
  }
}

Ensemble Ensemble::load(const std::vector<std::filesystem::path>& paths,
                        const std::string& backend) {
  std::vector<Model> members;
  for (const auto& p : paths) {
    const std::size_t n = Model::count_in_file(p);
    for (std::size_t i = 0; i < n; ++i) members.push_back(Model::load_member(p, i, backend));
  }
  if (members.empty()) fail("no models to load");
  return Ensemble(std::move(members));
}

std::size_t Ensemble::size() const {
  return members_.size();
}
const Model& Ensemble::member(std::size_t i) const {
  return members_.at(i);
}
PropertyMask Ensemble::tasks() const {
  return members_.front().tasks();
}

EnsembleWorkspace Ensemble::make_workspace(EnsembleInference how) const {
  return EnsembleWorkspace(*this, how);
}

std::vector<Properties> Ensemble::predict(std::span<const Configuration> configs) const {
  auto workspace = make_workspace();
  return predict(configs, workspace);
}

namespace {

// Mean and sample standard deviation (k - 1; 0 for one member) of entries first.. first + count
// of `field` across the members' predictions.
template <class Field>
void reduce(const std::vector<Predictions>& P, Field field, std::size_t first, std::size_t count,
            std::vector<double>& mean, std::vector<double>& sd) {
  const std::size_t K = P.size();
  mean.assign(count, 0.0);
  sd.assign(count, 0.0);
  for (std::size_t j = 0; j < count; ++j) {
    double s = 0, s2 = 0;
    for (std::size_t k = 0; k < K; ++k) s += (P[k].*field)[first + j];
    const double mu = s / K;
    for (std::size_t k = 0; k < K; ++k)
      s2 += ((P[k].*field)[first + j] - mu) * ((P[k].*field)[first + j] - mu);
    mean[j] = mu;
    sd[j] = K > 1 ? std::sqrt(s2 / (K - 1)) : 0.0;
  }
}

}  // namespace

std::vector<Properties> Ensemble::predict(std::span<const Configuration> configs,
                                          EnsembleWorkspace& workspace) const {
  const std::size_t n = configs.size(), K = members_.size();
  if (workspace.size() != K)
    fail("ensemble of {} models given a workspace of {} members", K, workspace.size());
  const std::vector<Predictions> all = workspace.predict_members(configs);
  std::vector<Properties> out(n);
  const int N = members_[0].system().num_sites();
  std::vector<double> mean, sd;
  for (std::size_t r = 0; r < n; ++r) {
    Properties& p = out[r];
    p.status = Status::ok;
    p.message = fmt::format("surrogate ensemble of {} models", K);
    if (!all[0].energy.empty()) {
      reduce(all, &Predictions::energy, r, 1, mean, sd);
      p.energy = mean[0];
      p.energy_std = sd[0];
    }
    if (!all[0].charge.empty()) reduce(all, &Predictions::charge, r * N, N, p.charge, p.charge_std);
    if (!all[0].moment.empty()) reduce(all, &Predictions::moment, r * N, N, p.moment, p.moment_std);
  }
  return out;
}

}  // namespace lsmss::nn
