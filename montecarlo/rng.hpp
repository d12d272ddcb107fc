#pragma once
// Walkers use the project's generator (core/rng.hpp): one (seed, walker) stream each.
#include "core/rng.hpp"

namespace lsmss::mc {
using lsmss::Rng;
}  // namespace lsmss::mc
