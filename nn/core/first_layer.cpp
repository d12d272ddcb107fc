#include "nn/first_layer.hpp"

#include "core/error.hpp"
#include "nn/core/network.hpp"

namespace lsmss::nn {

ModelFirstLayer::ModelFirstLayer(Model model) : workspace_(std::move(model)) {
  const Model& m = workspace_.model();
  if (!(m.tasks() & kEnergy)) fail("the surrogate model does not predict the energy");
  if (!m.has_fast_path())
    fail(
        "model kind {} ({}) has no first-layer fast path: only the plain mlp kind, whose first "
        "layer reads the one-hot input alone and feeds all others, has one",
        m.kind(), m.describe());
  features_ = m.system().num_sites() * m.system().num_species();
  width_ = m.first_layer_width();
  // Every layer after the first (the backends evaluate all heads).
  const auto& layers = m.network().layers();
  for (std::size_t l = 1; l < layers.size(); ++l) macs_ += double(layers[l].in) * layers[l].out;
}

std::span<const float> ModelFirstLayer::row(int feature) const {
  return workspace_.model().first_layer_row(feature);
}

std::span<const float> ModelFirstLayer::bias() const {
  return workspace_.model().first_layer_bias();
}

void ModelFirstLayer::energy_from_z1(std::span<const float> z1, int batch, std::span<double> out) {
  workspace_.energy_from_first_preactivation(z1, batch, out);
}

}  // namespace lsmss::nn
