// Import of LSMS info_evec files: the real samples (site mapping, species from Z), validation of
// a synthetic set with every kind of problem, archives, and the options.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>

#include "core/hdf5.hpp"
#include "dataset_builder/dataset.hpp"
#include "dataset_builder/importer.hpp"
#include "dataset_builder/store.hpp"
#include "fixtures.hpp"
#include "lsms_plugin/info_evec.hpp"
#include "test_support.hpp"

using namespace lsmss;
using namespace lsmss::dataset;

namespace {

const auto kSamples = test::shared_dir() / "data/lsms/samples";

const std::string kCuAu = fixtures::cuau_system_lua();
const std::string kFePt = fixtures::fept_system_lua();

struct Run {
  Deck deck;
  System sys;
};
Run deck(const std::string& system, const std::filesystem::path& out) {
  Deck d = Deck::from_string(
      system + "sampling = { cap = 1000, seed = 5 }\ndataset = { file = '" + out.string() + "' }\n",
      "import.lua");
  System s = System::from_deck(d.root().table("system"));
  return {std::move(d), std::move(s)};
}

ImportReport run_import(const Run& r, const std::filesystem::path& src, ImportOptions o = {}) {
  o.progress = false;
  return import_lsms(r.deck, r.sys, src, o);
}

std::filesystem::path copy_samples(const test::TempDir& dir, const std::string& which) {
  const auto dst = dir / which;
  std::filesystem::copy(kSamples / which, dst, std::filesystem::copy_options::recursive);
  return dst;
}

}  // namespace

TEST(Import, RealCuAuSamples) {
  test::TempDir dir;
  const auto src = copy_samples(dir, "CuAu_32atoms");
  const auto r = deck(kCuAu, dir / "cuau.h5");
  const auto rep = run_import(r, src);
  EXPECT_EQ(rep.files, 6u);
  EXPECT_EQ(rep.rows, 6u);
  EXPECT_TRUE(rep.skipped.empty());
  EXPECT_EQ(rep.name_pattern, "out_<number>");
  EXPECT_EQ(rep.unusual_names, std::vector<std::string>{"out_"});
  EXPECT_TRUE(rep.moments_all_zero);
  EXPECT_LT(rep.max_neutrality, 2e-5);

  const DatasetFile f = DatasetFile::open(dir / "cuau.h5", h5::Mode::read);
  EXPECT_EQ(f.info().kind, "import");
  EXPECT_EQ(f.info().driver, "lsms");
  ASSERT_EQ(f.configs().rows(), 6u);
  for (std::size_t row = 0; row < 6; ++row) {
    const auto info = lsms::parse_info_evec(src / f.configs().source[row]);
    EXPECT_EQ(f.results().energy[row], info.total_energy);
    EXPECT_EQ(f.results().band_energy[row], info.band_energy);
    EXPECT_EQ(f.results().fermi_energy[row], info.fermi_energy);
    EXPECT_EQ(f.configs().origin[row], static_cast<std::int8_t>(Origin::imported));
    // The file lists the sites in lattice order for CuAu: species and charges line up.
    for (int k = 0; k < 32; ++k) {
      EXPECT_EQ(f.configs().occupation[row * 32 + k], info.atoms[k].Z == 29 ? 0 : 1);
      EXPECT_EQ(f.results().charge[row * 32 + k], info.atoms[k].electrons);
      EXPECT_NEAR(f.results().charge_transfer[row * 32 + k],
                  info.atoms[k].electrons - info.atoms[k].Z, 1e-12);
    }
  }
  const Dataset d = read_dataset(dir / "cuau.h5");
  EXPECT_EQ(d.rows(), 6u);
  EXPECT_EQ(d.available, kEnergy | kCharge | kMoment);
  // The pure-Au file is composition 0 (no Cu).
  const auto it = std::find(f.configs().source.begin(), f.configs().source.end(), "out_0");
  ASSERT_NE(it, f.configs().source.end());
  EXPECT_EQ(f.configs().composition[it - f.configs().source.begin()], 0);
}

