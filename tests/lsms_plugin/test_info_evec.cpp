// The info_evec parser shared by the importer and the LSMS driver: real samples and fixtures,
// round trip, and every kind of malformed file.
#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "core/error.hpp"
#include "fixtures.hpp"
#include "lsms_plugin/info_evec.hpp"
#include "test_support.hpp"

using namespace lsmss;

namespace {
const auto kSamples = test::shared_dir() / "data/lsms/samples";

std::string error_of(const std::string& text, const std::string& name = "f") {
  try {
    lsms::parse_info_evec_text(text, name);
  } catch (const FileError& e) {
    return e.what();
  }
  return "no error";
}

std::string atom_line(int z, const std::string& electrons = "29.1") {
  return fmt::format(" {} 0 0.0 0.0 0.0 {} 0.0 0 0 1 -1.00 0 0 0 0.0000 0 0 1\n", z, electrons);
}
}  // namespace

TEST(InfoEvecParser, RealSamplesParseCompletely) {
  const auto cu = lsms::parse_info_evec(kSamples / "CuAu_32atoms/out_0");
  EXPECT_DOUBLE_EQ(cu.total_energy, -1218350.371486594900489);
  EXPECT_DOUBLE_EQ(cu.band_energy, 109.145864721029099);
  EXPECT_DOUBLE_EQ(cu.fermi_energy, 0.705830895000135);
  ASSERT_EQ(cu.atoms.size(), 32u);
  EXPECT_EQ(cu.atoms[0].Z, 79);
  EXPECT_EQ(cu.atoms[31].index, 31);
  const auto fe = lsms::parse_info_evec(kSamples / "FePt_32atoms/out_1");
  EXPECT_EQ(fe.atoms[0].Z, 26);
  EXPECT_DOUBLE_EQ(fe.atoms[0].electrons, 20.689858);
  EXPECT_DOUBLE_EQ(fe.atoms[0].moment, 0.494549);
  EXPECT_DOUBLE_EQ(fe.atoms[1].position[2], 3.529);
  EXPECT_DOUBLE_EQ(fe.atoms[0].evec[2], 1.0);
  // Every sample (including the oddly named `out_`) is charge neutral to ~1e-5.
  for (const char* dir : {"CuAu_32atoms", "FePt_32atoms"})
    for (const auto& e : std::filesystem::directory_iterator(kSamples / dir)) {
      const auto info = lsms::parse_info_evec(e.path());
      ASSERT_EQ(info.atoms.size(), 32u) << e.path();
      double q = 0;
      for (const auto& a : info.atoms) q += a.electrons - a.Z;
      EXPECT_LT(std::abs(q), 2e-5) << e.path();
    }
  for (const char* run : {"cuzn_b2_lsms_asa", "cuzn_b2_lsms_mt", "fept_l10_lsms_asa_unconverged"})
    EXPECT_EQ(lsms::parse_info_evec(test::shared_dir() / "data/lsms/runs" / run / "info_evec_out")
                  .atoms.size(),
              2u);
}

TEST(InfoEvecParser, RoundTrip) {
  const auto a = lsms::parse_info_evec(kSamples / "FePt_32atoms/out_100");
  const auto b = lsms::parse_info_evec_text(lsms::format_info_evec(a), "round-trip");
  EXPECT_DOUBLE_EQ(a.total_energy, b.total_energy);
  ASSERT_EQ(a.atoms.size(), b.atoms.size());
  for (std::size_t k = 0; k < a.atoms.size(); ++k) {
    EXPECT_EQ(a.atoms[k].Z, b.atoms[k].Z);
    EXPECT_EQ(a.atoms[k].position, b.atoms[k].position);
    EXPECT_DOUBLE_EQ(a.atoms[k].electrons, b.atoms[k].electrons);
    EXPECT_DOUBLE_EQ(a.atoms[k].moment, b.atoms[k].moment);
  }
}

TEST(InfoEvecParser, AcceptsCrLfAndTrailingBlankLines) {
  const auto r = lsms::parse_info_evec_text("-1.5 2.0 0.7\r\n" + atom_line(29) + "\r\n\n", "crlf");
  ASSERT_EQ(r.atoms.size(), 1u);
  EXPECT_DOUBLE_EQ(r.total_energy, -1.5);
}

