#pragma once
// Linear models on invariant descriptors of the lattice occupation (the model kinds
// "cluster_expansion" and the base of "ce+mlp"; docs/nn.md, "Model kinds"):
//  - energy: a cluster expansion. Point terms (atoms of each species and their powers), pair
//    counts per neighbour shell per species pair and, at order 2, three-body terms (the sum
//    over sites of products of the site's shell counts), fitted by ridge regression;
//  - charge and moment: site-centred. Site i's value is a linear function of its own
//    neighbour shells' occupation (and the cell's composition), with one weight vector per own
//    species shared by all sites.
// Every descriptor is a count over neighbour shells, so the predictions are invariant under the
// lattice's translations and point operations by construction. Fitting takes seconds.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/hdf5.hpp"
#include "core/system.hpp"
#include "dataset_builder/dataset.hpp"
#include "nn/core/network.hpp"
#include "nn/model.hpp"

namespace lsmss::nn {

// What a model file holds and `training.kind` chooses: the paper's one-hot MLP, a linear model
// alone, or a linear base whose residual an MLP fits.
enum class ModelKind { mlp, cluster_expansion, ce_mlp };
std::string model_kind_name(ModelKind kind);            // "mlp", "cluster_expansion", "ce+mlp"
ModelKind model_kind_from_name(std::string_view name);  // throws lsmss::Error

struct LinearModelOptions {
  int shells = 4;     // neighbour shells the descriptors count
  int order = 1;      // 1: site descriptors linear (pair CE); 2: with their products (3-body)
  double ridge = -1;  // relative ridge penalty; < 0: chosen on the validation rows
  int composition_powers = 3;  // point terms n_b, n_b^2, ... n_b^powers per species b >= 1
  // Also one fit per composition (atoms of species 0), used where that composition had training
  // rows; the fit over all compositions serves the others.
  bool per_composition = false;
  // Triangles i-j-k with j and k within this many shells of site i: counted per geometry
  // (the shells of ij, ik and jk) and species of j and k, as site descriptor entries (three-
  // body clusters resolved by shape). 0: off.
  int triplet_shells = 0;
};

// The descriptor of one site: [1, shell counts of species 1..S-1 per shell, composition
// fractions of species 1..S-1], and at order 2 the products of every pair of non-constant
// entries.
class SiteDescriptors {
 public:
  SiteDescriptors() = default;
  SiteDescriptors(const System& system, int shells, int order, int triplet_shells = 0);
  int size() const { return size_; }  // entries of one site's descriptor
  int shells() const { return shells_; }
  int order() const { return order_; }
  int num_sites() const { return sites_; }
  int num_species() const { return species_; }
  // Descriptors of every site of one configuration: sites x size(), row-major.
  void compute(const std::uint8_t* occupation, double* out) const;

 private:
  void add_triplets(const Lattice& lattice, int triplet_shells);

  int shells_ = 0, order_ = 1, sites_ = 0, species_ = 0, base_ = 0, size_ = 0;
  int products_end_ = 0, triplet_classes_ = 0;
  struct Triangle {
    int j, k, shape;
  };
  std::vector<std::vector<Triangle>> triangles_;          // per site
  std::vector<std::vector<std::vector<int>>> neighbors_;  // [shell][site] -> sites (images)
};

// One fitted ridge regression y ~ offset + weight . (x - mean).
struct RidgeFit {
  std::vector<double> mean, weight;
  double offset = 0, ridge = 0;
  double predict(const double* x) const;
};

class LinearModel {
 public:
  LinearModel() = default;
  // Fits the tasks on the training rows; the ridge penalty is chosen on the validation rows
  // (options.ridge < 0 and validation rows given) or taken from options. `train_weight` and
  // `validation_weight` weigh the rows (weighted least squares; training.outlier_weight);
  // empty: every row 1.
  static LinearModel fit(const dataset::Dataset& data, const std::vector<Task>& tasks,
                         const std::vector<std::size_t>& train,
                         const std::vector<std::size_t>& validation,
                         const LinearModelOptions& options,
                         const std::vector<float>& train_weight = {},
                         const std::vector<float>& validation_weight = {});
  const std::vector<Task>& tasks() const { return tasks_; }
  const LinearModelOptions& options() const { return options_; }
  // Adds this model's predictions of n configurations (n x sites occupation) to `p`, whose
  // vectors of the model's tasks must already hold n (energy) or n x sites values.
  void add_predictions(const std::uint8_t* occupation, std::size_t n, Predictions& p) const;
  std::string describe() const;  // e.g. "pair CE 4 shells (ridge 1e-08) + site-linear C,M"

  // Model file group (docs/model-format.md, `linear`).
  void write(hid_t group) const;
  static LinearModel read(hid_t group, const System& system);

 private:
  int energy_features() const;
  int bins() const { return options_.per_composition ? desc_.num_sites() + 2 : 1; }
  int bin_of(const std::uint8_t* occ) const;  // 0: the shared fit, 1 + atoms of species 0
  void energy_features(const std::uint8_t* occ, const double* site_desc, double* out) const;

  std::vector<Task> tasks_;
  LinearModelOptions options_;
  SiteDescriptors desc_;
  std::vector<double> reference_energy_;  // Ry per atom of each species (least squares)
  // Fits by bin (bin_of) and, for charge and moment, own species: [bin x species]. A fit
  // without weights (composition absent from training) defers to bin 0.
  std::vector<RidgeFit> energy_;  // on the energy minus the reference energies
  std::vector<RidgeFit> charge_, moment_;
};

}  // namespace lsmss::nn
