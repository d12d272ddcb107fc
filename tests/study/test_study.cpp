// `lsms-surrogate study` end to end on an 8-site fcc cell with the embedded tb engine (a few
// configurations, a few epochs): the report folder's tables, figures and pages, the resume
// (every stage skipped on a rerun, a removed marker reruns that stage and the later ones), a
// bad model entry, and the page rendered headless by chromium with its images loaded.
#include <gtest/gtest.h>

#include <filesystem>
#include <regex>

#include "fixtures.hpp"
#include "study/page.hpp"
#include "study/settings.hpp"
#include "study/stages.hpp"
#include "test_support.hpp"

using namespace lsmss;
using namespace lsmss::test;
namespace fs = std::filesystem;

namespace {

const std::string kDeck = fixtures::cuau_system_lua("{1,1,2}") + R"(
driver = "tb"
tb = { final_kpoints = "none" }
sampling = { cap = 4, seed = 1, test_fraction = 0.25, folds = 2 }
dataset = { file = "tiny.h5" }
training = { architecture = { shared = {8}, task_specific = 8 }, learning_rate = 1e-3,
             epochs = 20, batch_fraction = 0.5 }
montecarlo = { composition = 4, temperatures = {3000, 1000}, walkers = 2, sweeps = 10,
               equilibration = 2, blocks = 2, shells = 1 }
study = {
  report = "tiny_report",
  models = {
    { name = "STL E", tasks = {"energy"}, architecture = { shared = {8} } },
    { name = "MTL E+C", tasks = {"energy", "charge"} },
  },
  cost_predictions = 50,
}
)";

CommandResult cli(const TempDir& dir, const std::string& args) {
  return run_command(fmt::format("cd '{}' && OMP_NUM_THREADS=1 '{}' {}", dir.path().string(),
                                 cli_path().string(), args));
}

bool have(const std::string& program) {
  return run_command("command -v " + program + " >/dev/null").status == 0;
}

// Renders index.html headless inside a checker page that counts the images that loaded.
std::string render_page(const fs::path& report) {
  const fs::path checker = report / "render_check.html";
  std::ofstream(checker) << R"(<!DOCTYPE html><html><body><iframe id="f" src="index.html"></iframe>
<script>
document.getElementById('f').onload = function () {
  var d = this.contentDocument, imgs = d.images, ok = 0;
  for (var i = 0; i < imgs.length; ++i) if (imgs[i].complete && imgs[i].naturalWidth > 0) ++ok;
  var p = document.createElement('p');
  p.textContent = 'RENDERED tables=' + d.getElementsByTagName('table').length + ' images=' +
                  imgs.length + ' loaded=' + ok;
  document.body.appendChild(p);
};
</script></body></html>
)";
  return run_command(
             "timeout 120 chromium --headless --no-sandbox --disable-gpu "
             "--allow-file-access-from-files --virtual-time-budget=5000 --dump-dom 'file://" +
             fs::absolute(checker).string() + "' 2>/dev/null")
      .output;
}

}  // namespace

