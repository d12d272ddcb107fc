// The builder in-process (serial) with the FakeDriver: exact results, failures and retries,
// resume without loss, refusal of changed decks, torn tails, corrupt and foreign files,
// read_dataset / append_results.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <map>
#include <memory>
#include <set>
#include <unordered_map>
#include <unordered_set>

#include "core/hdf5.hpp"
#include "dataset_builder/builder.hpp"
#include "dataset_builder/dataset.hpp"
#include "dataset_builder/report.hpp"
#include "dataset_builder/sampling.hpp"
#include "dataset_builder/store.hpp"
#include "fake_driver.hpp"
#include "fixtures.hpp"
#include "test_support.hpp"

using namespace lsmss;
using namespace lsmss::dataset;

// Hash sets: ordered containers of configurations trip a GCC 12 false -Wstringop-overread.
using ConfigSet = std::unordered_set<lsmss::Configuration, lsmss::ConfigurationHash>;

namespace {

// Shared state of the test drivers (the registry's factories create fresh instances).
struct Script {
  std::set<std::uint64_t> fail;  // config hashes that always fail
  long calls = 0;                // configurations evaluated, over all instances
  bool throw_error = false;      // evaluate() throws
  bool drop_energy = false;      // claims ok without an energy
  std::string model = "1";       // what effective_settings() reports (a changed default)
};

class ScriptedDriver : public Driver {
 public:
  ScriptedDriver(const System& sys, double v, Script& s)
      : sys_(sys), fake_(sys_, -1.0, v, s.fail), s_(s) {}
  std::string name() const override { return "fake"; }
  PropertyMask provides() const override { return fake_.provides(); }
  std::vector<std::string> effective_settings() const override { return {"model = " + s_.model}; }
  std::vector<Properties> evaluate(std::span<const Configuration> configs) override {
    s_.calls += static_cast<long>(configs.size());
    if (s_.throw_error) throw Error("the fake code crashed");
    auto out = fake_.evaluate(configs);
    if (s_.drop_energy)
      for (auto& p : out) p.energy.reset();
    return out;
  }

 private:
  System sys_;
  test::FakeDriver fake_;
  Script& s_;
};

struct Fixture {
  test::TempDir dir;
  Script script;
  DriverRegistry registry;
  Fixture() {
    registry.add("fake", "test double",
                 [this](const DriverContext& ctx) -> std::unique_ptr<Driver> {
                   return std::make_unique<ScriptedDriver>(ctx.system,
                                                           ctx.settings.number("v", 0.25), script);
                 });
  }
  // fcc 2x1x1: 8 sites; cap 5 gives 1+5*7+1 = 37 configurations.
  std::string deck_text(const std::string& extra_sampling = "",
                        const std::string& fake = "v = 0.25",
                        const std::string& extra_dataset = "") const {
    return fixtures::cuau_system_lua("{2,1,1}") +
           fmt::format(
               "driver = 'fake'\nfake = {{ {} }}\nsampling = {{ cap = 5, seed = 3, folds = 4{} }}\n"
               "dataset = {{ file = '{}', retries = 2{} }}\n",
               fake, extra_sampling, (dir / "data.h5").string(), extra_dataset);
  }
  BuildSummary build(const std::string& text, BuildOptions opts = {}) const {
    const Deck deck = Deck::from_string(text, "test.lua");
    const System sys = System::from_deck(deck.root().table("system"));
    opts.progress = false;
    opts.verbose = false;
    return build_dataset(deck, sys, registry, opts);
  }
  std::filesystem::path file() const { return dir / "data.h5"; }
};

std::map<std::int64_t, int> ok_rows_per_config(const DatasetFile& f) {
  std::map<std::int64_t, int> m;
  for (std::size_t r = 0; r < f.results().rows(); ++r)
    if (f.results().row_status(r) == Status::ok) ++m[f.results().config[r]];
  return m;
}

}  // namespace