TEST(Import, FePtSitesAreMappedByPosition) {
  test::TempDir dir;
  const auto src = copy_samples(dir, "FePt_32atoms");
  const auto r = deck(kFePt, dir / "fept.h5");
  const auto rep = run_import(r, src);
  ASSERT_EQ(rep.rows, 6u);
  EXPECT_TRUE(rep.unusual_names.empty());
  EXPECT_FALSE(rep.moments_all_zero);
  const DatasetFile f = DatasetFile::open(dir / "fept.h5", h5::Mode::read);
  const auto& L = r.sys.lattice;
  int reordered = 0;
  for (std::size_t row = 0; row < f.configs().rows(); ++row) {
    const auto info = lsms::parse_info_evec(src / f.configs().source[row]);
    for (int k = 0; k < 32; ++k) {
      // The lattice site at this position, found by direct comparison of wrapped coordinates.
      int site = -1;
      for (int s = 0; s < 32; ++s) {
        const Vec3 d = L.minimum_image(info.atoms[k].position - L.position(s));
        if (norm(d) < 1e-6) site = s;
      }
      ASSERT_GE(site, 0);
      reordered += site != k;
      EXPECT_EQ(f.configs().occupation[row * 32 + site], info.atoms[k].Z == 26 ? 0 : 1);
      EXPECT_EQ(f.results().moment[row * 32 + site], info.atoms[k].moment);
      EXPECT_EQ(f.results().charge[row * 32 + site], info.atoms[k].electrons);
    }
  }
  EXPECT_GT(reordered, 0) << "the FePt files list sites in another order than the lattice";
}

