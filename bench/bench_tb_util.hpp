#pragma once
// Shared by the tb benchmarks (bench_tb, bench_tb_kpoints): systems and drivers from deck text,
// the CuAu and FePt cells of the real data, and per-thread CPU time.
#include <time.h>

#include <array>
#include <memory>
#include <string>
#include <vector>

#include "core/deck.hpp"
#include "core/system.hpp"
#include "drivers/tb/tb_driver.hpp"
#include "fixtures.hpp"

namespace lsmss::bench {

// CPU seconds of the calling thread: what a configuration costs on a core of its own, whatever
// else runs on the shared machine.
inline double thread_cpu() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

using fixtures::make_system;

// The 32-site cells of the real LSMS data.
inline System cuau_cell() {
  return fixtures::cuau_system();
}
inline System fept_cell() {
  return fixtures::fept_system();
}

// A tb driver with the deck settings `tb = { <settings> }` (unknown keys rejected).
inline std::unique_ptr<tb::TbDriver> make_tb_driver(const System& sys,
                                                    const std::string& settings) {
  const Deck deck = Deck::from_string("tb = {" + settings + "}", "bench.lua");
  const DeckTable t = deck.root().table("tb");
  auto s = tb::TbSettings::from_deck(t);
  t.finish();
  return std::make_unique<tb::TbDriver>(sys, s);
}

}  // namespace lsmss::bench
