#pragma once
// The one interface every way of computing properties implements: configurations in,
// properties out (embedded tight-binding engine, real LSMS, neural-network surrogate).
// Drivers are created by name from the deck through a registry filled by explicit calls
// (register_builtin_drivers in drivers/), never by static initializers.
#include <functional>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <mpi.h>

#include "core/configuration.hpp"
#include "core/deck.hpp"
#include "core/properties.hpp"
#include "core/system.hpp"

namespace lsmss {

class DriverRegistry;

class Driver {
 public:
  virtual ~Driver() = default;
  virtual std::string name() const = 0;
  // Which properties a successful evaluation fills.
  virtual PropertyMask provides() const = 0;
  // Evaluates a batch. Returns one Properties per configuration, in order; failures are
  // reported per configuration through Properties::status, never as silent data.
  virtual std::vector<Properties> evaluate(std::span<const Configuration> configs) = 0;

  Properties evaluate_one(const Configuration& c) { return evaluate(std::span(&c, 1)).front(); }

  // The settings that decide the results, as "key = value" lines, including the defaults the
  // deck left out: a dataset records them, so that a file started under other defaults (an
  // older version) is not resumed with results of a different model. Empty: only the deck's
  // own keys count.
  virtual std::vector<std::string> effective_settings() const { return {}; }
};

struct DriverContext {
  const System& system;
  DeckTable settings;   // the deck table named after the driver (may be absent: defaults)
  DeckTable deck_root;  // the whole deck (the lsms driver reads dataset.ranks_per_calculation)
  MPI_Comm comm = MPI_COMM_SELF;  // the rank group that runs one calculation
};

class DriverRegistry {
 public:
  using Factory = std::function<std::unique_ptr<Driver>(const DriverContext&)>;

  void add(std::string name, std::string description, Factory factory);
  bool contains(std::string_view name) const;
  std::vector<std::string> names() const;
  const std::string& description(std::string_view name) const;
  // Error naming the known drivers when `name` is not registered.
  std::unique_ptr<Driver> create(std::string_view name, const DriverContext& ctx) const;
  // Reads deck[driver] (the driver name) and deck[<name>] (its settings) and creates it.
  std::unique_ptr<Driver> create_from_deck(const DeckTable& root, const System& system,
                                           MPI_Comm comm = MPI_COMM_SELF) const;

 private:
  struct Entry {
    std::string description;
    Factory factory;
  };
  std::map<std::string, Entry, std::less<>> entries_;
};

}  // namespace lsmss
