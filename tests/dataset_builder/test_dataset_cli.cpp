// `lsms-surrogate build | import | info` end to end: MPI runs with 1, 2 and 3 ranks give the data
// of a serial run; SIGKILL at random moments and resume keep every finished result exactly
// once; the real LSMS archives import with the expected findings; bad files give one clear
// error.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>

#include <chrono>
#include <map>
#include <thread>

#include "core/hdf5.hpp"
#include "core/rng.hpp"
#include "dataset_builder/dataset.hpp"
#include "dataset_builder/store.hpp"
#include "fixtures.hpp"
#include "test_support.hpp"

extern char** environ;

using namespace lsmss;
using namespace lsmss::dataset;
using namespace lsmss::test;
namespace fs = std::filesystem;

namespace {

CommandResult cli(const std::string& args) {
  return run_command(cli_path().string() + " " + args);
}

bool have_mpirun() {
  return run_command("mpirun --version").status == 0;
}

CommandResult mpi_cli(int np, const std::string& args) {
  return run_command(fmt::format("mpirun --oversubscribe --allow-run-as-root -np {} {} {}", np,
                                 cli_path().string(), args));
}

// The toy `pair` driver on a 16-site fcc cell: 1 + 15 * 6 + 1 = 92 configurations.
std::string pair_deck(const fs::path& file, const std::string& dataset_extra = "",
                      const std::string& pair_extra = "", const std::string& cell = "{2,2,1}",
                      int cap = 6) {
  return fixtures::cuau_system_lua(cell) +
         fmt::format(
             "driver = 'pair'\n"
             "pair = {{ onsite = {{-1.0, -2.0}}, v1 = {{0.0, -0.01, 0.002}}, v2 = {{0.0, 0.003, "
             "0.0}}, "
             "moments = {{0.5, 0.1}}, moment_coupling = 0.4{} }}\n"
             "sampling = {{ cap = {}, seed = 17, folds = 5 }}\n"
             "dataset = {{ file = '{}'{} }}\n",
             pair_extra, cap, file.string(), dataset_extra);
}

}  // namespace

TEST(DatasetCli, BuildResumeInfoAndErrors) {
  TempDir dir;
  const auto deck =
      dir.write("d.lua", pair_deck(dir / "d.h5", ", retries = 1", ", fail_fraction = 0.05"));
  auto r = cli("build -q " + deck.string());
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("planned 92 configurations in 17 compositions"), std::string::npos)
      << r.output;
  EXPECT_NE(r.output.find("per composition"), std::string::npos) << r.output;
  const Dataset d = read_dataset(dir / "d.h5");
  EXPECT_GT(d.rows(), 70u);
  EXPECT_LT(d.rows(), 92u);  // scripted failures never become data
  r = cli("build " + deck.string());
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("to calculate"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("0 calculations"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("--retry-failed"), std::string::npos) << r.output;

  r = cli("info " + (dir / "d.h5").string());
  ASSERT_EQ(r.status, 0) << r.output;
  for (const char* s : {"system        CuAu on fcc", "driver        pair (properties ECM)",
                        "configs       92 (92 sampled)", "failed", "test fraction 0.1", "5 folds"})
    EXPECT_NE(r.output.find(s), std::string::npos) << s << "\n" << r.output;

  // A deck that changes the sampling is refused with the key named.
  const auto changed =
      dir.write("changed.lua", pair_deck(dir / "d.h5", "", ", fail_fraction = 0.05", "{2,2,1}", 7));
  r = cli("build -q " + changed.string());
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.output.find("lsms-surrogate: error:"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("sampling.cap: file has 6, deck has 7"), std::string::npos) << r.output;

  // Corrupt and foreign files.
  const auto junk = dir.write("junk.h5", "this is not HDF5");
  r = cli("info " + junk.string());
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.output.find("junk.h5: not an HDF5 file"), std::string::npos) << r.output;
  {
    h5::File f = h5::File::create(dir / "foreign.h5");
    h5::write<double>(f, "x", {1.0});
  }
  r = cli("info " + (dir / "foreign.h5").string());
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.output.find("not one written by lsms-surrogate"), std::string::npos) << r.output;
  r = cli("build -q -o " + (dir / "foreign.h5").string() + " " + deck.string());
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.output.find("not an lsms-surrogate dataset"), std::string::npos) << r.output;
  // h5dump reads the files (the format is plain HDF5).
  if (run_command("h5dump --version").status == 0) {
    r = run_command("h5dump -H " + (dir / "d.h5").string());
    EXPECT_EQ(r.status, 0) << r.output;
    EXPECT_NE(r.output.find("DATASET \"energy\""), std::string::npos);
  }
}

