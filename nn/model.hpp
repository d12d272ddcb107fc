#pragma once
// CONTRACT between the neural-network module and its users (surrogate driver, Monte Carlo).
// A trained surrogate: a multilayer perceptron on the one-hot input (sites x species) with its
// input/output standardization and per-species reference energies, predicting in physical
// units (energy Ry, charge e, moment muB). Loaded from / saved to one HDF5 model file
// (docs/model-format.md). The nn developer owns this header and may extend it, but keeps the
// functions below. Evaluating is done in a ModelWorkspace (per caller), so a Model is shared
// read-only.
#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "core/configuration.hpp"
#include "core/properties.hpp"
#include "core/system.hpp"

namespace lsmss::nn {

class Network;
struct Standardization;
class Backend;
class ModelWorkspace;
class Ensemble;
namespace detail {
struct ModelData;  // nn/core/model_impl.hpp, for nn's own sources only
struct ModelAccess;
class GroupedInference;  // nn/core/ensemble.cpp
}  // namespace detail

// Predictions for a batch, physical units. A task the model does not predict stays empty.
struct Predictions {
  std::vector<double> energy;  // batch, Ry
  std::vector<double> charge;  // batch x sites, e
  std::vector<double> moment;  // batch x sites, muB
};

// Train/validation loss per task (standardized MSE, what the optimizer sees), sampled.
struct LearningCurve {
  std::vector<std::int64_t> epoch;
  std::vector<double> train;       // samples x tasks
  std::vector<double> validation;  // samples x tasks (NaN without a validation set)
  std::vector<double> learning_rate;
};

// A trained model: immutable once built (by the trainer or from a file), cheap to copy (the
// copies share it) and safe to read from several threads. Evaluating it needs scratch space
// and a backend instance: a ModelWorkspace, one per caller.
class Model {
 public:
  // `backend`: "reference", "onednn", "cuda" or "auto" (fastest compiled one available): the
  // backend the workspaces of this model run on.
  // A file with several fold models is refused here (use Ensemble or load_member).
  static Model load(const std::filesystem::path& path, const std::string& backend = "auto");
  static Model load_member(const std::filesystem::path& path, std::size_t index,
                           const std::string& backend = "auto");
  static std::size_t count_in_file(const std::filesystem::path& path);
  void save(const std::filesystem::path& path) const;

  PropertyMask tasks() const;  // kEnergy | kCharge | kMoment subset
  // "mlp" (the paper's one-hot network), "cluster_expansion" (linear models on neighbour-shell
  // counts) or "ce+mlp" (the linear model plus a network fitted to its residual);
  // docs/nn.md, "Model kinds".
  std::string kind() const;
  std::string describe() const;  // architecture, e.g. "64-200-200-1" or "linear 4 shells, ..."
  const System& system() const;  // lattice + species it was trained for
  // Throws lsmss::Error naming what differs (lattice, constants, supercell, species).
  void check_matches(const System& system) const;

  // One-off prediction through a temporary workspace; callers that predict repeatedly keep a
  // ModelWorkspace.
  Predictions predict(std::span<const Configuration> configs) const;

  // ---- Monte Carlo fast path (one-hot inputs, site swaps) ----
  // First layer folded with the input standardization: for a configuration c the first
  // pre-activation is z1 = first_layer_bias() + sum_i first_layer_row(i * num_species + c[i]).
  // A swap of sites i and j changes z1 by two row differences.
  // z1 has first_layer_width() = (network's first hidden width) + num_species entries: the
  // last num_species entries count the atoms of each species (rows hold exact 0/1 there, so
  // the sums are exact in float); ModelWorkspace::energy_from_first_preactivation uses them to
  // add the per-species reference energies back in double precision.
  int first_layer_width() const;
  std::span<const float> first_layer_row(int feature) const;
  std::span<const float> first_layer_bias() const;
  // Whether the first layer reads the input alone and feeds every other layer (the fast path
  // needs it). Only the kind "mlp" has it: the others predict through predict() (Monte Carlo
  // then runs through the surrogate driver).
  bool has_fast_path() const;

  // ---- introspection (trainer, evaluation, tests) ----
  int fold() const;                // fold the model was validated on (-1: none)
  const Network& network() const;  // no heads for kind cluster_expansion
  const Standardization& standardization() const;
  std::span<const float> parameters() const;  // the flat weight buffer
  const std::string& backend() const;         // what its workspaces run on (as asked: may be auto)

  // ---- provenance (docs/model-format.md) ----
  const std::string& dataset_hash() const;  // hex fingerprint of the training data
  const std::string& training_deck() const;
  const std::string& trained_backend() const;
  const std::string& software_version() const;
  const std::string& created() const;  // ISO 8601, UTC
  std::int64_t epochs_run() const;
  std::int64_t seed() const;
  const LearningCurve& learning_curve() const;