TEST(Import, ValidationFindsEveryProblemAndSkipsWholeFiles) {
  test::TempDir dir;
  const auto src = dir / "set";
  std::filesystem::create_directories(src);
  const auto base = lsms::parse_info_evec(kSamples / "CuAu_32atoms/out_20000");
  auto write = [&](const std::string& name, const std::string& text) {
    std::ofstream(src / name) << text;
  };
  const std::string text = lsms::format_info_evec(base);
  write("out_1", text);
  write("out_2", text);  // exact duplicate
  auto shifted = base;
  shifted.total_energy += 0.1;
  write("out_3", lsms::format_info_evec(shifted));  // same configuration, different result
  write("out_4", text.substr(0, text.find('\n', text.size() / 3)));  // cut off
  auto missing = base;
  missing.atoms.pop_back();
  write("out_5", lsms::format_info_evec(missing));
  auto foreign = base;
  foreign.atoms[3].Z = 26;
  write("out_6", lsms::format_info_evec(foreign));
  auto charged = base;
  charged.atoms[0].electrons += 0.5;
  write("out_7", lsms::format_info_evec(charged));
  // Twelve more configurations of the same composition (a Cu and an Au atom swap places),
  // one of them with an absurd energy.
  std::vector<int> cu, au;
  for (int k = 0; k < 32; ++k) (base.atoms[k].Z == 29 ? cu : au).push_back(k);
  ASSERT_GE(cu.size() * au.size(), 12u);
  for (int v = 0; v < 12; ++v) {
    auto swapped = base;
    auto& a = swapped.atoms[cu[v % cu.size()]];
    auto& b = swapped.atoms[au[v / cu.size() + v % au.size()]];
    std::swap(a.Z, b.Z);
    std::swap(a.electrons, b.electrons);
    swapped.total_energy += (v == 5 ? 5.0 : 1e-3 * v);
    if (v == 5) swapped.atoms[0].moment = -0.25;  // the outlier has a lower total moment
    write(fmt::format("out_{}", 100 + v), lsms::format_info_evec(swapped));
  }
  write("notes_a", text.substr(0, 0));  // an empty, oddly named file

  const auto r = deck(kCuAu, dir / "v.h5");
  const auto rep = run_import(r, src);
  EXPECT_EQ(rep.files, 20u);
  ASSERT_EQ(rep.skipped.size(), 5u);
  auto reason = [&](const std::string& file) {
    for (const auto& s : rep.skipped)
      if (s.file == file) return s.reason;
    return std::string("not skipped");
  };
  EXPECT_NE(reason("out_4").find("atoms, but the deck's lattice"), std::string::npos)
      << reason("out_4");
  EXPECT_NE(reason("out_5").find("31 atoms"), std::string::npos) << reason("out_5");
  EXPECT_NE(reason("out_6").find("Z = 26, which is not a species of the deck (Cu, Au)"),
            std::string::npos);
  EXPECT_NE(reason("out_7").find("charge neutrality violated: sum(electrons - Z) = 0.5"),
            std::string::npos);
  EXPECT_NE(reason("notes_a").find("empty file"), std::string::npos);
  EXPECT_EQ(rep.unusual_names, std::vector<std::string>{"notes_a"});
  EXPECT_EQ(rep.non_neutral, 1u);

  const int comp = [&] {
    int n = 0;
    for (const auto& a : base.atoms) n += a.Z == 29;
    return n;
  }();
  const auto& ic = rep.compositions.at(comp);
  EXPECT_EQ(ic.files, 15u);
  EXPECT_EQ(ic.unique, 13u);
  EXPECT_EQ(ic.duplicate_files, 2u);
  EXPECT_EQ(ic.disagreeing, 1u);
  EXPECT_NEAR(ic.max_duplicate_dE, 0.1, 1e-9);
  EXPECT_EQ(ic.outliers, 1u);
  EXPECT_EQ(ic.outliers_above, 1u);
  EXPECT_EQ(ic.outliers_low_moment, 1u);
  EXPECT_EQ(ic.worst_file, "out_105");
  {  // The report says what it found: count, composition, z, total moment.
    ASSERT_EQ(rep.outliers.size(), 1u);
    EXPECT_NE(rep.outliers[0].reason.find("total moment -0.25 muB (median 0.00)"),
              std::string::npos)
        << rep.outliers[0].reason;
    char* text = nullptr;
    std::size_t size = 0;
    std::FILE* mem = open_memstream(&text, &size);
    print_import_report(mem, rep);
    std::fclose(mem);
    const std::string printed(text, size);
    std::free(text);
    EXPECT_NE(
        printed.find(fmt::format("outliers   1 energy outlier(s) at n_A = {}; z up to", comp)),
        std::string::npos)
        << printed;
    EXPECT_NE(printed.find("1 above the median energy, 1 with a total moment below"),
              std::string::npos);
  }
  EXPECT_EQ(ic.rows, 13u);  // merged duplicates, outlier kept
  EXPECT_EQ(ic.test, 1u);   // llround(0.1 * 13)
  EXPECT_EQ(ic.expected, 1000u);
  EXPECT_EQ(rep.rows, 13u);
  ASSERT_EQ(rep.duplicates.size(), 2u);
  EXPECT_NE(rep.duplicates[0].reason.find("same configuration as out_1 (results agree"),
            std::string::npos);
  EXPECT_NE(rep.duplicates[1].reason.find("RESULTS DIFFER"), std::string::npos);
  {
    // The merged row is the first file's; skipped files are listed in /import.
    const DatasetFile f = DatasetFile::open(dir / "v.h5", h5::Mode::read);
    const auto& src_names = f.configs().source;
    EXPECT_NE(std::find(src_names.begin(), src_names.end(), "out_1"), src_names.end());
    EXPECT_EQ(std::find(src_names.begin(), src_names.end(), "out_3"), src_names.end());
    h5::File raw = h5::File::open(dir / "v.h5");
    EXPECT_EQ(h5::dims(raw, "/import/skipped_file")[0], 5u);
    h5::Handle g = h5::open_group(raw, "import");
    EXPECT_NE(h5::read_attr_string(g, "report").find("RESULTS DIFFER"), std::string::npos);
  }

  ImportOptions o;
  o.output = dir / "v2.h5";
  o.merge_duplicates = false;
  o.drop_outliers = true;
  o.keep_non_neutral = true;
  const auto rep2 = run_import(r, src, o);
  // Every file is a row now (15 + the charged one), except the outliers: out_105, and out_3,
  // which no longer hides behind the merge (0.1 Ry is 10 robust scales off the median).
  EXPECT_EQ(rep2.compositions.at(comp).files, 16u);
  EXPECT_EQ(rep2.compositions.at(comp).rows, 14u);
  EXPECT_EQ(rep2.skipped.size(), 4u);
  ASSERT_EQ(rep2.outliers.size(), 2u);
  EXPECT_EQ(rep2.outliers[0].file, "out_3");
  EXPECT_EQ(rep2.outliers[1].file, "out_105");

  // The output is never overwritten silently.
  EXPECT_THROW(run_import(r, src), Error);
  ImportOptions force;
  force.force = true;
  EXPECT_EQ(run_import(r, src, force).rows, 13u);
}

