// `lsms-surrogate mc` and `retrain` end to end on an 8-site fcc cell with the embedded tb engine:
//  - result files with units (TSV, JSON), the gnuplot script and figure, resume from the
//    checkpoint, Wang-Landau's density-of-states file;
//  - the active-learning loop: build (tb) -> train (fold ensemble) -> mc with the DFT fallback
//    (count printed, rows appended marked acquired) -> retrain on the enlarged dataset.
#include <gtest/gtest.h>

#include <algorithm>
#include <regex>
#include <sstream>

#include "dataset_builder/dataset.hpp"
#include "fixtures.hpp"
#include "test_support.hpp"

using namespace lsmss;
using namespace lsmss::test;

namespace {

const std::string kSystem = fixtures::cuau_system_lua("{1,1,2}");

CommandResult cli(const TempDir& dir, const std::string& args) {
  return run_command(fmt::format("cd '{}' && OMP_NUM_THREADS=1 '{}' {}", dir.path().string(),
                                 cli_path().string(), args));
}

long number_after(const std::string& text, const std::string& pattern) {
  std::smatch m;
  if (!std::regex_search(text, m, std::regex(pattern + R"(\s*(\d+))"))) return -1;
  return std::stol(m[1]);
}

}  // namespace

TEST(McCli, MetropolisWritesResultsWithUnitsPlotAndResumes) {
  TempDir dir;
  dir.write("tb.lua", std::string(kSystem) +
                          "driver = 'tb'\ntb = {}\nmontecarlo = { composition = 4, temperatures = "
                          "{4000, 2000}, walkers = 2, sweeps = 20, equilibration = 5, blocks = 4, "
                          "shells = 2 }\n");
  const auto r = cli(dir, "mc tb.lua -q");
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("T (K)"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("steps/s"), std::string::npos) << r.output;
  const std::string tsv = read_file(dir / "tb_mc_thermo.tsv");
  EXPECT_NE(tsv.find("T_K\tenergy_Ry\tenergy_err_Ry\tdE_mRy_per_site"), std::string::npos) << tsv;
  EXPECT_NE(tsv.find("heat_capacity_kB_per_site"), std::string::npos);
  EXPECT_NE(tsv.find("alpha_1"), std::string::npos);
  EXPECT_NE(tsv.find("\n4000\t"), std::string::npos);
  EXPECT_NE(tsv.find("\n2000\t"), std::string::npos);
  const std::string json = read_file(dir / "tb_mc_results.json");
  EXPECT_NE(json.find(R"("units": {"temperature": "K", "energy": "Ry, total energy of the cell")"),
            std::string::npos)
      << json;
  EXPECT_NE(json.find(R"("temperature": 4000, "energy": -)"), std::string::npos) << json;
  EXPECT_NE(json.find(R"("fallback": {"enabled": false, "fallbacks": 0)"), std::string::npos);
  if (run_command("command -v gnuplot").status == 0) {
    const std::string gp = read_file(dir / "tb_mc.gp");
    EXPECT_NE(gp.find("heat capacity"), std::string::npos);
    EXPECT_NE(gp.find("Warren-Cowley"), std::string::npos);
    // pngcairo or png; svg where this gnuplot has no png terminal.
    const auto png =
        dir / (gp.find("set terminal svg") != std::string::npos ? "tb_mc.svg" : "tb_mc.png");
    ASSERT_TRUE(std::filesystem::exists(png)) << r.output;
    EXPECT_GT(std::filesystem::file_size(png), 1000u);
  } else {
    EXPECT_NE(r.output.find("gnuplot is not installed"), std::string::npos) << r.output;
  }
  // A rerun finds the finished checkpoint and reprints the same table.
  const auto again = cli(dir, "mc tb.lua -q");
  ASSERT_EQ(again.status, 0) << again.output;
  EXPECT_NE(again.output.find("run complete"), std::string::npos) << again.output;
  EXPECT_EQ(read_file(dir / "tb_mc_thermo.tsv"), tsv);
}

