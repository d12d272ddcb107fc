// Model kinds beyond the paper's one-hot MLP (docs/nn.md, "Model kinds"): the linear model
// alone (cluster_expansion), a network on its residual (ce+mlp), and symmetry augmentation
// of the network's training rows.
#include <optional>

#include <fmt/format.h>

#include "core/error.hpp"
#include "core/version.hpp"
#include "nn/core/model_impl.hpp"
#include "nn/core/symmetry_augmentation.hpp"
#include "nn/core/trainer.hpp"
#include "nn/core/training_parts.hpp"

namespace lsmss::nn {

void read_model_kind_keys(const DeckTable& t, TrainingOptions& o) {
  o.kind = model_kind_from_name(t.choice("kind", "mlp", {"mlp", "cluster_expansion", "ce+mlp"}));
  const DeckTable ce = t.table("cluster_expansion");
  o.linear.shells = static_cast<int>(ce.integer("shells", 4, 1, 20));
  o.linear.order = static_cast<int>(ce.integer("order", 1, 1, 2));
  o.linear.composition_powers = static_cast<int>(ce.integer("composition_powers", 3, 0, 10));
  o.linear.per_composition = ce.boolean("per_composition", false);
  o.linear.triplet_shells = static_cast<int>(ce.integer("triplet_shells", 0, 0, 4));
  ce.allow({"ridge"});
  if (ce.is_string("ridge")) {
    if (ce.string("ridge") != "auto") ce.error("ridge", "expected \"auto\" or a number >= 0");
    o.linear.ridge = -1;
  } else {
    o.linear.ridge = ce.has("ridge") ? ce.number_in("ridge", 0.0, 0.0, 1e6) : -1;
  }
  ce.finish();
  const DeckTable au = t.table("augment");
  o.augment_translations = static_cast<int>(au.integer("translations", 0, 0, 100000));
  o.augment_symmetry.copies = static_cast<int>(au.integer("copies", 0, 0, 100000));
  o.augment_symmetry.group =
      symmetry_group_from_name(au.choice("group", "space_group", {"translations", "space_group"}));
  au.finish();
  if (o.augment_translations > 0 && o.augment_symmetry.copies > 0)
    au.error("copies", "give either `translations` (the older form) or `copies` (with `group`)");
  if (o.kind == ModelKind::cluster_expansion &&
      (o.augment_translations > 0 || o.augment_symmetry.copies > 0))
    au.error(o.augment_translations > 0 ? "translations" : "copies",
             "kind \"cluster_expansion\" is translation-invariant already; augmentation only "
             "applies to a network (kinds mlp and ce+mlp)");
}

namespace {

// The dataset with the linear model's predictions subtracted from the tasks it predicts.
dataset::Dataset residual_of(const dataset::Dataset& d, const LinearModel& linear) {
  const std::size_t n = d.rows(), N = d.num_sites;
  Predictions p;
  for (Task t : linear.tasks())
    (t == Task::energy   ? p.energy
     : t == Task::charge ? p.charge
                         : p.moment)
        .assign(t == Task::energy ? n : n * N, 0.0);
  linear.add_predictions(d.occupation.data(), n, p);
  dataset::Dataset r = d;
  auto subtract = [](std::vector<double>& v, const std::vector<double>& base) {
    for (std::size_t k = 0; k < base.size(); ++k) v[k] -= base[k];
  };
  if (!p.energy.empty()) subtract(r.energy, p.energy);
  if (!p.charge.empty()) subtract(r.charge, p.charge);
  if (!p.moment.empty()) subtract(r.moment, p.moment);
  return r;
}

Model linear_only(const dataset::Dataset& data, const TrainingOptions& opt, int fold,
                  const std::string& deck_text, LinearModel linear) {
  auto impl = std::make_unique<ModelData>(data.system);
  impl->kind = ModelKind::cluster_expansion;
  impl->linear = std::move(linear);
  impl->stdz.num_sites = data.system.num_sites();
  impl->stdz.num_species = data.system.num_species();
  impl->fold = fold;
  impl->dataset_hash = data.fingerprint();
  impl->training_deck = deck_text;
  impl->trained_backend = "none";  // ridge regression in double precision, no backend
  impl->software_version = kVersion;
  impl->created = training::now_iso();
  impl->seed = static_cast<std::int64_t>(opt.seed);
  impl->prepare(opt.backend);
  return ModelAccess::make(std::move(impl));
}

}  // namespace

// Translations of the supercell map the lattice onto itself exactly, so every copy is a true
// data point (validation rows are copied too, test rows never).
dataset::Dataset augment_translations(const dataset::Dataset& d, int copies, std::uint64_t seed) {
  std::vector<std::size_t> rows;
  for (std::size_t r = 0; r < d.rows(); ++r)
    if (!d.is_test(r)) rows.push_back(r);
  return append_permuted_rows(d, d.system.lattice.translations(), rows, copies, seed);
}

dataset::Dataset augment_training_rows(const dataset::Dataset& d, const TrainingOptions& opt,
                                       int fold) {
  const SymmetryAugmentation& s = opt.augment_symmetry;
  return append_permuted_rows(d, symmetry_permutations(d, s.group),
                              training_split(d, opt, fold).train, s.copies, opt.seed + fold);
}

Model train_model_kind(const dataset::Dataset& data, const TrainingOptions& opt, int fold,
                       const std::string& deck_text) {
  std::optional<LinearModel> linear;
  if (opt.kind != ModelKind::mlp) {
    const FoldSplit split = training_split(data, opt, fold);      // training.outlier_z applies too
    for (Task t : opt.tasks) (void)training::values_of(data, t);  // the data has each task
    linear = LinearModel::fit(data, opt.tasks, split.train, split.validation, opt.linear,
                              split.train_weight, split.validation_weight);
  }
  if (opt.kind == ModelKind::cluster_expansion)
    return linear_only(data, opt, fold, deck_text, std::move(*linear));
  const dataset::Dataset residual = linear ? residual_of(data, *linear) : data;
  std::optional<dataset::Dataset> augmented;
  if (opt.augment_translations > 0)
    augmented = augment_translations(residual, opt.augment_translations, opt.seed + fold);
  if (opt.augment_symmetry.copies > 0) augmented = augment_training_rows(residual, opt, fold);
  TrainingOptions plain = opt;
  plain.kind = ModelKind::mlp;
  plain.augment_translations = 0;
  plain.augment_symmetry.copies = 0;
  // Residual charges are small numbers around 0, not electrons per site: subtracting Z
  // (the "transfer" target) would hand the network the species' Z to learn back.
  if (linear) plain.charge_target = ChargeTarget::total;
  const Model net = train_model(augmented ? *augmented : residual, plain, fold, deck_text);
  auto impl = std::make_unique<ModelData>(ModelAccess::data(net));
  impl->kind = opt.kind;
  impl->linear = std::move(linear);
  impl->dataset_hash = data.fingerprint();  // the data asked for, not the derived copy
  impl->prepare(opt.backend);
  return ModelAccess::make(std::move(impl));
}

}  // namespace lsmss::nn