TEST(Import, TranslationEquivalentFilesAreDuplicatesWithUniqueTranslations) {
  test::TempDir dir;
  const auto src = dir / "set";
  std::filesystem::create_directories(src);
  // The CuAu files list the sites in lattice order: atom k sits on site k.
  const auto base = lsms::parse_info_evec(kSamples / "CuAu_32atoms/out_20000");
  const auto plain = deck(kCuAu, dir / "plain.h5");
  const auto tr = plain.sys.lattice.translations();
  // A translation that moves this configuration to another occupation.
  std::vector<std::uint8_t> occ(32);
  for (int k = 0; k < 32; ++k) occ[k] = base.atoms[k].Z == 29 ? 0 : 1;
  const Configuration c(occ);
  const std::vector<int>* t = nullptr;
  for (const auto& p : tr)
    if (!(c.permuted(p) == c)) t = &p;
  ASSERT_NE(t, nullptr);
  auto moved = base;  // the whole calculation shifted: atom k's results now on site t[k]
  for (int k = 0; k < 32; ++k) {
    moved.atoms[(*t)[k]].Z = base.atoms[k].Z;
    moved.atoms[(*t)[k]].electrons = base.atoms[k].electrons;
    moved.atoms[(*t)[k]].moment = base.atoms[k].moment;
  }
  auto moved_off = moved;
  moved_off.total_energy += 0.01;
  std::ofstream(src / "out_1") << lsms::format_info_evec(base);
  std::ofstream(src / "out_2") << lsms::format_info_evec(moved);
  std::ofstream(src / "out_3") << lsms::format_info_evec(moved_off);

  // Without the switch only out_3 (the same occupation as out_2) is a duplicate.
  auto rep = run_import(plain, src);
  EXPECT_EQ(rep.rows, 2u);
  ASSERT_EQ(rep.duplicates.size(), 1u);
  EXPECT_NE(rep.duplicates[0].reason.find("same configuration as out_2 (RESULTS DIFFER"),
            std::string::npos)
      << rep.duplicates[0].reason;

  Deck d = Deck::from_string(std::string(kCuAu) +
                                 "sampling = { unique_translations = true }\n"
                                 "dataset = { file = '" +
                                 (dir / "classes.h5").string() + "' }\n",
                             "import.lua");
  const ::Run classes{std::move(d), plain.sys};
  rep = run_import(classes, src);
  const int comp = c.composition();
  const auto& ic = rep.compositions.at(comp);
  EXPECT_EQ(ic.files, 3u);
  EXPECT_EQ(ic.unique, 1u);
  EXPECT_EQ(ic.duplicate_files, 2u);
  EXPECT_EQ(ic.translated_files, 2u);
  EXPECT_EQ(ic.disagreeing, 1u);
  EXPECT_EQ(rep.rows, 1u);
  ASSERT_EQ(rep.duplicates.size(), 2u);
  // Per-site results are compared through the translation (Cu and Au charges differ by ~50 e).
  EXPECT_NE(rep.duplicates[0].reason.find("a lattice translation of out_1 (results agree"),
            std::string::npos)
      << rep.duplicates[0].reason;
  EXPECT_NE(rep.duplicates[1].reason.find("RESULTS DIFFER; |dE| = 0.01 Ry, max |dq| = 0 e"),
            std::string::npos)
      << rep.duplicates[1].reason;
  // A class count of 1 for 1 Cu atom, and the report says how the duplicates were found.
  EXPECT_EQ(rep.compositions.at(1).distinct, "1");
  testing::internal::CaptureStdout();
  print_import_report(stdout, rep);
  const std::string text = testing::internal::GetCapturedStdout();
  EXPECT_NE(text.find("(2 of them as a lattice translation)"), std::string::npos) << text;
}