  Model(const Model&) = default;
  Model& operator=(const Model&) = default;
  Model(Model&&) noexcept;
  Model& operator=(Model&&) noexcept;
  ~Model();

 private:
  friend struct detail::ModelAccess;
  friend void save_models(const std::filesystem::path& path,
                          const std::vector<const Model*>& models);
  explicit Model(std::shared_ptr<const detail::ModelData> impl);
  const detail::ModelData& impl() const { return *impl_; }

  std::shared_ptr<const detail::ModelData> impl_;
};

// The mutable side of evaluating a model: a backend instance and scratch buffers, for one
// caller (one thread) at a time. Several workspaces of one model may run concurrently.
class ModelWorkspace {
 public:
  explicit ModelWorkspace(Model model);
  ModelWorkspace(ModelWorkspace&&) noexcept;
  ModelWorkspace& operator=(ModelWorkspace&&) noexcept;
  ~ModelWorkspace();

  const Model& model() const { return model_; }
  Predictions predict(std::span<const Configuration> configs);
  // Completes the forward pass from first pre-activations z1 (batch x first_layer_width(),
  // row-major) to energies in Ry (double, reference energies added back in double precision).
  // Only for models with the energy task and a fast path.
  void energy_from_first_preactivation(std::span<const float> z1, int batch,
                                       std::span<double> energy_out);

 private:
  // Makes the backend hold batches of `rows` rows (set up on first use, grown when needed).
  void reserve(int rows);

  Model model_;
  std::unique_ptr<Backend> backend_;
  int capacity_ = 0;
  std::vector<float> scratch_;  // capacity x max(first width, features)
};

// How an ensemble's workspace runs the members' networks.
//  - per_member: one ModelWorkspace per member, one member after the other.
//  - grouped: all members at once through one fold group (nn/core/fold_group.hpp), each member
//    with its own standardization: on the cuda backend every layer is one strided-batched
//    product over the members; on a CPU backend one backend per member, with predictions equal
//    to per_member's bit for bit (tested). Needs members of one architecture (kind, network,
//    backend) with a network.
//  - automatic: grouped where it pays (two or more such members on the cuda backend),
//    per_member otherwise.
enum class EnsembleInference { automatic, per_member, grouped };

// The mutable side of evaluating an ensemble (see ModelWorkspace): for one caller at a time.
// Device buffers and backends are made at the first prediction.
class EnsembleWorkspace {
 public:
  // Throws lsmss::Error for `grouped` when the members cannot be grouped (saying why).
  explicit EnsembleWorkspace(const Ensemble& ensemble,
                             EnsembleInference how = EnsembleInference::automatic);
  EnsembleWorkspace(EnsembleWorkspace&&) noexcept;
  EnsembleWorkspace& operator=(EnsembleWorkspace&&) noexcept;
  ~EnsembleWorkspace();

  std::size_t size() const { return size_; }
  bool grouped() const { return group_ != nullptr; }
  // Each member's predictions of `configs` (physical units), in member order.
  std::vector<Predictions> predict_members(std::span<const Configuration> configs);

 private:
  std::size_t size_ = 0;
  std::vector<ModelWorkspace> members_;              // per_member
  std::unique_ptr<detail::GroupedInference> group_;  // grouped
};

// Writes several models (e.g. the folds of one run) into one model file.
void save_models(const std::filesystem::path& path, const std::vector<const Model*>& models);

// The k fold models of one training run: each prediction carries the ensemble mean and the
// standard deviation across members (Properties::energy_std etc.).
class Ensemble {
 public:
  // A model file holding one model or a whole fold ensemble, or a list of model files.
  static Ensemble load(const std::vector<std::filesystem::path>& paths,
                       const std::string& backend = "auto");
  explicit Ensemble(std::vector<Model> members);  // checks they agree on system and tasks
  std::size_t size() const;
  const Model& member(std::size_t i) const;
  PropertyMask tasks() const;
  // A workspace for a caller that predicts repeatedly.
  EnsembleWorkspace make_workspace(EnsembleInference how = EnsembleInference::automatic) const;
  // Mean in energy/charge/moment, standard deviation in energy_std/charge_std/moment_std.
  std::vector<Properties> predict(std::span<const Configuration> configs,
                                  EnsembleWorkspace& workspace) const;
  // One-off prediction through a temporary workspace.
  std::vector<Properties> predict(std::span<const Configuration> configs) const;

 private:
  std::vector<Model> members_;
};

}  // namespace lsmss::nn