TEST(Builder, ComputesEveryPlannedConfigurationOnce) {
  Fixture fx;
  const auto s = fx.build(fx.deck_text());
  EXPECT_FALSE(s.resumed);
  EXPECT_EQ(s.planned, 37u);
  EXPECT_EQ(s.calculated, 37u);
  EXPECT_EQ(fx.script.calls, 37);

  const Dataset d = read_dataset(fx.file());
  ASSERT_EQ(d.rows(), 37u);
  EXPECT_EQ(d.num_sites, 8);
  EXPECT_EQ(d.num_folds, 4);
  EXPECT_EQ(d.driver, "fake");
  EXPECT_EQ(d.available, kEnergy | kCharge | kMoment);
  EXPECT_EQ(d.system.name(), "CuAu");
  const Deck deck = Deck::from_string(fx.deck_text(), "t.lua");
  const System sys = System::from_deck(deck.root().table("system"));
  test::FakeDriver ref(sys, -1.0, 0.25);
  ConfigSet seen;
  for (std::size_t r = 0; r < d.rows(); ++r) {
    const Configuration c = d.configuration(r);
    EXPECT_TRUE(seen.insert(c).second);
    EXPECT_EQ(d.composition[r], c.composition());
    EXPECT_EQ(d.energy[r], ref.energy(c));  // bit-identical: the file stores doubles
    EXPECT_EQ(d.charge[r * 8], sys.species[c[0]].Z + (c[0] == 0 ? 0.1 : -0.1));
    EXPECT_EQ(d.origin[r], static_cast<std::int8_t>(Origin::sampled));
  }
  // The splits stored are the plan's.
  SamplingSettings ss;
  ss.cap = 5, ss.seed = 3, ss.folds = 4;
  const Plan plan = make_plan(sys, ss);
  ASSERT_EQ(plan.configs.size(), d.rows());
  for (std::size_t r = 0; r < d.rows(); ++r) {
    EXPECT_EQ(d.configuration(r), plan.configs[r]);
    EXPECT_EQ(d.fold[r], plan.fold[r]);
  }
  // Attributes a reader needs.
  h5::File f = h5::File::open(fx.file());
  EXPECT_EQ(h5::read_attr_string(f, "format"), kFormatName);
  EXPECT_EQ(h5::read_attr_string(f, "driver"), "fake");
  EXPECT_EQ(h5::read_attr_int(f, "seed"), 3);
  EXPECT_EQ(h5::read_attr_strings(f, "species"), (std::vector<std::string>{"Cu", "Au"}));
  EXPECT_NE(h5::read_attr_string(f, "deck").find("supercell"), std::string::npos);
  h5::Handle e(H5Dopen2(f, "/results/energy", H5P_DEFAULT), H5Dclose);
  EXPECT_EQ(h5::read_attr_string(e, "units"), "Ry");
}

TEST(Builder, FailuresAreRecordedRetriedAndNeverData) {
  Fixture fx;
  {
    const Deck deck = Deck::from_string(fx.deck_text(), "t.lua");
    const System sys = System::from_deck(deck.root().table("system"));
    SamplingSettings ss;
    ss.cap = 5, ss.seed = 3, ss.folds = 4;
    const Plan plan = make_plan(sys, ss);
    fx.script.fail = {plan.configs[3].hash(), plan.configs[20].hash()};
  }
  auto s = fx.build(fx.deck_text());
  EXPECT_EQ(s.calculated, 37u + 2u * 2u);  // two failures, each tried 1 + 2 retries
  EXPECT_EQ(s.failed_attempts, 6u);
  std::size_t failed = 0;
  for (const auto& c : s.compositions) failed += c.failed;
  EXPECT_EQ(failed, 2u);
  {
    const DatasetFile f = DatasetFile::open(fx.file(), h5::Mode::read);
    const auto& r = f.results();
    std::map<std::int64_t, std::vector<int>> attempts;
    for (std::size_t k = 0; k < r.rows(); ++k)
      if (r.row_status(k) != Status::ok) {
        attempts[r.config[k]].push_back(r.attempt[k]);
        EXPECT_EQ(r.message[k], "scripted failure");
        EXPECT_TRUE(std::isnan(r.energy[k]));
      }
    EXPECT_EQ(attempts,
              (std::map<std::int64_t, std::vector<int>>{{3, {1, 2, 3}}, {20, {1, 2, 3}}}));
  }
  EXPECT_EQ(read_dataset(fx.file()).rows(), 35u);
  // A rerun does not retry configurations that used up their attempts...
  fx.script.calls = 0;
  s = fx.build(fx.deck_text());
  EXPECT_TRUE(s.resumed);
  EXPECT_EQ(fx.script.calls, 0);
  // ...unless asked to; now they succeed.
  fx.script.fail.clear();
  BuildOptions o;
  o.retry_failed = true;
  s = fx.build(fx.deck_text(), o);
  EXPECT_EQ(fx.script.calls, 2);
  EXPECT_EQ(read_dataset(fx.file()).rows(), 37u);
}