TEST(Import, ArchivesGiveTheSameDataAsDirectories) {
  test::TempDir dir;
  copy_samples(dir, "CuAu_32atoms");
  const auto r = deck(kCuAu, dir / "dir.h5");
  run_import(r, dir / "CuAu_32atoms");
  const Dataset ref = read_dataset(dir / "dir.h5");
  for (const auto& [flag, ext] :
       {std::pair{"J", "tar.xz"}, std::pair{"z", "tar.gz"}, std::pair{"", "tar"}}) {
    const auto archive = dir / (std::string("samples.") + ext);
    const auto rc = test::run_command(fmt::format("tar -c{}f {} -C {} CuAu_32atoms", flag,
                                                  archive.string(), dir.path().string()));
    ASSERT_EQ(rc.status, 0) << rc.output;
    ImportOptions o;
    o.output = dir / (std::string("a.") + ext + ".h5");
    const auto rep = run_import(r, archive, o);
    EXPECT_EQ(rep.rows, 6u) << ext;
    EXPECT_EQ(rep.unusual_names, std::vector<std::string>{"CuAu_32atoms/out_"}) << ext;
    const Dataset d = read_dataset(o.output);
    EXPECT_EQ(d.energy, ref.energy) << ext;
    EXPECT_EQ(d.occupation, ref.occupation) << ext;
    EXPECT_EQ(d.fingerprint(), ref.fingerprint()) << ext;
  }
  // A truncated archive is an error, not a partial import.
  const auto cut = dir / "cut.tar.xz";
  std::filesystem::copy_file(dir / "samples.tar.xz", cut);
  std::filesystem::resize_file(cut, std::filesystem::file_size(cut) / 2);
  ImportOptions o;
  o.output = dir / "cut.h5";
  EXPECT_THROW(run_import(r, cut, o), FileError);
  EXPECT_FALSE(std::filesystem::exists(dir / "cut.h5"));
  EXPECT_THROW(run_import(r, dir / "missing.tar.xz", o), FileError);
}

TEST(Import, FilesOfAnotherLatticeAreRefusedWithTheReason) {
  test::TempDir dir;
  const auto src = copy_samples(dir, "FePt_32atoms");
  const auto r = deck(kCuAu, dir / "wrong.h5");
  // Nothing maps: an error naming the count and a reason, and no (empty) dataset written.
  try {
    run_import(r, src);
    ADD_FAILURE() << "import of another lattice's files succeeded";
  } catch (const Error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("none of the 6 files could be imported"), std::string::npos) << what;
    EXPECT_NE(what.find("is not within 0.001 Bohr of any site"), std::string::npos) << what;
  }
  EXPECT_FALSE(std::filesystem::exists(dir / "wrong.h5"));
}