TEST(McCli, WangLandauWritesTheDensityOfStates) {
  TempDir dir;
  dir.write("wl.lua",
            std::string(kSystem) +
                "driver = 'tb'\ntb = {}\nmontecarlo = { method = 'wang_landau', composition = "
                "4, walkers = 2, temperatures = {3000, 6000}, plot = false, wang_landau = { "
                "bins = 12, ln_f_final = 1e-3, scan_sweeps = 50 } }\n");
  const auto r = cli(dir, "mc wl.lua -q");
  ASSERT_EQ(r.status, 0) << r.output;
  const std::string dos = read_file(dir / "wl_mc_dos.tsv");
  EXPECT_NE(dos.find("E_lo_Ry\tE_hi_Ry\tE_mean_Ry\tdE_mRy_per_site\tln_g"), std::string::npos)
      << dos;
  EXPECT_NE(read_file(dir / "wl_mc_results.json").find(R"("wang_landau": {"ln_f": )"),
            std::string::npos);
  EXPECT_NE(r.output.find("plotting disabled"), std::string::npos) << r.output;
  EXPECT_FALSE(std::filesystem::exists(dir / "wl_mc.png"));
}

TEST(McCli, FallbackAppendsAcquiredRowsAndRetrainUsesThem) {
  TempDir dir;
  // Step 1: a small tb dataset (3 configurations per composition, 4 folds, no test rows).
  dir.write("dft.lua", std::string(kSystem) +
                           "driver = 'tb'\ntb = {}\nsampling = { cap = 3, seed = 1, folds = 4, "
                           "test_fraction = 0 }\ndataset = { file = 'data.h5' }\n");
  const auto b = cli(dir, "build dft.lua -q");
  ASSERT_EQ(b.status, 0) << b.output;
  const std::size_t rows0 = dataset::read_dataset(dir / "data.h5").rows();

  // Step 2: the surrogate deck: same system and dataset, a 4-model fold ensemble.
  dir.write("sur.lua", std::string(kSystem) + R"(
driver = 'surrogate'
surrogate = { model = 'model.h5' }
tb = {}
dataset = { file = 'data.h5' }
training = { architecture = { shared = {16} }, epochs = 100, learning_rate = 1e-2, model = 'model.h5' }
montecarlo = { composition = 4, temperatures = {5000, 2000}, walkers = 4, sweeps = 20,
               equilibration = 5, blocks = 4, shells = 2, plot = false,
               -- 1e-9 Ry: far below any spread of four differently initialized networks, so
               -- every configuration the chains propose goes to tb (at most 70 at 4/4).
               fallback = { threshold = 1e-9, flush_interval = 8 } }
)");
  const auto t = cli(dir, "train sur.lua -q --no-evaluate");
  ASSERT_EQ(t.status, 0) << t.output;

  const auto m = cli(dir, "mc sur.lua -q");
  ASSERT_EQ(m.status, 0) << m.output;
  EXPECT_NE(m.output.find("DFT fallback: ensemble energy std > 1e-09 Ry -> driver 'tb'"),
            std::string::npos)
      << m.output;
  const long answered = number_after(m.output, "DFT fallbacks:");
  const long fresh = number_after(m.output, "proposals answered by DFT,");
  ASSERT_GT(answered, 0) << m.output;
  ASSERT_GT(fresh, 0) << m.output;
  EXPECT_LE(fresh, 70 - 3);  // only 4/4 configurations the dataset does not hold yet
  const dataset::Dataset d = dataset::read_dataset(dir / "data.h5");
  EXPECT_EQ(d.rows(), rows0 + fresh);
  const long acquired = std::count(d.origin.begin(), d.origin.end(),
                                   static_cast<std::int8_t>(dataset::Origin::acquired));
  EXPECT_EQ(acquired, fresh);
  for (std::size_t r = 0; r < d.rows(); ++r) {
    if (d.origin[r] == static_cast<std::int8_t>(dataset::Origin::acquired)) {
      EXPECT_EQ(d.composition[r], 4);
    }
  }
  EXPECT_NE(
      read_file(dir / "sur_mc_results.json")
          .find(fmt::format(R"("fallback": {{"enabled": true, "fallbacks": {}, "acquired": {})",
                            answered, fresh)),
      std::string::npos);

  // Step 3: retrain on the enlarged dataset; the old model is kept.
  const auto rt = cli(dir, "retrain sur.lua -q --epochs 20");
  ASSERT_EQ(rt.status, 0) << rt.output;
  EXPECT_NE(rt.output.find(fmt::format("({} rows, {} acquired", d.rows(), fresh)),
            std::string::npos)
      << rt.output;
  EXPECT_NE(rt.output.find(fmt::format("trained on {} rows", d.rows())), std::string::npos)
      << rt.output;
  EXPECT_TRUE(std::filesystem::exists(dir / "model.prev.h5"));

  // Step 4: the next run uses the retrained ensemble; configurations acquired before are
  // answered from the dataset, not recomputed.
  const auto m2 = cli(dir, "mc sur.lua -q --restart");
  ASSERT_EQ(m2.status, 0) << m2.output;
  EXPECT_NE(m2.output.find(fmt::format("({} known configurations preloaded)", d.rows())),
            std::string::npos)
      << m2.output;
  const long fresh2 = number_after(m2.output, "proposals answered by DFT,");
  EXPECT_GE(fresh2, 0);
  EXPECT_EQ(dataset::read_dataset(dir / "data.h5").rows(), d.rows() + fresh2);
}