TEST(Builder, DriverErrorsAndUnusableResultsBecomeFailures) {
  Fixture fx;
  fx.script.throw_error = true;
  auto s = fx.build(fx.deck_text("", "v = 0.25", ", retries = 0"));
  EXPECT_EQ(s.failed_attempts, 37u);
  {
    const DatasetFile f = DatasetFile::open(fx.file(), h5::Mode::read);
    EXPECT_EQ(f.results().message[0], "driver error: the fake code crashed");
  }
  EXPECT_EQ(read_dataset(fx.file()).rows(), 0u);
  std::filesystem::remove(fx.file());
  fx.script.throw_error = false;
  fx.script.drop_energy = true;
  s = fx.build(fx.deck_text("", "v = 0.25", ", retries = 0"));
  EXPECT_EQ(s.failed_attempts, 37u);
  const DatasetFile f = DatasetFile::open(fx.file(), h5::Mode::read);
  EXPECT_EQ(f.results().message[0], "unusable result: no energy");
  EXPECT_EQ(f.results().row_status(0), Status::failed);

  Properties p;
  p.status = Status::ok;
  p.energy = 1.0;
  p.charge = {1.0, NAN};
  p.moment = {0.0, 0.0};
  EXPECT_EQ(check_result(p, kEnergy | kCharge | kMoment, 2), "a charge value is not finite");
  p.charge = {1.0};
  EXPECT_EQ(check_result(p, kEnergy | kCharge, 2), "1 charge values for 2 sites");
  p.charge = {1.0, 2.0};
  EXPECT_EQ(check_result(p, kEnergy | kCharge | kMoment, 2), "");
}

TEST(Builder, ResumeNeverRecomputesOrLosesAResult) {
  Fixture fx;
  BuildOptions part;
  part.max_calculations = 11;
  auto s = fx.build(fx.deck_text(), part);
  EXPECT_EQ(s.calculated, 11u);
  EXPECT_EQ(read_dataset(fx.file()).rows(), 11u);
  part.max_calculations = 7;
  s = fx.build(fx.deck_text(), part);
  EXPECT_TRUE(s.resumed);
  EXPECT_EQ(read_dataset(fx.file()).rows(), 18u);
  s = fx.build(fx.deck_text());
  EXPECT_EQ(s.calculated, 37u - 18u);
  EXPECT_EQ(fx.script.calls, 37);
  const DatasetFile f = DatasetFile::open(fx.file(), h5::Mode::read);
  EXPECT_EQ(f.results().rows(), 37u);
  for (const auto& [c, n] : ok_rows_per_config(f)) EXPECT_EQ(n, 1) << "config " << c;
  EXPECT_EQ(ok_rows_per_config(f).size(), 37u);

  // Identical content to an uninterrupted build into another file.
  Fixture other;
  other.build(other.deck_text());
  EXPECT_EQ(read_dataset(fx.file()).fingerprint(), read_dataset(other.file()).fingerprint());
}