TEST(Study, EndToEndReportResumeAndRender) {
  TempDir dir;
  dir.write("tiny.lua", kDeck);
  const auto r = cli(dir, "study tiny.lua -q");
  ASSERT_EQ(r.status, 0) << r.output;
  const fs::path rep = dir / "tiny_report";
  for (const char* f : {"index.html", "report.md", "table_rmse.csv", "rmse_folds.csv", "cost.csv",
                        "parity_energy.csv", "parity_charge.csv", "rmse_composition.csv",
                        "learning_curves.csv", "mc_thermo.tsv", "models/stl_e.h5",
                        "models/mtl_e_c.h5", "stages/dataset.done", "stages/report.done"})
    EXPECT_TRUE(fs::exists(rep / f)) << f << "\n" << r.output;
  // Table 2/3 shape: mean +- std over the 2 fold models, per model and task, with units.
  const std::string table = read_file(rep / "table_rmse.csv");
  EXPECT_TRUE(std::regex_search(table, std::regex("\nSTL E,energy,2,[0-9.e+-]+,[0-9.e+-]+,Ry,")))
      << table;
  EXPECT_TRUE(std::regex_search(table, std::regex("\nMTL E\\+C,charge,2,[0-9.e+-]+,[0-9.e+-]+,e,")))
      << table;
  EXPECT_EQ(table.find("STL E,charge"), std::string::npos) << table;
  const std::string cost = read_file(rep / "cost.csv");
  EXPECT_TRUE(std::regex_search(cost, std::regex("\"one driver calculation\",[0-9]"))) << cost;
  EXPECT_TRUE(std::regex_search(cost, std::regex("\"one surrogate prediction\",[0-9]"))) << cost;
  // The one-screen summary and the MTL/STL line.
  EXPECT_NE(r.output.find("MTL E+C vs STL E: energy RMSE"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("stages run now: dataset train_stl_e train_mtl_e_c evaluate "
                          "montecarlo report; done before: none"),
            std::string::npos)
      << r.output;

  // Rerun: every stage is skipped and the summary printed again.
  const auto again = cli(dir, "study tiny.lua -q");
  ASSERT_EQ(again.status, 0) << again.output;
  EXPECT_EQ(again.output.find("running"), std::string::npos) << again.output;
  EXPECT_NE(again.output.find("stages run now: none"), std::string::npos) << again.output;
  // A removed marker reruns that stage and every later one, not the earlier ones.
  fs::remove(rep / "stages" / "train_mtl_e_c.done");
  const auto partial = cli(dir, "study tiny.lua -q");
  ASSERT_EQ(partial.status, 0) << partial.output;
  EXPECT_NE(partial.output.find("stages run now: train_mtl_e_c evaluate montecarlo report; done "
                                "before: dataset train_stl_e"),
            std::string::npos)
      << partial.output;

  if (!have("gnuplot")) {
    GTEST_SKIP() << "gnuplot is not installed (scripts/install-deps.sh installs it): figures "
                    "and the page render are not checked";
  }
  for (const char* f : {"parity_energy", "parity_charge", "learning_curves", "rmse_composition",
                        "fold_scatter", "mc_thermo"}) {
    EXPECT_TRUE(fs::exists(rep / (std::string(f) + ".png"))) << f << "\n" << r.output;
    EXPECT_TRUE(fs::exists(rep / (std::string(f) + ".svg"))) << f;
    EXPECT_NE(read_file(rep / "index.html").find(std::string("src=\"") + f + ".png\""),
              std::string::npos)
        << f;
  }
  if (!have("chromium")) {
    GTEST_SKIP() << "chromium is not installed (scripts/install-deps.sh installs it): the page "
                    "is not rendered";
  }
  const std::string dom = render_page(rep);
  EXPECT_NE(dom.find("RENDERED tables=2 images=6 loaded=6"), std::string::npos) << dom;
}

TEST(Study, BadModelEntryNamesTheModelAndKey) {
  TempDir dir;
  std::string deck = kDeck;
  deck.replace(deck.find("tasks = {\"energy\", \"charge\"}"), 0, "epohcs = 3, ");
  dir.write("bad.lua", deck);
  const auto r = cli(dir, "study bad.lua -q");
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_NE(r.output.find("study model 'MTL E+C'"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("epohcs"), std::string::npos) << r.output;
  EXPECT_FALSE(fs::exists(dir / "tiny.h5")) << "nothing is computed before the deck is valid";
}

TEST(Study, MtlAgainstStlFromTheTable) {
  std::vector<study::FoldError> e = {{"STL E", "energy", "Ry", 0, 2.0, 1.0},
                                     {"STL E", "energy", "Ry", 1, 4.0, 2.0},
                                     {"MTL E+C", "energy", "Ry", 0, 1.0, 0.5},
                                     {"MTL E+C", "energy", "Ry", 1, 1.0, 0.5},
                                     {"MTL E+C", "charge", "e", 0, 0.1, std::nan("")},
                                     {"MTL E+C", "charge", "e", 1, 0.3, std::nan("")},
                                     {"CE E+C", "energy", "Ry", 0, 0.5, 0.2},
                                     {"CE E+C", "charge", "e", 0, 0.1, std::nan("")}};
  const auto t = study::summarize(e, {"STL E", "MTL E+C", "CE E+C"});
  ASSERT_EQ(t.size(), 5u);
  EXPECT_DOUBLE_EQ(t[0].mean, 3.0);
  EXPECT_NEAR(t[0].std, std::sqrt(2.0), 1e-12);
  EXPECT_NEAR(t[2].std, std::sqrt(0.02), 1e-12);
  EXPECT_TRUE(std::isnan(t[2].mev_mean));
  // The cluster expansion fits two tasks but is no MTL network: not compared.
  const auto lines = study::mtl_vs_stl(t, {"STL E", "MTL E+C"});
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_NE(lines[0].find("(0.33x)"), std::string::npos) << lines[0];
  EXPECT_NE(lines[0].find("MTL has the lower mean error and the smaller spread"), std::string::npos)
      << lines[0];
  EXPECT_EQ(study::slug_of("MTL E+C"), "mtl_e_c");
}

// The shipped study decks are valid, every model entry included (the lsms ones name the LSMS
// beside the checkout, ../shared, for their driver block).
TEST(Study, ExampleDecksPassCheck) {
  const bool shared_lsms = fs::exists(source_dir() / ".." / "shared" / "lsms" / "bin" / "lsms_asa");
  for (const char* system : {"cuau", "fept"})
    for (const char* variant : {"tb_quick", "tb_full", "lsms_quick", "lsms_full"}) {
      const fs::path deck = source_dir() / "examples" / system / (std::string(variant) + ".lua");
      ASSERT_TRUE(fs::exists(deck)) << deck;
      if (std::string(variant).rfind("lsms", 0) == 0 && !shared_lsms) continue;
      const auto r =
          run_command(fmt::format("'{}' check '{}'", cli_path().string(), deck.string()));
      EXPECT_EQ(r.status, 0) << deck << "\n" << r.output;
      EXPECT_NE(r.output.find("study     OK (STL E, STL C"), std::string::npos) << r.output;
    }
}

// study.search: without the fragment the study says so and goes on; once `search` has written
// it, a rerun trains it as one more model ("search") and redoes evaluation and report only.
TEST(Study, SearchWinnerFragmentBecomesOneMoreModel) {
  TempDir dir;
  std::string deck = kDeck;
  deck.replace(deck.find("cost_predictions = 50,"), 0,
               "search = 'winner.lua', montecarlo = false, ");
  dir.write("s.lua", deck);
  const auto first = cli(dir, "study s.lua -q");
  ASSERT_EQ(first.status, 0) << first.output;
  EXPECT_NE(first.output.find("study.search = 'winner.lua' does not exist yet"), std::string::npos)
      << first.output;
  // What `lsms-surrogate search` writes (docs/search.md).
  dir.write("winner.lua",
            "-- lsms-surrogate search winner\n"
            "return {\n  shared = {6, 6},\n  shared_activations = {'tanh', 'relu'},\n}\n");
  const auto second = cli(dir, "study s.lua -q");
  ASSERT_EQ(second.status, 0) << second.output;
  EXPECT_NE(second.output.find("stages run now: train_search evaluate report; done before: "
                               "dataset train_stl_e train_mtl_e_c"),
            std::string::npos)
      << second.output;
  const std::string table = read_file(dir / "tiny_report" / "table_rmse.csv");
  EXPECT_NE(table.find("\nsearch,energy,2,"), std::string::npos) << table;
  const std::string md = read_file(dir / "tiny_report" / "report.md");
  EXPECT_NE(md.find("- search: network 16-6(tanh)-6-[8]-1,"), std::string::npos) << md;
}

// Markers keep a stage's measurements; a damaged marker is an error naming file and line.
TEST(Study, StageMarkersRoundTripAndDamage) {
  TempDir dir;
  const study::StageMarkers markers(dir.path());
  EXPECT_FALSE(markers.finished("train_stl_e"));
  markers.mark("train_stl_e", {{"seconds", 12.5}, {"folds", 4}});
  const auto m = markers.finished("train_stl_e");
  ASSERT_TRUE(m);
  EXPECT_DOUBLE_EQ(m->at("seconds"), 12.5);
  EXPECT_DOUBLE_EQ(m->at("folds"), 4);
  std::ofstream(markers.marker("train_stl_e"), std::ios::app) << "seconds 3\n";
  try {
    markers.finished("train_stl_e");
    ADD_FAILURE() << "a damaged marker was read";
  } catch (const std::exception& e) {
    EXPECT_NE(std::string(e.what()).find("train_stl_e.done:4: expected 'key = number'"),
              std::string::npos)
        << e.what();
  }
}
