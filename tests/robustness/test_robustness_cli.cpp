// Fault injection and hostile input against the `lsms-surrogate` program (docs/reliability.md):
//  - a damaged row in the middle of a dataset is reported, kept and left out, never cut;
//  - a full disk during `build` (free space faked, and writes failing half-way through an
//    LD_PRELOAD shim, tests/robustness/failwrite.c) gives exit 1, not a crash, and a file that
//    resumes to the complete result;
//  - kill -9 of `import` and `train` leaves the previous output intact;
//  - decks that loop for ever or eat memory, extreme lattice constants, programs named by an
//    untrusted deck, NaN options, the exit-code scheme, one-line Lua errors;
//  - import of links out of the source, self-referencing links, FIFOs, huge sparse files, names
//    with control characters, files of another system;
//  - model files: written atomically, NaN weights and species/Z disagreement refused.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <fstream>
#include <thread>

#include <fmt/format.h>

#include "core/hdf5.hpp"
#include "dataset_builder/dataset.hpp"
#include "lsms_plugin/info_evec.hpp"
#include "test_support.hpp"

using namespace lsmss;
using namespace lsmss::test;
namespace fs = std::filesystem;

namespace {

// Exit status of a shell command, 128 + signal when a signal ended it (as a shell reports it).
struct Run {
  int status = -1;
  std::string output;
};

Run sh(const std::string& cmd) {
  Run r;
  FILE* p = popen((cmd + " 2>&1; echo \"@status=$?\"").c_str(), "r");
  if (!p) return r;
  std::array<char, 4096> buf{};
  while (fgets(buf.data(), buf.size(), p)) r.output += buf.data();
  pclose(p);
  const auto at = r.output.rfind("@status=");
  if (at != std::string::npos) {
    r.status = std::stoi(r.output.substr(at + 8));
    r.output.erase(at);
  }
  return r;
}

Run cli(const TempDir& dir, const std::string& args, const std::string& env = "") {
  return sh(fmt::format("cd '{}' && {} OMP_NUM_THREADS=1 '{}' {}", dir.path().string(), env,
                        cli_path().string(), args));
}

std::string shim() {
  return LSMSS_FAILWRITE_SHIM;
}
// ASan insists on coming first among the libraries; the shim is preloaded before it.
std::string preload(const std::string& vars) {
  return fmt::format("ASAN_OPTIONS=verify_asan_link_order=0:detect_leaks=0 LD_PRELOAD='{}' {}",
                     shim(), vars);
}

// The toy pair driver on a 16-site fcc cell: 92 configurations in a fraction of a second.
std::string pair_deck(const std::string& file, const std::string& extra = "") {
  return fmt::format(
      "system = {{ lattice = 'fcc', a = 7.2377, supercell = {{2,2,1}}, species = {{'Cu','Au'}} }}\n"
      "driver = 'pair'\n"
      "pair = {{ onsite = {{-1.0, -2.0}}, v1 = {{0.0, -0.01, 0.002}}, v2 = {{0.0, 0.003, 0.0}} }}\n"
      "sampling = {{ cap = 3, seed = 1, folds = 3, test_fraction = 0.2 }}\n"
      "dataset = {{ file = '{}', batch = 4 }}\n{}",
      file, extra);
}

const char* kCuAu32 = "{ lattice = 'fcc', a = 7.2377, supercell = {2,2,2}, species = {'Cu','Au'} }";

std::vector<double> energies(const fs::path& file) {
  return dataset::read_dataset(file).energy;
}

hsize_t rows_of(const fs::path& file, const std::string& column) {
  return h5::dims(h5::File::open(file), column)[0];
}

std::string first_line_with(const std::string& text, const std::string& what) {
  const auto p = text.find(what);
  if (p == std::string::npos) return {};
  const auto b = text.rfind('\n', p);
  const auto e = text.find('\n', p);
  return text.substr(
      b == std::string::npos ? 0 : b + 1,
      (e == std::string::npos ? text.size() : e) - (b == std::string::npos ? 0 : b + 1));
}

}  // namespace

// ---------------------------------------------------------------------------- data loss