TEST(Builder, ResumeRefusesADeckThatChangesTheDataset) {
  Fixture fx;
  BuildOptions part;
  part.max_calculations = 5;
  fx.build(fx.deck_text(), part);
  const auto size = std::filesystem::file_size(fx.file());
  try {
    fx.build(fx.deck_text(", test_fraction = 0.2"));
    FAIL() << "a changed test fraction was accepted";
  } catch (const Error& e) {
    const std::string m = e.what();
    EXPECT_NE(
        m.find(
            "sampling.test_fraction: file has 0.10000000000000001, deck has 0.20000000000000001"),
        std::string::npos)
        << m;
    EXPECT_NE(m.find("cannot be resumed"), std::string::npos) << m;
  }
  std::string changed = fx.deck_text();
  changed.replace(changed.find("{2,1,1}"), 7, "{1,2,1}");
  EXPECT_THROW(fx.build(changed), Error);
  try {
    fx.build(fx.deck_text("", "v = 0.5"));
    FAIL() << "changed driver settings were accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("fake.v: file has 0.25, deck has 0.5"), std::string::npos)
        << e.what();
    EXPECT_NE(std::string(e.what()).find("--allow-driver-change"), std::string::npos) << e.what();
  }
  EXPECT_EQ(std::filesystem::file_size(fx.file()), size);  // untouched
  EXPECT_EQ(read_dataset(fx.file()).rows(), 5u);
  BuildOptions allow;
  allow.allow_driver_change = true;
  EXPECT_EQ(fx.build(fx.deck_text("", "v = 0.5"), allow).calculated, 32u);
}

// The same deck under a driver whose effective settings changed (a new version with other
// defaults, e.g. tb's final k-point pass) would mix two models in one file: refused.
TEST(Builder, ResumeRefusesChangedEffectiveDriverSettings) {
  Fixture fx;
  BuildOptions part;
  part.max_calculations = 5;
  fx.build(fx.deck_text(), part);
  fx.script.model = "2";
  try {
    fx.build(fx.deck_text());
    FAIL() << "a changed model was accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("fake.effective.model: file has 1, deck has 2"),
              std::string::npos)
        << e.what();
  }
  EXPECT_EQ(read_dataset(fx.file()).rows(), 5u);
  fx.script.model = "1";
  EXPECT_EQ(fx.build(fx.deck_text()).calculated, 32u);
}

TEST(Builder, DeckSwitchDropsTranslationEquivalentConfigurations) {
  Fixture fx;
  const auto s = fx.build(fx.deck_text(", unique_translations = true"));
  const Deck deck = Deck::from_string(fx.deck_text(), "t.lua");
  const System sys = System::from_deck(deck.root().table("system"));
  const auto tr = sys.lattice.translations();
  // 8 sites, 8 translations: at most cap = 5 translation classes per composition.
  std::size_t expected = 0;
  for (int k = 0; k <= 8; ++k) expected += std::min<std::uint64_t>(*count_orbits(8, k, tr), 5);
  EXPECT_LT(expected, 37u);
  EXPECT_EQ(s.planned, expected);
  const Dataset d = read_dataset(fx.file());
  ASSERT_EQ(d.rows(), expected);
  ConfigSet classes;
  for (std::size_t r = 0; r < d.rows(); ++r)
    EXPECT_TRUE(classes.insert(d.configuration(r).canonical(tr)).second) << "row " << r;
  h5::File f = h5::File::open(fx.file());
  EXPECT_EQ(h5::read_attr_int(f, "unique_translations"), 1);
  // The switch decides the content: a resume without it is refused.
  EXPECT_THROW(fx.build(fx.deck_text()), Error);
}

TEST(Builder, TornTailIsDroppedAndDamagedRowsKept) {
  Fixture fx;
  BuildOptions part;
  part.max_calculations = 9;
  fx.build(fx.deck_text(), part);
  {
    // A complete row with a bad checksum (damaged: kept, never used), then a row that reached
    // only two of the columns (a torn tail: cut on resume).
    DatasetFile f = DatasetFile::open(fx.file(), h5::Mode::read_write);
    ResultTable rows;
    rows.sites = 8;
    Properties p;
    p.status = Status::ok;
    p.energy = 123.0;
    p.charge.assign(8, 1.0);
    p.moment.assign(8, 0.0);
    rows.push_back({30, 1, p, "fake"}, f.configs().occupation.data() + 30 * 8, f.system());
    rows.checksum[0] ^= 1;
    f.append_results(rows);
  }
  {
    h5::File raw = h5::File::open(fx.file(), h5::Mode::read_write);
    h5::append_rows<double>(raw, "/results/energy", {7.0}, 1);
    h5::append_rows<std::int64_t>(raw, "/results/config", {31}, 1);
  }
  {
    const DatasetFile f = DatasetFile::open(fx.file(), h5::Mode::read);
    EXPECT_EQ(f.results().rows(), 9u);
    EXPECT_EQ(f.torn_result_rows(), 1u);
    EXPECT_EQ(f.damaged_result_rows(), 1u);
    EXPECT_EQ(f.damaged_result_list(), std::vector<std::size_t>{9});
  }
  EXPECT_EQ(read_dataset(fx.file()).rows(), 9u);
  EXPECT_EQ(read_dataset(fx.file()).damaged_rows, 1u);
  const auto s = fx.build(fx.deck_text());
  EXPECT_EQ(s.torn_rows, 1u);
  EXPECT_EQ(s.damaged_rows, 1u);
  EXPECT_EQ(s.calculated, 28u);
  const DatasetFile f = DatasetFile::open(fx.file(), h5::Mode::read);
  EXPECT_EQ(f.torn_result_rows(), 0u);
  EXPECT_EQ(f.damaged_result_rows(), 1u);  // still there, untouched
  EXPECT_EQ(h5::dims(h5::File::open(fx.file()), "/results/energy")[0], 38u);
  for (const auto& [c, n] : ok_rows_per_config(f)) EXPECT_EQ(n, 1);
  EXPECT_EQ(read_dataset(fx.file()).energy.size(), 37u);
}