TEST(DatasetCli, MpiRunsGiveTheSerialData) {
  if (!have_mpirun()) GTEST_SKIP() << "mpirun not found";
  TempDir dir;
  auto build = [&](const std::string& name, int np, const std::string& extra) {
    const auto deck = dir.write(name + ".lua", pair_deck(dir / (name + ".h5"), extra));
    const auto r =
        np == 0 ? cli("build -q " + deck.string()) : mpi_cli(np, "build -q " + deck.string());
    EXPECT_EQ(r.status, 0) << name << "\n" << r.output;
    return read_dataset(dir / (name + ".h5"));
  };
  const Dataset serial = build("serial", 0, "");
  ASSERT_EQ(serial.rows(), 92u);
  const std::vector<std::pair<std::string, Dataset>> runs = {
      {"np1", build("np1", 1, "")},
      {"np2", build("np2", 2, "")},
      {"np2_worker_only", build("np2w", 2, ", coordinator_computes = false, batch = 3")},
      {"np3_groups_of_2", build("np3", 3, ", ranks_per_calculation = 2")},
  };
  for (const auto& [name, d] : runs) {
    ASSERT_EQ(d.rows(), serial.rows()) << name;
    EXPECT_EQ(d.occupation, serial.occupation) << name;
    EXPECT_EQ(d.fold, serial.fold) << name;
    EXPECT_EQ(d.energy, serial.energy) << name;
    EXPECT_EQ(d.charge, serial.charge) << name;
    EXPECT_EQ(d.moment, serial.moment) << name;
    EXPECT_EQ(d.fingerprint(), serial.fingerprint()) << name;
  }
  // In the worker-only run rank 0 computed nothing: the file has every result exactly once.
  const DatasetFile f = DatasetFile::open(dir / "np2w.h5", h5::Mode::read);
  EXPECT_EQ(f.results().rows(), 92u);
  // Too few ranks for the groups: a clear error.
  const auto bad = dir.write("bad.lua", pair_deck(dir / "bad.h5", ", ranks_per_calculation = 4"));
  const auto r = mpi_cli(2, "build -q " + bad.string());
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.output.find("ranks_per_calculation = 4 needs at least 5 MPI ranks"),
            std::string::npos)
      << r.output;
}