TEST(Robustness, DamagedMiddleRowIsReportedKeptAndNeverCut) {
  TempDir dir;
  dir.write("d.lua", pair_deck("d.h5"));
  ASSERT_EQ(cli(dir, "build d.lua -q").status, 0);
  const auto configs = rows_of(dir / "d.h5", "/configs/occupation");
  const auto results = rows_of(dir / "d.h5", "/results/energy");
  const auto good = dataset::read_dataset(dir / "d.h5").rows();
  {
    // One occupation value out of range, as an edit with h5py makes it (HDF5 C API).
    h5::File f = h5::File::open(dir / "d.h5", h5::Mode::read_write);
    auto occ = h5::read_rows<std::uint8_t>(f, "/configs/occupation", 5, 1);
    occ[0] = 9;
    h5::write_rows<std::uint8_t>(f, "/configs/occupation", occ, 5, 1);
  }
  const auto info = cli(dir, "info d.h5");
  EXPECT_EQ(info.status, 0) << info.output;
  EXPECT_NE(info.output.find("DAMAGED"), std::string::npos) << info.output;
  EXPECT_EQ(info.output.find("interrupted"), std::string::npos) << info.output;
  EXPECT_EQ(dataset::read_dataset(dir / "d.h5").rows(), good - 1);
  const auto b = cli(dir, "build d.lua -q");
  EXPECT_EQ(b.status, 0) << b.output;
  EXPECT_EQ(rows_of(dir / "d.h5", "/configs/occupation"), configs);
  EXPECT_EQ(rows_of(dir / "d.h5", "/results/energy"), results);
  EXPECT_EQ(dataset::read_dataset(dir / "d.h5").rows(), good - 1);
}

