#pragma once
#include "core/driver.hpp"

namespace lsmss::drivers {
// Registers every driver compiled into this build (tb, lsms, surrogate). Called explicitly by
// the programs, so no driver depends on static initialization surviving the linker.
void register_builtin_drivers(DriverRegistry& registry);
}  // namespace lsmss::drivers