namespace {
CommandResult mpi_cli(const TempDir& dir, int np, const std::string& args) {
  return run_command(fmt::format(
      "cd '{}' && OMP_NUM_THREADS=1 mpirun --oversubscribe --allow-run-as-root -np {} '{}' {}",
      dir.path().string(), np, cli_path().string(), args));
}
// The data lines of a thermo TSV (its comments carry run times).
std::string data_lines(const std::string& tsv) {
  std::stringstream in(tsv);
  std::string line, out;
  while (std::getline(in, line))
    if (!line.empty() && line[0] != '#') out += line + "\n";
  return out;
}
}  // namespace

// `mpirun -np 2 lsms-surrogate mc`: the serial run's chains spread over the ranks give the same
// table (exact `pair` energies, same random streams), for independent chains and annealing;
// per-rank checkpoints resume; too many ranks and Wang-Landau refuse several ranks clearly.
TEST(McCli, MetropolisChainsSpreadOverMpiRanks) {
  if (run_command("mpirun --version").status != 0) GTEST_SKIP() << "mpirun not found";
  TempDir dir;
  const std::string head = std::string(kSystem) + "driver = 'pair'\n";
  dir.write("chains.lua", head +
                              "montecarlo = { composition = 4, temperatures = {4000, 2000, "
                              "1000}, walkers = 3, sweeps = 40, equilibration = 5, blocks = 4, "
                              "plot = false }\n");
  dir.write("anneal.lua", head +
                              "montecarlo = { composition = 4, temperatures = {4000, 1000}, "
                              "schedule = 'anneal', walkers = 4, sweeps = 40, "
                              "equilibration = 5, blocks = 4, plot = false }\n");
  for (const std::string stem : {"chains", "anneal"}) {
    auto serial = cli(dir, "mc " + stem + ".lua -q --restart");
    ASSERT_EQ(serial.status, 0) << serial.output;
    const std::string expected = data_lines(read_file(dir / (stem + "_mc_thermo.tsv")));
    ASSERT_GE(std::count(expected.begin(), expected.end(), '\n'), 3);
    auto par = mpi_cli(dir, 2, "mc " + stem + ".lua -q --restart");
    ASSERT_EQ(par.status, 0) << par.output;
    EXPECT_NE(par.output.find("chains spread over 2 MPI ranks"), std::string::npos) << par.output;
    EXPECT_NE(par.output.find(stem + "_mc_checkpoint.rank0of2.h5 ... " + stem +
                              "_mc_checkpoint.rank1of2.h5 (one per rank)"),
              std::string::npos)
        << par.output;
    EXPECT_EQ(data_lines(read_file(dir / (stem + "_mc_thermo.tsv"))), expected) << stem;
    for (const char* r : {"rank0of2", "rank1of2"})
      EXPECT_TRUE(std::filesystem::exists(dir / (stem + "_mc_checkpoint." + r + ".h5"))) << r;
    auto again = mpi_cli(dir, 2, "mc " + stem + ".lua -q");
    ASSERT_EQ(again.status, 0) << again.output;
    EXPECT_NE(again.output.find("run complete"), std::string::npos) << again.output;
    EXPECT_EQ(data_lines(read_file(dir / (stem + "_mc_thermo.tsv"))), expected) << stem;
  }
  // More ranks than chains, Wang-Landau: a clear error and a non-zero exit, no hanging rank.
  auto many = mpi_cli(dir, 5, "mc anneal.lua -q --restart");
  EXPECT_NE(many.status, 0);
  EXPECT_NE(many.output.find("5 MPI ranks for 4 Monte Carlo chains"), std::string::npos)
      << many.output;
  dir.write("wl.lua", head +
                          "montecarlo = { method = 'wang_landau', composition = 4, walkers = "
                          "2, temperatures = {3000}, plot = false }\n");
  auto wl = mpi_cli(dir, 2, "mc wl.lua -q");
  EXPECT_NE(wl.status, 0);
  EXPECT_NE(wl.output.find("on a single rank"), std::string::npos) << wl.output;
}
