#include "drivers/register.hpp"

#include "drivers/lsms/lsms_driver.hpp"

namespace lsmss::drivers {

void register_builtin_drivers(DriverRegistry& registry) {
  register_lsms_driver(registry);
}

}  // namespace lsmss::drivers
