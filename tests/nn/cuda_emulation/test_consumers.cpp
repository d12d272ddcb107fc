// The consumers of the cuda backend on the emulated device, end to end from a deck: the
// surrogate driver (an ensemble's members predicting together, nn::EnsembleWorkspace grouped)
// and the Monte Carlo job's fast path (its members' networks in one call, nn::FirstLayerGroup),
// each against the same deck on the reference backend. The job falls back to batched driver
// calls when the fast path fails, so the test also checks that the cuda job kept it.
#include <gtest/gtest.h>

#include <cmath>

#include "../synthetic.hpp"
#include "core/deck.hpp"
#include "core/rng.hpp"
#include "drivers/register.hpp"
#include "fixtures.hpp"
#include "montecarlo/job.hpp"
#include "nn/core/trainer.hpp"
#include "nn/model.hpp"
#include "test_support.hpp"

using namespace lsmss;

namespace {

// A Monte Carlo job on the surrogate of `model` with `backend`.
mc::Job surrogate_job(const std::filesystem::path& model, const std::string& backend,
                      const DriverRegistry& registry) {
  const Deck deck = Deck::from_string(
      fixtures::cuau_system_lua("{2,1,1}") + "driver = 'surrogate'\nsurrogate = { model = '" +
          model.string() + "', backend = '" + backend +
          "' }\nmontecarlo = { temperatures = {300}, walkers = 16 }\n",
      "mc.lua");
  const System system = System::from_deck(deck.root().table("system"));
  return mc::prepare_job(deck.root(), system, registry, "mc.lua");
}

TEST(EmulatedCudaConsumers, SurrogateDriverAndMonteCarloFastPathMatchTheReferenceBackend) {
  const auto d = test::synthetic_dataset(240, 3, 29);
  nn::TrainingOptions o;
  o.tasks = {nn::Task::energy, nn::Task::charge};
  o.shared = {12, 8};
  o.epochs = 4;
  o.progress = false;
  o.backend = "reference";
  std::vector<nn::Model> members;
  members.reserve(3);
  for (int f = 0; f < 3; ++f) members.push_back(nn::train_model(d, o, f));
  test::TempDir dir;
  const auto file = dir / "ensemble.h5";
  nn::save_models(file, {&members[0], &members[1], &members[2]});

  DriverRegistry registry;
  drivers::register_builtin_drivers(registry);
  mc::Job gpu = surrogate_job(file, "cuda", registry);
  mc::Job ref = surrogate_job(file, "reference", registry);
  ASSERT_NE(gpu.fast_group, nullptr) << "the cuda job must run its members together";
  EXPECT_EQ(ref.fast_group, nullptr);
  for (const auto& note : gpu.notes)
    EXPECT_EQ(note.find("not available"), std::string::npos) << note;

  // Random configurations of the 8-site cell, every composition.
  Rng rng(5);
  std::vector<Configuration> configs;
  for (int k = 0; k < 16; ++k) {
    std::vector<std::uint8_t> occupation(8);
    for (auto& s : occupation) s = static_cast<std::uint8_t>(rng.below(2));
    configs.emplace_back(occupation);
  }
  auto near = [](double a, double b) {
    return std::abs(a - b) <= 1e-5 * std::max(1.0, std::abs(b));
  };

  // The surrogate driver: ensemble mean and spread of every property.
  const auto a = gpu.driver->evaluate(configs), b = ref.driver->evaluate(configs);
  ASSERT_EQ(a.size(), b.size());
  for (std::size_t k = 0; k < configs.size(); ++k) {
    SCOPED_TRACE("configuration " + std::to_string(k));
    ASSERT_TRUE(a[k].ok() && b[k].ok());
    EXPECT_PRED2(near, *a[k].energy, *b[k].energy);
    EXPECT_PRED2(near, *a[k].energy_std, *b[k].energy_std);
    ASSERT_EQ(a[k].charge.size(), b[k].charge.size());
    for (std::size_t i = 0; i < b[k].charge.size(); ++i)
      EXPECT_PRED2(near, a[k].charge[i], b[k].charge[i]);
  }

  // The fast path: walkers started at the configurations, then one proposed swap each.
  std::vector<mc::EnergyResult> eg(configs.size()), er(configs.size());
  auto compare = [&](const char* what) {
    for (std::size_t k = 0; k < configs.size(); ++k) {
      SCOPED_TRACE(std::string(what) + ", walker " + std::to_string(k));
      ASSERT_TRUE(eg[k].ok && er[k].ok);
      EXPECT_PRED2(near, eg[k].energy, er[k].energy);
      EXPECT_PRED2(near, eg[k].std, er[k].std);
    }
  };
  gpu.energy->reset(configs, eg);
  ref.energy->reset(configs, er);
  compare("reset");
  std::vector<mc::Swap> swaps;
  for (std::size_t k = 0; k < configs.size(); ++k)
    swaps.push_back({static_cast<int>(k % 8), static_cast<int>((k + 3) % 8)});
  gpu.energy->propose(configs, swaps, eg);
  ref.energy->propose(configs, swaps, er);
  compare("proposed swap");
}

}  // namespace
