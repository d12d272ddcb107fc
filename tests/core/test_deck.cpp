#include <gtest/gtest.h>

#include "core/deck.hpp"
#include "core/system.hpp"
#include "test_support.hpp"

using namespace lsmss;

namespace {
// Expects a DeckError whose message contains every fragment.
void expect_deck_error(const std::function<void()>& f, std::vector<std::string> fragments) {
  try {
    f();
    FAIL() << "expected a DeckError";
  } catch (const DeckError& e) {
    for (const auto& frag : fragments)
      EXPECT_NE(std::string(e.what()).find(frag), std::string::npos)
          << "'" << frag << "' not in: " << e.what();
  }
}
const char* kGood = R"(
-- a CuAu deck
local a = 7.2377
system = { lattice = "fcc", a = a, supercell = {2, 2, 2}, species = {"Cu", "Au"} }
driver = "tb"
sampling = { cap = 10 * 100, seed = 42, fraction = 0.5, flag = true, list = {1, 2, 3},
             names = {"x", "y"}, nested = { deep = { value = 3 } } }
function helper(x) return x end
)";
}  // namespace

TEST(Deck, TypedAccessorsAndDefaults) {
  Deck d = Deck::from_string(kGood, "good.lua");
  auto s = d.root().table("sampling");
  EXPECT_EQ(s.integer("cap"), 1000);
  EXPECT_EQ(s.integer("seed", 1, 0, 100), 42);
  EXPECT_DOUBLE_EQ(s.number("fraction"), 0.5);
  EXPECT_TRUE(s.boolean("flag", false));
  EXPECT_EQ(s.integers("list", {}), (std::vector<long>{1, 2, 3}));
  EXPECT_EQ(s.strings("names"), (std::vector<std::string>{"x", "y"}));
  EXPECT_EQ(s.table("nested").table("deep").integer("value"), 3);
  EXPECT_EQ(s.integer("missing", 7, 0, 10), 7);
  EXPECT_EQ(s.string("missing2", "dflt"), "dflt");
  EXPECT_FALSE(s.table("absent").present());
  EXPECT_EQ(d.root().string("driver"), "tb");
  EXPECT_FALSE(d.root().has("helper"));  // functions are deck-local helpers, not settings
  EXPECT_EQ(s.table("nested").table("deep").path(), "sampling.nested.deep");
  EXPECT_NO_THROW(s.finish());
}

TEST(Deck, SystemFromDeck) {
  Deck d = Deck::from_string(kGood, "good.lua");
  System sys = System::from_deck(d.root().table("system"));
  EXPECT_EQ(sys.num_sites(), 32);
  EXPECT_EQ(sys.name(), "CuAu");
  EXPECT_EQ(sys.species_index(79), 1);
  Deck bct = Deck::from_string(
      R"(system = { lattice = "bct", a = 5.218, c = 7.058, supercell = {4,2,2}, species = {"Fe","Pt"} })",
      "f.lua");
  EXPECT_EQ(System::from_deck(bct.root().table("system")).lattice.kind(), LatticeKind::bct);
}

TEST(Deck, ErrorPathsNameFileKeyAndExpectation) {
  Deck d = Deck::from_string(kGood, "good.lua");
  auto s = d.root().table("sampling");
  expect_deck_error([&] { s.integer("fraction"); }, {"good.lua", "sampling.fraction", "integer"});
  expect_deck_error([&] { s.string("cap"); }, {"sampling.cap", "expected a string"});
  expect_deck_error([&] { s.number("names"); }, {"sampling.names", "expected a number"});
  expect_deck_error([&] { s.boolean("cap", false); }, {"sampling.cap", "true or false"});
  expect_deck_error([&] { s.integer("cap", 1, 1, 999); }, {"sampling.cap", "[1, 999]", "1000"});
  expect_deck_error([&] { s.number_in("fraction", 0, 0.6, 1.0); },
                    {"sampling.fraction", "[0.6, 1]"});
  expect_deck_error([&] { s.integer("nope"); }, {"sampling.nope", "required"});
  expect_deck_error([&] { s.choice("names", "a", {"a"}); }, {"sampling.names"});
  expect_deck_error([&] { s.table("cap"); }, {"sampling.cap", "expected a table"});
  expect_deck_error([&] { s.numbers("nested"); }, {"sampling.nested", "list"});
  expect_deck_error([&] { s.strings("list"); }, {"sampling.list[1]", "string"});
  Deck d2 = Deck::from_string("t = { mode = 'fast' }", "c.lua");
  expect_deck_error(
      [&] {
        d2.root().table("t").choice("mode", "slow", {"slow", "exact"});
      },
      {"t.mode", "'fast' is not one of: slow, exact"});
}

