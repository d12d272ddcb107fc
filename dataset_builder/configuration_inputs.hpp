#pragma once
// Configurations a command evaluates, read from files (`predict`) or drawn at random (`calc`).
// The commands parse their arguments and print; reading and checking the inputs is here.
#include <string>
#include <vector>

#include "core/configuration.hpp"
#include "core/rng.hpp"
#include "core/system.hpp"

namespace lsmss::dataset {

// Configurations with the values their input carries (a dataset's rows, an LSMS output file's
// results), so predictions can be checked against data the model never saw.
struct InputConfigurations {
  std::vector<Configuration> configs;
  std::vector<std::string> names;  // "file:row", "file:line", or the LSMS output file
  std::vector<double> energy;      // per configuration, Ry; NaN where the input has none
  std::vector<std::vector<double>> charge, moment;  // per configuration: e, muB per site, or empty

  void add(Configuration config, std::string name, double e, std::vector<double> q = {},
           std::vector<double> m = {});
  std::size_t size() const { return configs.size(); }
};

// Reads every path (a directory: the files in it, in name order; a .lua deck is refused), by its
// content: a dataset HDF5 file (every row, with its values), a text file
// of species digits (one configuration per line, in the lattice's site order; blanks ignored), or
// an LSMS info_evec output file (its positions mapped onto the lattice, lsms::SiteMapper). The
// configurations must fit `model_system` (the system of the model that will predict them). Bad
// input throws naming the file (and line); so does finding no configuration at all.
InputConfigurations read_prediction_inputs(const std::vector<std::string>& inputs,
                                           const System& model_system);

// A random configuration of a binary system with exactly `count_a` atoms of species 0 (the rest
// species 1), or, with count_a < 0, a uniformly random species on every site. Draws from the
// project's generator, so a seed gives the same configurations with every standard library.
Configuration random_configuration(const System& system, int count_a, Rng& rng);

}  // namespace lsmss::dataset