// A damaged configuration row in the middle (one occupation value out of range, as an edit
// with h5py makes it) is reported, kept, and left out; nothing after it is lost or cut.
TEST(Builder, DamagedConfigRowInTheMiddleIsKeptAndSkipped) {
  Fixture fx;
  fx.build(fx.deck_text());
  const std::size_t rows_before = read_dataset(fx.file()).rows();
  const auto configs_before = h5::dims(h5::File::open(fx.file()), "/configs/occupation")[0];
  const auto results_before = h5::dims(h5::File::open(fx.file()), "/results/energy")[0];
  ASSERT_GT(configs_before, 10u);
  {
    h5::File raw = h5::File::open(fx.file(), h5::Mode::read_write);
    std::vector<std::uint8_t> occ = h5::read_rows<std::uint8_t>(raw, "/configs/occupation", 5, 1);
    occ[3] = 7;  // the deck has 2 species
    h5::write_rows<std::uint8_t>(raw, "/configs/occupation", occ, 5, 1);
  }
  {
    const DatasetFile f = DatasetFile::open(fx.file(), h5::Mode::read);
    EXPECT_EQ(f.torn_config_rows(), 0u);
    EXPECT_EQ(f.damaged_config_rows(), 1u);
    EXPECT_EQ(f.damaged_config_list(), std::vector<std::size_t>{5});
    EXPECT_EQ(f.configs().rows(), configs_before);
    EXPECT_FALSE(f.configs().usable(5));
    EXPECT_GE(f.damaged_result_rows(), 1u);  // its result is unusable too
    char* text = nullptr;
    std::size_t size = 0;
    std::FILE* mem = open_memstream(&text, &size);
    print_file_info(mem, f);
    std::fclose(mem);
    const std::string info(text, size);
    std::free(text);
    EXPECT_NE(info.find("DAMAGED"), std::string::npos) << info;
    EXPECT_NE(info.find("/configs rows 5"), std::string::npos) << info;
  }
  const Dataset d = read_dataset(fx.file());
  EXPECT_EQ(d.rows(), rows_before - 1);  // only the damaged one is left out
  EXPECT_GE(d.damaged_rows, 2u);
  // build on the file neither drops nor recomputes anything.
  const auto s = fx.build(fx.deck_text());
  EXPECT_EQ(s.torn_rows, 0u);
  EXPECT_EQ(s.calculated, 0u);
  EXPECT_EQ(h5::dims(h5::File::open(fx.file()), "/configs/occupation")[0], configs_before);
  EXPECT_EQ(h5::dims(h5::File::open(fx.file()), "/results/energy")[0], results_before);
  EXPECT_EQ(read_dataset(fx.file()).rows(), rows_before - 1);
}

