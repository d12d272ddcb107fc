// The results file of `calc -o` (core/results_tsv.hpp).
#include <gtest/gtest.h>

#include <sstream>

#include "core/configuration.hpp"
#include "core/results_tsv.hpp"

using namespace lsmss;

TEST(ResultsTsv, ResultsTsvHasUnitsHeaderAndOneRowPerConfiguration) {
  Properties ok;
  ok.status = Status::ok;
  ok.energy = -1.25;
  ok.charge = {28.9, 79.1};
  ok.moment = {0.0, 0.5};
  ok.iterations = 12;
  ok.wall_time = 0.75;
  Properties failed;  // no energy: "nan", empty per-site lists
  std::ostringstream out;
  write_results_tsv(out, {Configuration::from_string("01"), Configuration::from_string("11")},
                    {ok, failed});
  EXPECT_EQ(out.str(),
            "# lsms-surrogate calc: energy in Ry, charge in e (electrons on the site), moment in "
            "muB\n"
            "index\tconfiguration\tstatus\tenergy_Ry\tcharge_e\tmoment_muB\titerations\twall_s\n"
            "0\t01\tok\t-1.2500000000\t28.900000,79.100000\t0.000000,0.500000\t12\t0.75\n"
            "1\t11\tfailed\tnan\t\t\t0\t0\n");
}