TEST(InfoEvecParser, MalformedFilesNameFileLineAndColumn) {
  const std::string head = "-1.5 2.0 0.7\n";
  EXPECT_NE(error_of("", "empty").find("empty: empty file"), std::string::npos);
  EXPECT_NE(error_of(head, "noatoms").find("noatoms: no atom lines"), std::string::npos);
  EXPECT_NE(error_of("1 2\n" + atom_line(29), "short").find("short:1: expected 3 numbers"),
            std::string::npos);
  auto e = error_of(head + " 29 0 0 0 0 29.1\n", "cols");
  EXPECT_NE(e.find("cols:2: expected 18 columns"), std::string::npos) << e;
  e = error_of(head + atom_line(29) + atom_line(79, "abc"), "text");
  EXPECT_NE(e.find("text:3: column 6 (electrons): 'abc' is not a number"), std::string::npos) << e;
  e = error_of(head + atom_line(29, "nan"), "nan");
  EXPECT_NE(e.find("nan:2: column 6 (electrons): 'nan' is not finite"), std::string::npos) << e;
  e = error_of(head + " 29.5 0 0 0 0 29 0 0 0 1 -1 0 0 0 0 0 0 1\n", "z");
  EXPECT_NE(e.find("z:2: column 1 (Z)"), std::string::npos) << e;
  e = error_of(head + " 0 0 0 0 0 29 0 0 0 1 -1 0 0 0 0 0 0 1\n", "z0");
  EXPECT_NE(e.find("not an atomic number"), std::string::npos) << e;
  e = error_of(head + atom_line(29) + " 29 1 0.0 0.0\n", "truncated");
  EXPECT_NE(e.find("truncated:3:"), std::string::npos) << e;
  e = error_of(head + " 29 0 0 0 0 29 0 0 0 1 -1 0 0 0 0 0 0 1 7\n", "extra");
  EXPECT_NE(e.find("extra:2: expected 18 columns per atom, found 19"), std::string::npos) << e;
  EXPECT_THROW(lsms::parse_info_evec("/nonexistent/info_evec_out"), FileError);
}

// The one mapping of info_evec atoms onto a lattice (importer, lsms driver, predict): atoms in
// any order land on the sites at their positions; the last match is reused only for the same
// positions; wrong atom counts and foreign species are errors naming the atom.
TEST(SiteMapper, MapsAtomsOntoSitesBySpeciesAndPosition) {
  const System fept = fixtures::fept_system({1, 1, 1});
  const Vec3 p0 = fept.lattice.position(0), p1 = fept.lattice.position(1);
  auto atom = [](int Z, Vec3 pos, double electrons, double moment) {
    lsms::InfoEvecAtom a;
    a.Z = Z;
    a.position = pos;
    a.electrons = electrons;
    a.moment = moment;
    return a;
  };
  lsms::InfoEvec info;
  info.atoms = {atom(78, p1, 78.2, 0.3), atom(26, p0, 25.9, 2.8)};  // file order: site 1, site 0
  lsms::SiteMapper mapper(fept, "the deck");
  auto v = mapper.map(info);
  EXPECT_EQ(v.config.to_string(), "01");
  EXPECT_EQ(v.charge, (std::vector<double>{25.9, 78.2}));
  EXPECT_EQ(v.moment, (std::vector<double>{2.8, 0.3}));
  // Same species, positions swapped: the cached match must not be reused.
  info.atoms = {atom(78, p0, 78.1, 0.4), atom(26, p1, 26.1, 2.7)};
  v = mapper.map(info);
  EXPECT_EQ(v.config.to_string(), "10");
  EXPECT_EQ(v.charge, (std::vector<double>{78.1, 26.1}));

  info.atoms.push_back(atom(26, p0, 26.0, 0.0));
  try {
    mapper.map(info);
    ADD_FAILURE() << "three atoms on two sites accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("3 atoms, but the deck's lattice"), std::string::npos)
        << e.what();
  }
  info.atoms = {atom(26, p0, 26.0, 2.0), atom(29, p1, 29.0, 0.0)};
  try {
    lsms::SiteMapper(fept, "the model").map(info);
    ADD_FAILURE() << "Cu accepted in FePt";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("atom 2 has Z = 29, which is not a species of the model "
                                         "(Fe, Pt)"),
              std::string::npos)
        << e.what();
  }
}