TEST(Builder, CorruptOrForeignFilesGiveClearErrors) {
  Fixture fx;
  const auto junk = fx.dir.write("junk.h5", std::string(4096, 'x'));
  try {
    read_dataset(junk);
    FAIL();
  } catch (const FileError& e) {
    EXPECT_NE(std::string(e.what()).find("junk.h5: not an HDF5 file"), std::string::npos)
        << e.what();
  }
  const auto foreign = fx.dir / "foreign.h5";
  {
    h5::File f = h5::File::create(foreign);
    h5::write<double>(f, "x", {1.0, 2.0});
  }
  try {
    read_dataset(foreign);
    FAIL();
  } catch (const FileError& e) {
    EXPECT_NE(std::string(e.what()).find("not an lsms-surrogate dataset"), std::string::npos)
        << e.what();
  }
  // A dataset with a missing group, and one cut in half.
  fx.build(fx.deck_text());
  const auto cut = fx.dir / "cut.h5";
  std::filesystem::copy_file(fx.file(), cut);
  std::filesystem::resize_file(cut, std::filesystem::file_size(cut) / 2);
  EXPECT_THROW(read_dataset(cut), FileError);
  {
    h5::File f = h5::File::open(fx.file(), h5::Mode::read_write);
    H5Ldelete(f, "/configs/fold", H5P_DEFAULT);
  }
  try {
    read_dataset(fx.file());
    FAIL();
  } catch (const FileError& e) {
    EXPECT_NE(std::string(e.what()).find("/configs/fold"), std::string::npos) << e.what();
  }
  // build refuses to touch a foreign file.
  const auto before = test::read_file(foreign);
  try {
    BuildOptions to_foreign;
    to_foreign.output = foreign;
    fx.build(fx.deck_text(), to_foreign);
    FAIL();
  } catch (const FileError& e) {
    EXPECT_NE(std::string(e.what()).find("foreign.h5: not an lsms-surrogate dataset"),
              std::string::npos);
  }
  EXPECT_EQ(test::read_file(foreign), before);
}

TEST(Builder, AppendResultsAddsRowsWithoutRewriting) {
  Fixture fx;
  fx.build(fx.deck_text());
  const Dataset before = read_dataset(fx.file());
  const Deck deck = Deck::from_string(fx.deck_text(), "t.lua");
  const System sys = System::from_deck(deck.root().table("system"));
  test::FakeDriver drv(sys, -1.0, 0.25);
  // One configuration already present (ignored), two new ones (one ok, one failed).
  std::vector<Configuration> configs = {before.configuration(4)};
  const ConfigSet have = [&] {
    ConfigSet s;
    for (std::size_t r = 0; r < before.rows(); ++r) s.insert(before.configuration(r));
    return s;
  }();
  for (std::uint32_t bits = 0; configs.size() < 3; ++bits) {
    std::vector<std::uint8_t> occ(8);
    for (int i = 0; i < 8; ++i) occ[i] = (bits >> i) & 1u;
    if (!have.count(Configuration(occ))) configs.emplace_back(occ);
  }
  auto results = drv.evaluate(configs);
  results[0].energy = 999.0;  // must not replace the existing result
  results[2].status = Status::not_converged;
  append_results(fx.file(), configs, results, Origin::acquired);
  const Dataset after = read_dataset(fx.file());
  ASSERT_EQ(after.rows(), before.rows() + 1);
  for (std::size_t r = 0; r < before.rows(); ++r) EXPECT_EQ(after.energy[r], before.energy[r]);
  EXPECT_EQ(after.configuration(after.rows() - 1), configs[1]);
  EXPECT_EQ(after.origin.back(), static_cast<std::int8_t>(Origin::acquired));
  EXPECT_EQ(after.fold.back(), fold_for_hash(configs[1].hash(), 4, 0.1, 3));
  // Appending again changes nothing for finished configurations; the failed one gets its
  // second attempt.
  results[2].status = Status::ok;
  append_results(fx.file(), configs, results, Origin::acquired);
  const DatasetFile f = DatasetFile::open(fx.file(), h5::Mode::read);
  EXPECT_EQ(f.configs().rows(), 39u);
  EXPECT_EQ(f.results().rows(), 37u + 2u + 1u);
  EXPECT_EQ(f.results().attempt.back(), 2);
  EXPECT_EQ(read_dataset(fx.file()).rows(), before.rows() + 2);
  EXPECT_THROW(append_results(fx.file(), {Configuration::from_string("0101")}, {results[0]},
                              Origin::acquired),
               Error);
}
