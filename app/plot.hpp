#pragma once
// The CLI's plotter: runs the gnuplot program for the Monte Carlo figure. Running external
// programs is the program's decision, so it lives here and the library gets an interface.
#include <optional>
#include <string>

#include "montecarlo/output.hpp"

namespace lsmss::app {

class GnuplotPlotter : public mc::Plotter {
 public:
  std::string terminal() const override;  // asks gnuplot once, then remembers
  std::string unavailable() const override;
  std::string draw(const std::string& script) const override;

 private:
  mutable std::optional<std::string> terminal_;
};

}  // namespace lsmss::app
