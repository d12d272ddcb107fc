#include "drivers/register.hpp"

#include "drivers/lsms/lsms_driver.hpp"
#include "drivers/pair/pair_driver.hpp"
#include "drivers/surrogate/surrogate_driver.hpp"
#include "drivers/tb/tb_driver.hpp"

namespace lsmss::drivers {

void register_builtin_drivers(DriverRegistry& registry) {
  register_lsms_driver(registry);
  register_pair_driver(registry);
  register_surrogate_driver(registry);
  registry.add("tb",
               "embedded self-consistent s+d tight-binding engine (model Hamiltonian, not DFT): "
               "energy, Mulliken charges, Stoner moments",
               tb::make_tb_driver);
}

}  // namespace lsmss::drivers
