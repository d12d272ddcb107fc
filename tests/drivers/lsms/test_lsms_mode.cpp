// lsms.mode: "launcher" (default) or "in_process"; in a build without the in-process engine,
// "in_process" is a clear configuration error naming the CMake variable that enables it.
#include <gtest/gtest.h>

#include "core/deck.hpp"
#include "drivers/lsms/lsms_driver.hpp"
#include "drivers/register.hpp"
#include "lsms_plugin/inprocess/inprocess.hpp"
#include "test_support.hpp"

using namespace lsmss;

namespace {

System cuzn() {
  return System{Lattice(LatticeKind::bcc, 6.82192, 6.82192, {1, 1, 1}),
                {species_from_symbol("Cu"), species_from_symbol("Zn")}};
}

// The error text of creating the lsms driver from `deck`, or "" when it is created.
std::string creation_error(const std::string& deck_text) {
  DriverRegistry reg;
  drivers::register_builtin_drivers(reg);
  const Deck deck = Deck::from_string(deck_text, "mode.lua");
  try {
    reg.create_from_deck(deck.root(), cuzn());
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST(LsmsMode, LauncherIsTheDefaultAndUnknownModesAreRejected) {
  // A launched run needs an executable that exists (the mode itself is not what is checked).
  const std::string exe = std::string(LSMSS_SHARED_DIR) + "/lsms/bin/lsms_asa";
  EXPECT_EQ(creation_error("driver = 'lsms'\nlsms = { launcher = {}, executable = '" + exe + "' }"),
            "");
  const std::string e = creation_error("driver = 'lsms'\nlsms = { mode = 'inprocess' }");
  EXPECT_NE(e.find("lsms.mode"), std::string::npos) << e;
  EXPECT_NE(e.find("in_process"), std::string::npos) << e;
}

#ifdef LSMSS_HAVE_LSMS_INPROCESS

TEST(LsmsMode, InProcessIsAcceptedAndChecked) {
  EXPECT_TRUE(lsms::inprocess_available());
  EXPECT_EQ(creation_error("driver = 'lsms'\nlsms = { mode = 'in_process' }"), "");
  // The engine is lsms_asa.
  std::string e = creation_error("driver = 'lsms'\nlsms = { mode = 'in_process', kind = 'lsms' }");
  EXPECT_NE(e.find("lsms.kind"), std::string::npos) << e;
  // LSMS runs on the builder's rank group, so its size must be lsms.ranks.
  e = creation_error(
      "driver = 'lsms'\nlsms = { mode = 'in_process', ranks = 2 }\n"
      "dataset = { ranks_per_calculation = 1 }");
  EXPECT_NE(e.find("lsms.ranks"), std::string::npos) << e;
  EXPECT_NE(e.find("ranks_per_calculation = 2"), std::string::npos) << e;
  EXPECT_EQ(creation_error("driver = 'lsms'\nlsms = { mode = 'in_process', ranks = 2 }\n"
                           "dataset = { ranks_per_calculation = 2 }"),
            "");
}

#else

TEST(LsmsMode, InProcessWithoutTheEngineSaysHowToBuildIt) {
  EXPECT_FALSE(lsms::inprocess_available());
  const std::string e = creation_error("driver = 'lsms'\nlsms = { mode = 'in_process' }");
  EXPECT_NE(e.find("lsms.mode"), std::string::npos) << e;
  EXPECT_NE(e.find("not compiled"), std::string::npos) << e;
  EXPECT_NE(e.find("-DLSMSS_LSMS_BUILD_DIR="), std::string::npos) << e;
  // The library call says the same when reached directly.
  try {
    lsms::run_inprocess(MPI_COMM_SELF, "/tmp", "i_lsms", 1.0);
    FAIL() << "run_inprocess ran without the engine";
  } catch (const Error& err) {
    EXPECT_NE(std::string(err.what()).find("not compiled"), std::string::npos) << err.what();
  }
}

#endif