// The free-space check before every append: a full disk stops `build` with a clear error
// before anything is written; with space again, the run resumes to the complete dataset.
TEST(Robustness, FullDiskBeforeAnAppendStopsCleanlyAndResumes) {
  TempDir dir;
  dir.write("ref.lua", pair_deck("ref.h5"));
  ASSERT_EQ(cli(dir, "build ref.lua -q").status, 0);
  dir.write("d.lua", pair_deck("d.h5"));
  // Room for the plan (created with the real free space), then "no space" for the results.
  ASSERT_EQ(cli(dir, "build d.lua -q --max-calculations 8").status, 0);
  const auto r = cli(dir, "build d.lua -q", preload("FAILWRITE_AVAIL=4096"));
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_NE(r.output.find("disk is (nearly) full"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("d.h5"), std::string::npos) << r.output;
  EXPECT_EQ(dataset::read_dataset(dir / "d.h5").rows(), 8u);
  const auto resumed = cli(dir, "build d.lua -q");
  EXPECT_EQ(resumed.status, 0) << resumed.output;
  EXPECT_EQ(energies(dir / "d.h5"), energies(dir / "ref.h5"));
}

// Writes failing half-way (ENOSPC from the system call, whatever the free-space check said):
// exit 1 with an error, no crash at exit, and a file that resumes to the complete result.
TEST(Robustness, WritesFailingHalfWayLeaveAResumableFile) {
  TempDir dir;
  dir.write("ref.lua", pair_deck("ref.h5"));
  ASSERT_EQ(cli(dir, "build ref.lua -q").status, 0);
  const auto reference = energies(dir / "ref.h5");
  int failures = 0;
  for (const long limit : {0L, 2000L, 20000L, 60000L}) {
    SCOPED_TRACE(fmt::format("write budget {} bytes", limit));
    dir.write("d.lua", pair_deck("d.h5"));
    fs::remove(dir / "d.h5");
    ASSERT_EQ(cli(dir, "build d.lua -q --max-calculations 8").status, 0);
    const auto r = cli(dir, "build d.lua -q",
                       preload(fmt::format("FAILWRITE_MATCH=d.h5 FAILWRITE_BYTES={}", limit)));
    EXPECT_TRUE(r.status == 0 || r.status == 1) << r.output;  // never a signal (139 = SIGSEGV)
    if (r.status == 1) {
      ++failures;
      EXPECT_NE(r.output.find("d.h5"), std::string::npos) << r.output;
    }
    const auto info = cli(dir, "info d.h5");
    EXPECT_EQ(info.status, 0) << info.output;
    const auto resumed = cli(dir, "build d.lua -q");
    ASSERT_EQ(resumed.status, 0) << resumed.output;
    EXPECT_EQ(energies(dir / "d.h5"), reference);
  }
  EXPECT_GE(failures, 2);  // the small budgets do fail the run
}

TEST(Robustness, KilledImportLeavesTheOldFileAndNoHalfFile) {
  TempDir dir;
  const fs::path samples = shared_dir() / "data/lsms/samples/CuAu_32atoms";
  const fs::path archive = shared_dir() / "data/lsms/CuAu_32atoms.tar.xz";
  dir.write("imp.lua", std::string("system = ") + kCuAu32 + "\ndataset = { file = 'imp.h5' }\n");
  const auto first = cli(dir, fmt::format("import imp.lua '{}' -q", samples.string()));
  ASSERT_EQ(first.status, 0) << first.output;
  const std::string before = read_file(dir / "imp.h5");
  // kill -9 at a few moments of a forced import of the whole archive (seconds of work): the
  // old file stays whole.
  for (const int ms : {50, 300, 1000}) {
    sh(
        fmt::format("cd '{}' && ('{}' import imp.lua '{}' -q --force & pid=$!; sleep {}; kill -9 "
                    "$pid; wait $pid) >/dev/null 2>&1",
                    dir.path().string(), cli_path().string(), archive.string(), ms / 1000.0));
    EXPECT_EQ(read_file(dir / "imp.h5"), before) << "killed after " << ms << " ms";
  }
  EXPECT_EQ(cli(dir, fmt::format("import imp.lua '{}' -q --force", samples.string())).status, 0);
  EXPECT_EQ(cli(dir, "info imp.h5").status, 0);
}

// ----------------------------------------------------------------------- decks and policy

TEST(Robustness, EndlessOrGreedyDecksStopWithOneLineNamingTheLine) {
  TempDir dir;
  const std::string head = pair_deck("d.h5");
  for (const auto& [body, expect] :
       {std::pair{"while true do end\n", "instructions"},
        std::pair{"local function f() return f() + 1 end\nf()\n", "stack overflow"},
        std::pair{"while true do pcall(function() while true do end end) end\n", "instructions"},
        std::pair{"repeat local x = 1 until false\n", "instructions"},
        std::pair{"t = {}\nfor i = 1, 1e9 do t[i] = i end\n", "MiB of memory"},
        std::pair{"s = string.rep('x', 1 << 40)\n", "d.lua"}}) {
    SCOPED_TRACE(body);
    dir.write("d.lua", head + body);
    const auto t0 = std::chrono::steady_clock::now();
    const auto r = cli(dir, "check d.lua");
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    EXPECT_EQ(r.status, 1) << r.output;
    EXPECT_NE(r.output.find(expect), std::string::npos) << r.output;
    EXPECT_LT(s, 60.0);
    const std::string line = first_line_with(r.output, "error");
    EXPECT_NE(line.find("d.lua:"), std::string::npos) << r.output;
    EXPECT_EQ(r.output.find("stack traceback"), std::string::npos) << r.output;
  }
}

TEST(Robustness, ExtremeOrNonFiniteDeckNumbersAreRefusedWithTheKey) {
  TempDir dir;
  for (const auto& [a, key] : {std::pair{"1e300", "system.a"}, std::pair{"1e-300", "system.a"},
                               std::pair{"1/0", "system.a"}, std::pair{"0/0", "system.a"},
                               std::pair{"math.huge", "system.a"}, std::pair{"-7", "system.a"}}) {
    dir.write("d.lua", fmt::format("system = {{ lattice = 'fcc', a = {}, supercell = {{2,2,1}}, "
                                   "species = {{'Cu','Au'}} }}\ndriver = 'pair'\n",
                                   a));
    const auto r = cli(dir, "check d.lua");
    EXPECT_EQ(r.status, 1) << a << r.output;
    EXPECT_NE(r.output.find(key), std::string::npos) << a << r.output;
  }
  dir.write("d.lua", pair_deck("d.h5", "training = { learning_rate = 0/0 }\n"));
  auto r = cli(dir, "check d.lua");
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_NE(r.output.find("training.learning_rate"), std::string::npos) << r.output;
  // An integer beyond 64 bits is printed as given, not wrapped around.
  dir.write("d.lua", pair_deck("d.h5", "sampling.cap = 9223372036854775807\n"));
  r = cli(dir, "check d.lua");
  EXPECT_EQ(r.output.find("-9223372036854775808"), std::string::npos) << r.output;
  // Keys that used to be checked for finiteness only now have a range.
  for (const auto& [extra, key] :
       {std::pair{"training = { alpha = {1e300} }\n", "training.alpha"},
        std::pair{"montecarlo = { temperatures = {300}, fallback = { threshold = 1e300 } }\n",
                  "montecarlo.fallback.threshold"}}) {
    dir.write("d.lua", pair_deck("d.h5", extra));
    r = cli(dir, "check d.lua");
    EXPECT_EQ(r.status, 1) << extra << r.output;
    EXPECT_NE(r.output.find(key), std::string::npos) << extra << r.output;
  }
  dir.write("d.lua", pair_deck("d.h5", "training = { architecture = { shared = {} } }\n"));
  r = cli(dir, "check d.lua");
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_NE(r.output.find("training.architecture.shared"), std::string::npos) << r.output;
}

TEST(Robustness, AnUntrustedDeckCannotNameProgramsToRun) {
  TempDir dir;
  const std::string base =
      "system = { lattice = 'fcc', a = 6.8, supercell = {1,1,1}, species = {'Cu','Au'} }\n"
      "driver = 'lsms'\n";
  for (const auto& [lsms, key] :
       {std::pair{"lsms = { executable = '/bin/sh' }\n", "lsms.executable"},
        std::pair{"lsms = { launcher = {'sh', '-c', 'touch pwned'} }\n", "lsms.launcher"}}) {
    dir.write("d.lua", base + lsms);
    const auto r = cli(dir, "check d.lua");
    EXPECT_EQ(r.status, 1) << r.output;
    EXPECT_NE(r.output.find(key), std::string::npos) << r.output;
    EXPECT_NE(r.output.find("--allow-commands"), std::string::npos) << r.output;
    // Trusted explicitly: the policy lets it through (the driver may still fail for other
    // reasons, but not on the policy).
    const auto t = cli(dir, "--allow-commands check d.lua");
    EXPECT_EQ(t.output.find("--allow-commands"), std::string::npos) << t.output;
  }
  EXPECT_FALSE(fs::exists(dir / "pwned"));
  dir.write("d.lua", base + "lsms = { ranks = 2 }\n");  // defaults need no trust
  const auto r = cli(dir, "check d.lua");
  EXPECT_EQ(r.output.find("--allow-commands"), std::string::npos) << r.output;
}

TEST(Robustness, ExitCodesFollowTheDocumentedScheme) {
  TempDir dir;
  dir.write("d.lua", pair_deck("d.h5"));
  EXPECT_EQ(cli(dir, "frobnicate").status, 2);
  EXPECT_EQ(cli(dir, "check").status, 2);                    // missing deck
  EXPECT_EQ(cli(dir, "check missing.lua").status, 2);        // not an existing file
  EXPECT_EQ(cli(dir, "calc d.lua --random abc").status, 2);  // unparsable number
  EXPECT_EQ(cli(dir, "calc d.lua --random nan").status, 2);
  EXPECT_EQ(cli(dir, "calc d.lua --random -3").status, 2);
  EXPECT_EQ(cli(dir, "--help").status, 0);
  EXPECT_EQ(cli(dir, "check d.lua").status, 0);
  dir.write("e.lua", pair_deck("d.h5", "x = nil + 1\n"));
  const auto r = cli(dir, "check e.lua");
  EXPECT_EQ(r.status, 1) << r.output;  // runtime error
  EXPECT_NE(r.output.find("e.lua:6:"), std::string::npos) << r.output;
  EXPECT_EQ(std::count(r.output.begin(), r.output.end(), '\n'), 1) << r.output;
  for (const std::string opt :
       {"--charge-tolerance nan", "--charge-tolerance -1", "--position-tolerance 0",
        "--outlier-threshold inf", "--duplicate-tolerance 1e400"}) {
    const auto i = cli(dir, "import d.lua . " + opt);
    EXPECT_EQ(i.status, 2) << opt << i.output;
  }
}

// --------------------------------------------------------------------------------- import

TEST(Robustness, ImportReportsWhatItCannotReadAndNeverFollowsLinksOut) {
  TempDir dir;
  const fs::path one = shared_dir() / "data/lsms/samples/CuAu_32atoms/out_1";
  ASSERT_TRUE(fs::exists(one)) << one;
  const fs::path src = dir / "src";
  fs::create_directories(src);
  fs::copy_file(one, src / "out_1");
  fs::create_symlink("/etc/passwd", src / "out_2");     // leads out
  fs::create_symlink("out_3", src / "out_3");           // refers to itself
  ASSERT_EQ(mkfifo((src / "out_4").c_str(), 0600), 0);  // would block a reader
  { std::ofstream(src / "out_5").flush(); }
  fs::resize_file(src / "out_5", std::uintmax_t{1} << 40);  // 1 TiB, sparse
  std::ofstream(src / "out_\x1b[31m6") << "garbage\n";
  dir.write("imp.lua", std::string("system = ") + kCuAu32 + "\ndataset = { file = 'imp.h5' }\n");
  const auto r = cli(dir, "import imp.lua src -q --list 100");
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("outside the source directory"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("leads nowhere"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("a FIFO"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("1099511627776 bytes"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("out_\\x1b[31m6"), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find('\x1b'), std::string::npos);
  EXPECT_EQ(r.output.find("root:"), std::string::npos);
  EXPECT_EQ(dataset::read_dataset(dir / "imp.h5").rows(), 1u);

  // Another system's deck: nothing maps, so nothing is written and the run fails.
  dir.write("bcc.lua",
            "system = { lattice = 'bcc', a = 5.5, supercell = {2,2,2}, species = {'Fe','Pt'} }\n"
            "dataset = { file = 'bcc.h5' }\n");
  const auto w = cli(dir, "import bcc.lua src -q");
  EXPECT_EQ(w.status, 1) << w.output;
  EXPECT_NE(w.output.find("none of the"), std::string::npos) << w.output;
  EXPECT_FALSE(fs::exists(dir / "bcc.h5"));
}

// ---------------------------------------------------------------------------------- models

TEST(Robustness, ModelFilesAreReplacedOnlyByValidOnesAndCheckedOnLoad) {
  TempDir dir;
  dir.write("d.lua", pair_deck("d.h5",
                               "training = { architecture = { shared = {8} }, epochs = 20, "
                               "model = 'm.h5', learning_rate = 1e-3 }\n"
                               "surrogate = { model = 'm.h5' }\n"));
  ASSERT_EQ(cli(dir, "build d.lua -q").status, 0);
  ASSERT_EQ(cli(dir, "train d.lua -q --no-evaluate --folds 0").status, 0);
  const std::string good = read_file(dir / "m.h5");
  ASSERT_FALSE(good.empty());

  // A write failing while the new model is saved: the old file is untouched, exit 1.
  const auto r = cli(dir, "train d.lua -q --no-evaluate --folds 0",
                     preload("FAILWRITE_MATCH=m.h5.tmp FAILWRITE_BYTES=3000"));
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_EQ(read_file(dir / "m.h5"), good);
  // kill -9 during training: the same.
  sh(
      fmt::format("cd '{}' && ('{}' train d.lua -q --no-evaluate --folds 0 --epochs 100000 & "
                  "pid=$!; sleep 1; kill -9 $pid; wait $pid) >/dev/null 2>&1",
                  dir.path().string(), cli_path().string()));
  EXPECT_EQ(read_file(dir / "m.h5"), good);

  dir.write("c.txt", "0101010101010101\n");
  ASSERT_EQ(cli(dir, "predict -m m.h5 c.txt").status, 0);
  // NaN weights: refused on load, never a NaN prediction with exit 0.
  fs::copy_file(dir / "m.h5", dir / "nan.h5");
  {
    h5::File f = h5::File::open(dir / "nan.h5", h5::Mode::read_write);
    auto p = h5::read<float>(f, "/models/0/params");
    p[3] = std::nanf("");
    h5::write_rows<float>(f, "/models/0/params", {p[3]}, 3, 1);
  }
  auto n = cli(dir, "predict -m nan.h5 c.txt");
  EXPECT_EQ(n.status, 1) << n.output;
  EXPECT_NE(n.output.find("non-finite"), std::string::npos) << n.output;
  // Species attribute and Z disagree: refused.
  fs::copy_file(dir / "m.h5", dir / "z.h5");
  {
    h5::File f = h5::File::open(dir / "z.h5", h5::Mode::read_write);
    h5::Handle g = h5::open_group(f, "/models/0");
    h5::write_attr(g, "species_Z", std::vector<std::int64_t>{29, 78});
  }
  n = cli(dir, "predict -m z.h5 c.txt");
  EXPECT_EQ(n.status, 1) << n.output;
  EXPECT_NE(n.output.find("species_Z"), std::string::npos) << n.output;
}

// Sizes that cannot fit are refused at once with the key named, not after minutes with a bare
// std::bad_alloc (1 TB of plan, 480 GB of weights: beyond any machine this runs on).
TEST(Robustness, HugeSizesAreRefusedUpFrontNamingTheKey) {
  TempDir dir;
  dir.write("big.lua",
            "system = { lattice = 'fcc', a = 7.2377, supercell = {4,4,4}, species = {'Cu','Au'} }\n"
            "driver = 'pair'\npair = { onsite = {-1.0, -2.0} }\n"
            "sampling = { cap = 10000000 }\ndataset = { file = 'big.h5' }\n");
  const auto t0 = std::chrono::steady_clock::now();
  const auto b = cli(dir, "build big.lua -q");
  EXPECT_EQ(b.status, 1) << b.output;
  EXPECT_NE(b.output.find("sampling.cap"), std::string::npos) << b.output;
  EXPECT_NE(b.output.find("GiB"), std::string::npos) << b.output;
  EXPECT_FALSE(fs::exists(dir / "big.h5"));
  dir.write("wide.lua", pair_deck("d.h5",
                                  "training = { architecture = { shared = {100000, "
                                  "100000, 100000} } }\n"));
  const auto w = cli(dir, "check wide.lua");
  EXPECT_EQ(w.status, 1) << w.output;
  EXPECT_NE(w.output.find("training.architecture.shared"), std::string::npos) << w.output;
  EXPECT_NE(w.output.find("GiB"), std::string::npos) << w.output;
  EXPECT_LT(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(), 60.0);
}

namespace {

std::size_t acquired_rows(const fs::path& file) {
  const auto d = dataset::read_dataset(file);
  return static_cast<std::size_t>(std::count(d.origin.begin(), d.origin.end(),
                                             static_cast<std::int8_t>(dataset::Origin::acquired)));
}

}  // namespace

// `mc` with the DFT fallback killed before its first checkpoint starts over, but the rows its
// killed runs acquired count against max_fallbacks: the job never computes more than its budget.
TEST(Robustness, KilledMcWithFallbackKeepsItsBudget) {
  TempDir dir;
  const std::string sys =
      "system = { lattice = 'fcc', a = 7.2377, supercell = {1,1,2}, species = {'Cu','Au'} }\n";
  dir.write("dft.lua", sys +
                           "driver = 'tb'\ntb = {}\nsampling = { cap = 3, seed = 1, folds = 4, "
                           "test_fraction = 0 }\ndataset = { file = 'data.h5' }\n");
  ASSERT_EQ(cli(dir, "build dft.lua -q").status, 0);
  dir.write("sur.lua", sys + R"(
driver = 'surrogate'
surrogate = { model = 'model.h5' }
tb = {}
dataset = { file = 'data.h5' }
training = { architecture = { shared = {16} }, epochs = 50, learning_rate = 1e-2, model = 'model.h5' }
montecarlo = { composition = 4, temperatures = {5000}, walkers = 4, sweeps = 400,
               equilibration = 5, blocks = 4, shells = 2, plot = false, checkpoint = '',
               fallback = { threshold = 1e-9, flush_interval = 1, max_fallbacks = 6 } }
)");
  ASSERT_EQ(cli(dir, "train sur.lua -q --no-evaluate").status, 0);
  const std::size_t before = acquired_rows(dir / "data.h5");
  // kill -9 at some moment of the run (no checkpoint: a rerun starts from scratch).
  sh(
      fmt::format("cd '{}' && (OMP_NUM_THREADS=1 '{}' mc sur.lua -q & pid=$!; sleep 2; kill -9 "
                  "$pid; wait $pid) >/dev/null 2>&1",
                  dir.path().string(), cli_path().string()));
  const std::size_t killed = acquired_rows(dir / "data.h5") - before;
  EXPECT_LE(killed, 6u);
  const auto r = cli(dir, "mc sur.lua -q");
  ASSERT_EQ(r.status, 0) << r.output;
  if (killed > 0) {
    EXPECT_NE(r.output.find(fmt::format("{} calculations of earlier runs of this job", killed)),
              std::string::npos)
        << r.output;
  }
  const std::size_t total = acquired_rows(dir / "data.h5") - before;
  EXPECT_LE(total, 6u) << "killed run acquired " << killed;
  // A complete run used the budget; the next run of the same job computes nothing new.
  EXPECT_EQ(total, 6u);
  const auto again = cli(dir, "mc sur.lua -q");
  ASSERT_EQ(again.status, 0) << again.output;
  EXPECT_NE(again.output.find("budget used up"), std::string::npos) << again.output;
  EXPECT_EQ(acquired_rows(dir / "data.h5") - before, 6u);
}

// The same for archives: links, FIFOs and members too big for an LSMS output are reported
// (never silently dropped, never loaded into memory whole).
TEST(Robustness, ImportReportsSpecialAndHugeArchiveMembers) {
  TempDir dir;
  const fs::path one = shared_dir() / "data/lsms/samples/CuAu_32atoms/out_1";
  const fs::path src = dir / "src";
  fs::create_directories(src);
  fs::copy_file(one, src / "out_1");
  fs::create_symlink("out_1", src / "out_2");
  ASSERT_EQ(mkfifo((src / "out_3").c_str(), 0600), 0);
  { std::ofstream(src / "out_4").flush(); }
  fs::resize_file(src / "out_4", std::uintmax_t{65} << 20);
  ASSERT_EQ(sh(fmt::format("cd '{}' && tar cf a.tar src", dir.path().string())).status, 0);
  fs::remove_all(src);
  dir.write("imp.lua", std::string("system = ") + kCuAu32 + "\ndataset = { file = 'imp.h5' }\n");
  const auto r = cli(dir, "import imp.lua a.tar -q --list 100");
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("src/out_2: a symbolic link in the archive"), std::string::npos)
      << r.output;
  EXPECT_NE(r.output.find("src/out_3: a FIFO in the archive"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("src/out_4: 68157440 bytes, more than the 64 MiB"), std::string::npos)
      << r.output;
  EXPECT_EQ(dataset::read_dataset(dir / "imp.h5").rows(), 1u);
}

// Files claiming physically impossible values are skipped with the reason, never imported.
TEST(Robustness, ImportSkipsPhysicallyImpossibleFiles) {
  TempDir dir;
  const auto base = lsms::parse_info_evec(shared_dir() / "data/lsms/samples/CuAu_32atoms/out_1");
  const fs::path src = dir / "src";
  fs::create_directories(src);
  std::ofstream(src / "out_1") << lsms::format_info_evec(base);
  auto huge = base;
  huge.total_energy = -1e308;
  std::ofstream(src / "out_2") << lsms::format_info_evec(huge);
  auto negative = base;
  negative.atoms[3].electrons = -5.0;
  std::ofstream(src / "out_3") << lsms::format_info_evec(negative);
  auto magnetic = base;
  magnetic.atoms[0].moment = 500.0;
  std::ofstream(src / "out_4") << lsms::format_info_evec(magnetic);
  dir.write("imp.lua", std::string("system = ") + kCuAu32 + "\ndataset = { file = 'imp.h5' }\n");
  const auto r = cli(dir, "import imp.lua src -q --list 100 --keep-non-neutral");
  ASSERT_EQ(r.status, 0) << r.output;
  for (const char* what : {"out_2: total energy -1e+308 Ry is impossible",
                           "out_3: atom 4 (Z = ", "out_4: atom 1 (Z = "})
    EXPECT_NE(r.output.find(what), std::string::npos) << what << "\n" << r.output;
  EXPECT_EQ(dataset::read_dataset(dir / "imp.h5").rows(), 1u);
}
