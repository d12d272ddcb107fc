#include "app/common.hpp"

namespace lsmss::app {
void add_mc_commands(CLI::App& app, AppContext&) {
  add_unavailable_command(app, "mc", "Monte Carlo over configurations (Metropolis, Wang-Landau)");
  add_unavailable_command(app, "retrain", "retrain on a dataset enlarged by DFT fallbacks");
}
}  // namespace lsmss::app
