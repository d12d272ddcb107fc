// The files of the active-learning loop (montecarlo/retrain.hpp): where the DFT fallback appends
// and `retrain` reads, and the model `retrain` replaces.
#include <gtest/gtest.h>

#include "core/deck.hpp"
#include "core/error.hpp"
#include "montecarlo/retrain.hpp"

using namespace lsmss;

namespace {

std::string dataset_of(const std::string& text) {
  const Deck deck = Deck::from_string(text, "loop.lua");
  return mc::fallback_dataset_file(deck.root(), "decks/loop.lua");
}

std::string model_of(const std::string& text) {
  const Deck deck = Deck::from_string(text, "loop.lua");
  return mc::retrain_model_file(deck.root(), "trained.model.h5");
}

}  // namespace

// montecarlo.fallback.dataset, else dataset.file, else <deck stem>.h5 (an empty name counts as
// not given, as the fallback has always read it).
TEST(RetrainFiles, FallbackDataset) {
  EXPECT_EQ(dataset_of("montecarlo = { fallback = { dataset = 'fb.h5' } }\n"
                       "dataset = { file = 'd.h5' }\n"),
            "fb.h5");
  EXPECT_EQ(dataset_of("montecarlo = { fallback = { dataset = '' } }\n"
                       "dataset = { file = 'd.h5' }\n"),
            "d.h5");
  EXPECT_EQ(dataset_of("montecarlo = { fallback = { threshold = 1 } }\n"), "loop.h5");
  EXPECT_EQ(dataset_of(""), "loop.h5");
}

// surrogate.model (one file), else the trained model's file; a list names the key.
TEST(RetrainFiles, ModelFile) {
  EXPECT_EQ(model_of("surrogate = { model = 's.h5' }\n"), "s.h5");
  EXPECT_EQ(model_of("surrogate = { folds = 'all' }\n"), "trained.model.h5");
  EXPECT_EQ(model_of(""), "trained.model.h5");
  try {
    model_of("surrogate = { model = { 'a.h5', 'b.h5' } }\n");
    ADD_FAILURE() << "a list of model files accepted";
  } catch (const DeckError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("surrogate.model"), std::string::npos) << what;
    EXPECT_NE(what.find("--output"), std::string::npos) << what;
  }
}