TEST(Deck, UnknownKeySuggestsClosest) {
  Deck d = Deck::from_string("sampling = { cpa = 3, seed = 1 }", "typo.lua");
  auto s = d.root().table("sampling");
  s.integer("cap", 1000, 1, 100000);
  s.integer("seed", 0, 0, 100);
  expect_deck_error([&] { s.finish(); },
                    {"typo.lua", "unknown key 'sampling.cpa'", "did you mean 'cap'"});
  // Top level too.
  Deck d3 = Deck::from_string("sytem = {}", "top.lua");
  d3.root().allow({"system", "driver"});
  expect_deck_error([&] { d3.root().finish(); }, {"unknown key 'sytem'", "did you mean 'system'"});
}

TEST(Deck, LuaErrorsCarryFileAndLine) {
  expect_deck_error([] { Deck::from_string("a = 1\nb = = 2\n", "syntax.lua"); }, {"syntax.lua:2:"});
  expect_deck_error([] { Deck::from_string("a = 1\nerror('boom')\n", "run.lua"); },
                    {"run.lua:2:", "boom"});
  expect_deck_error([] { Deck::from_file("/nonexistent/deck.lua"); }, {"/nonexistent/deck.lua"});
}

TEST(Deck, SandboxBlocksIoUnlessAllowed) {
  expect_deck_error([] { Deck::from_string("x = os.getenv('HOME')", "sb.lua"); }, {"sb.lua:1:"});
  expect_deck_error([] { Deck::from_string("f = io.open('/etc/passwd')", "sb.lua"); },
                    {"sb.lua:1:"});
  expect_deck_error([] { Deck::from_string("require('socket')", "sb.lua"); }, {"sb.lua:1:"});
  expect_deck_error([] { Deck::from_string("load('x=1')()", "sb.lua"); }, {"sb.lua:1:"});
  DeckOptions open;
  open.allow_io = true;
  Deck d = Deck::from_string("home = os.getenv('PATH') ~= nil", "io.lua", open);
  EXPECT_TRUE(d.root().boolean("home", false));
  // Binary chunks are refused even where Lua code would produce one.
  expect_deck_error([] { Deck::from_string(std::string("\x1bLua", 4), "bin.lua"); }, {"bin.lua"});
}

TEST(Deck, UnsupportedValuesAreErrors) {
  expect_deck_error([] { Deck::from_string("t = { f = print }", "v.lua"); }, {"t.f", "function"});
  expect_deck_error([] { Deck::from_string("t = { [1.5] = 2 }", "v.lua"); }, {"'t'"});
  expect_deck_error([] { Deck::from_string("t = {}; t.self = t", "v.lua"); },
                    {"nested too deeply"});
}

TEST(Deck, SystemErrors) {
  auto sys = [](const std::string& body) {
    Deck d = Deck::from_string("system = {" + body + "}", "sys.lua");
    return System::from_deck(d.root().table("system"));
  };
  expect_deck_error([&] { sys("lattice='hcp', a=1, species={'Cu','Au'}"); },
                    {"system.lattice", "hcp"});
  expect_deck_error([&] { sys("a=-1, species={'Cu','Au'}"); }, {"system.a", "[1, 100] Bohr"});
  expect_deck_error([&] { sys("a=1, species={'Cu'}"); }, {"system.species", "two"});
  expect_deck_error([&] { sys("a=1, species={'Cu','Qq'}"); }, {"system.species", "Qq"});
  expect_deck_error([&] { sys("a=1, species={'Cu','Cu'}"); }, {"system.species", "twice"});
  expect_deck_error([&] { sys("a=1, supercell={2,2}, species={'Cu','Au'}"); },
                    {"system.supercell", "3"});
  expect_deck_error([&] { sys("lattice='bct', a=1, species={'Cu','Au'}"); },
                    {"system.c", "required"});
  expect_deck_error([&] { sys("a=1, c=2, species={'Cu','Au'}"); }, {"system.c", "bct"});
  expect_deck_error([&] { sys("a=1, specie={'Cu','Au'}"); }, {"system.species", "required"});
  expect_deck_error([&] { sys("a=1, species={'Cu','Au'}, lattce='fcc'"); },
                    {"system.lattce", "did you mean 'lattice'"});
  expect_deck_error(
      [] { System::from_deck(Deck::from_string("x=1", "n.lua").root().table("system")); },
      {"system", "no 'system' table"});
}
