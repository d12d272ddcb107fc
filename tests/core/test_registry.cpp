#include <gtest/gtest.h>

#include "core/driver.hpp"
#include "fake_driver.hpp"
#include "fixtures.hpp"

using namespace lsmss;

namespace {
System cuau() {
  return System{Lattice(LatticeKind::fcc, fixtures::kCuAuA, 0, {1, 1, 1}),
                {species_from_symbol("Cu"), species_from_symbol("Au")}};
}
DriverRegistry make_registry() {
  DriverRegistry r;
  r.add("fake", "test double", [](const DriverContext& ctx) {
    const double e0 = ctx.settings.number("e0", -1.0);
    const double v = ctx.settings.number("v", 0.5);
    return std::make_unique<test::FakeDriver>(ctx.system, e0, v);
  });
  return r;
}
}  // namespace

TEST(Registry, CreatesByNameFromDeck) {
  System sys = cuau();
  auto reg = make_registry();
  EXPECT_TRUE(reg.contains("fake"));
  EXPECT_EQ(reg.names(), std::vector<std::string>{"fake"});
  Deck d = Deck::from_string("driver = 'fake'\nfake = { e0 = -2.0, v = 0.0 }", "r.lua");
  auto drv = reg.create_from_deck(d.root(), sys);
  ASSERT_NE(drv, nullptr);
  EXPECT_EQ(drv->name(), "fake");
  auto p = drv->evaluate_one(Configuration::from_string("0011"));
  EXPECT_TRUE(p.ok());
  EXPECT_DOUBLE_EQ(*p.energy, -4.0);
}

TEST(Registry, ErrorsNameTheProblem) {
  System sys = cuau();
  auto reg = make_registry();
  EXPECT_THROW(reg.add("fake", "again", nullptr), Error);
  Deck unknown = Deck::from_string("driver = 'vasp'", "u.lua");
  try {
    reg.create_from_deck(unknown.root(), sys);
    FAIL();
  } catch (const DeckError& e) {
    EXPECT_NE(std::string(e.what()).find("unknown driver 'vasp' (known: fake)"), std::string::npos)
        << e.what();
  }
  // A typo in the driver's own table is caught when the driver is created.
  Deck typo = Deck::from_string("driver = 'fake'\nfake = { e00 = 1 }", "t.lua");
  try {
    reg.create_from_deck(typo.root(), sys);
    FAIL();
  } catch (const DeckError& e) {
    EXPECT_NE(std::string(e.what()).find("fake.e00"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("did you mean 'e0'"), std::string::npos) << e.what();
  }
}

TEST(Registry, FakeDriverReportsScriptedFailure) {
  System sys = cuau();
  auto bad = Configuration::from_string("0101");
  test::FakeDriver drv(sys, -1, 0.5, {bad.hash()});
  std::vector<Configuration> batch = {Configuration::from_string("0000"), bad};
  auto r = drv.evaluate(batch);
  ASSERT_EQ(r.size(), 2u);
  EXPECT_TRUE(r[0].ok());
  EXPECT_EQ(r[1].status, Status::failed);
  EXPECT_FALSE(r[1].energy.has_value());
}
