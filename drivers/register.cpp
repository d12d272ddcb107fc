#include "drivers/register.hpp"

namespace lsmss::drivers {

void register_builtin_drivers(DriverRegistry& registry) {
  (void)registry;  // drivers are added here as they are implemented
}

}  // namespace lsmss::drivers
