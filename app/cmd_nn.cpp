#include "app/common.hpp"

namespace lsmss::app {
void add_nn_commands(CLI::App& app, AppContext&) {
  add_unavailable_command(app, "train", "train neural-network surrogates on a dataset");
  add_unavailable_command(app, "evaluate", "test-set errors of trained models, tables and parity data");
  add_unavailable_command(app, "predict", "predict properties of configurations with a trained model");
}
}  // namespace lsmss::app