TEST(DatasetCli, SigkillAtRandomMomentsLosesNothing) {
  TempDir dir;
  // 32-site cell, cap 8: 250 configurations of ~4 ms each.
  const auto deck = dir.write("k.lua", pair_deck(dir / "k.h5", "", ", delay_ms = 4", "{2,2,2}", 8));
  const auto ref_deck = dir.write("ref.lua", pair_deck(dir / "ref.h5", "", "", "{2,2,2}", 8));
  auto r = cli("build -q " + ref_deck.string());
  ASSERT_EQ(r.status, 0) << r.output;
  const Dataset ref = read_dataset(dir / "ref.h5");
  ASSERT_EQ(ref.rows(), 250u);

  // A new seed each run (printed on failure to replay it): kills land at different moments.
  const auto seed =
      static_cast<std::uint64_t>(std::chrono::system_clock::now().time_since_epoch().count());
  Rng rng(seed);
  auto wait_ms = [](Rng& r) { return 150 + static_cast<int>(r.below(1151)); };  // 150..1300
  const std::string exe = cli_path().string();
  std::vector<std::int64_t> kept;  // verified rows (config ids, in file order) after each kill
  int killed_with_data = 0;
  for (int round = 0; round < 7; ++round) {
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
    std::vector<std::string> args = {exe, "build", "-q", deck.string()};
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    pid_t pid = 0;
    ASSERT_EQ(posix_spawn(&pid, exe.c_str(), &fa, nullptr, argv.data(), environ), 0);
    posix_spawn_file_actions_destroy(&fa);
    bool reaped = false;  // the run ended by itself
    if (round % 3 == 0) {
      // Any moment from the start, planning included.
      std::this_thread::sleep_for(std::chrono::milliseconds(wait_ms(rng)));
    } else {
      // Start-up time varies a lot on a loaded machine: wait until this run has written to the
      // file (a result, or the plan), then kill it at a random moment of its calculation.
      const auto before =
          fs::exists(dir / "k.h5") ? fs::last_write_time(dir / "k.h5") : fs::file_time_type::min();
      const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(30);
      int st = 0;
      while (std::chrono::steady_clock::now() < give_up &&
             !(reaped = waitpid(pid, &st, WNOHANG) == pid)) {
        std::error_code ec;
        const auto t = fs::last_write_time(dir / "k.h5", ec);
        if (!ec && t != before) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
      }
      if (!reaped) std::this_thread::sleep_for(std::chrono::milliseconds(wait_ms(rng) / 3));
    }
    if (!reaped) {
      kill(pid, SIGKILL);
      int status = 0;
      waitpid(pid, &status, 0);
    }
    if (!fs::exists(dir / "k.h5")) continue;  // killed before the plan was complete
    // Readable at once, and everything verified before is still there, in place.
    const DatasetFile f = DatasetFile::open(dir / "k.h5", h5::Mode::read);
    const auto& now = f.results().config;
    ASSERT_GE(now.size(), kept.size()) << "round " << round << " seed " << seed;
    EXPECT_TRUE(std::equal(kept.begin(), kept.end(), now.begin()))
        << "round " << round << " seed " << seed;
    kept = now;
    killed_with_data += !now.empty() && now.size() < 250;
  }
  r = cli("build -q " + deck.string());
  ASSERT_EQ(r.status, 0) << r.output;
  const DatasetFile f = DatasetFile::open(dir / "k.h5", h5::Mode::read);
  std::map<std::int64_t, int> count;
  for (std::size_t k = 0; k < f.results().rows(); ++k) {
    EXPECT_EQ(f.results().row_status(k), Status::ok);
    ++count[f.results().config[k]];
  }
  EXPECT_EQ(count.size(), 250u) << "seed " << seed;
  for (const auto& [c, n] : count) EXPECT_EQ(n, 1) << "config " << c << " seed " << seed;
  EXPECT_EQ(f.results().rows(), 250u);
  EXPECT_TRUE(std::equal(kept.begin(), kept.end(), f.results().config.begin()));
  const Dataset d = read_dataset(dir / "k.h5");
  EXPECT_EQ(d.fingerprint(), ref.fingerprint()) << "seed " << seed;
  EXPECT_GT(killed_with_data, 0) << "no kill hit the calculation phase (seed " << seed << ")";
}

TEST(DatasetCli, ImportsTheRealArchives) {
  struct Case {
    const char* archive;
    std::string system;  // the deck's `system` line
    std::size_t files, duplicates;
  };
  // Counts found in the published data (see the README of ../shared/data/lsms).
  const Case cases[] = {
      {"CuAu_32atoms.tar.xz", fixtures::cuau_system_lua(), 28788, 2698},
      {"FePt_32atoms.tar.xz", fixtures::fept_system_lua(), 28814, 124},
  };
  TempDir dir;
  for (const auto& c : cases) {
    const auto archive = dir / c.archive;
    fs::copy_file(shared_dir() / "data/lsms" / c.archive, archive);
    const auto deck = dir.write("imp.lua", c.system + fmt::format("dataset = {{ file = '{}' }}\n",
                                                                  (dir / "imp.h5").string()));
    const auto r = cli(fmt::format("import -q -f {} {}", deck.string(), archive.string()));
    ASSERT_EQ(r.status, 0) << r.output;
    EXPECT_NE(r.output.find(fmt::format("files      {} read, {} parsed", c.files, c.files)),
              std::string::npos)
        << r.output;
    EXPECT_NE(r.output.find(fmt::format("duplicate configurations ({})", c.duplicates)),
              std::string::npos)
        << r.output;
    const Dataset d = read_dataset(dir / "imp.h5");
    EXPECT_EQ(d.rows(), c.files - c.duplicates) << c.archive;
    EXPECT_EQ(d.origin.front(), static_cast<std::int8_t>(Origin::imported));
  }
}
