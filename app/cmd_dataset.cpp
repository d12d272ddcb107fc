#include "app/common.hpp"

namespace lsmss::app {
void add_dataset_commands(CLI::App& app, AppContext&) {
  add_unavailable_command(app, "build", "sample configurations and compute them into an HDF5 dataset");
  add_unavailable_command(app, "import", "import LSMS output files into an HDF5 dataset");
  add_unavailable_command(app, "info", "print what an HDF5 dataset or model file holds");
}
}  // namespace lsmss::app
