#include <gtest/gtest.h>

#include <cstdio>

#include "core/progress.hpp"
#include "test_support.hpp"

using namespace lsmss;

TEST(Progress, PlainModePrintsPeriodicLinesWithRateAndEta) {
  test::TempDir dir;
  const auto path = dir / "log.txt";
  {
    std::FILE* f = std::fopen(path.c_str(), "w");
    Progress p("build", 100, "configs");
    p.force_mode(false, f);
    for (int i = 0; i < 100; ++i) p.advance(1, "failed 0");
    p.finish();
    std::fclose(f);
  }
  const std::string log = test::read_file(path);
  int lines = 0;
  for (char c : log) lines += c == '\n';
  EXPECT_GE(lines, 10);
  EXPECT_LE(lines, 12);
  EXPECT_NE(log.find("build: 100/100 configs"), std::string::npos) << log;
  EXPECT_NE(log.find("configs/s"), std::string::npos);
  EXPECT_NE(log.find("ETA"), std::string::npos);
  EXPECT_NE(log.find("done in"), std::string::npos);
}

TEST(Progress, TtyModeDrawsABar) {
  test::TempDir dir;
  const auto path = dir / "tty.txt";
  {
    std::FILE* f = std::fopen(path.c_str(), "w");
    Progress p("train", 10, "epochs");
    p.force_mode(true, f);
    p.set(10);
    p.finish("loss 1e-3");
    std::fclose(f);
  }
  const std::string log = test::read_file(path);
  EXPECT_NE(log.find("[############################]"), std::string::npos) << log;
  EXPECT_NE(log.find("100%"), std::string::npos);
  EXPECT_NE(log.find("loss 1e-3"), std::string::npos);
}

TEST(Progress, DurationFormatting) {
  EXPECT_EQ(format_duration(12.34), "12.3s");
  EXPECT_EQ(format_duration(185), "3m05s");
  EXPECT_EQ(format_duration(3720), "1h02m");
}
