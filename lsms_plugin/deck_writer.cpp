#include "lsms_plugin/deck_writer.hpp"

#include <iterator>

#include <fmt/format.h>

#include "core/error.hpp"

namespace lsmss::lsms {

SpeciesSetup default_species_setup(const Species& s) {
  struct Row {
    const char* sym;
    int Zc, Zs, Zv;
    double mag;
  };
  // 3d: [Ne] core + 3s3p semicore; 4d: [Ar]3d core + 4s4p; 5d: [Kr]4d core + 4f5s5p semicore.
  static const Row rows[] = {
      {"Fe", 10, 8, 8, 2.5},  {"Co", 10, 8, 9, 1.7},   {"Ni", 10, 8, 10, 0.6},
      {"Cu", 10, 8, 11, 0.0}, {"Zn", 10, 8, 12, 0.0},  {"Pd", 28, 8, 10, 0.3},
      {"Ag", 28, 8, 11, 0.0}, {"Pt", 46, 22, 10, 0.3}, {"Au", 46, 22, 11, 0.0}};
  for (const auto& r : rows)
    if (s.symbol == r.sym) {
      SpeciesSetup out;
      out.species = s;
      out.Zc = r.Zc;
      out.Zs = r.Zs;
      out.Zv = r.Zv;
      out.mag_mom = r.mag;
      return out;
    }
  fail(
      "no default LSMS electron partition for {}: give lsms.species.{} = {{ Zc = .., Zs = .., Zv = "
      ".. }}",
      s.symbol, s.symbol);
}

std::string write_deck(const DeckSpec& spec, const Lattice& lattice, const Configuration& config,
                       const std::vector<SpeciesSetup>& setup) {
  if (config.num_sites() != lattice.num_sites())
    fail("configuration has {} sites, lattice {} has {}", config.num_sites(), lattice.describe(),
         lattice.num_sites());
  for (const auto& s : setup)
    if (s.Zc + s.Zs + s.Zv != s.species.Z)
      fail("LSMS setup of {}: Zc + Zs + Zv = {} + {} + {} must equal Z = {}", s.species.symbol,
           s.Zc, s.Zs, s.Zv, s.species.Z);
  const Vec3 box = lattice.box();
  std::string d;
  auto out = std::back_inserter(d);
  fmt::format_to(out,
                 "-- Written by LSMS-Surrogate for {} ({} sites). Lua 5.2/5.4 common subset.\n",
                 lattice.describe(), lattice.num_sites());
  fmt::format_to(out, "systemid = \"{}\"\nsystem_title = \"{}\"\n", spec.system_id, spec.title);
  fmt::format_to(out, "pot_in_type = {}\npot_out_type = 1\n", spec.pot_in_type);
  if (spec.pot_in_type == 1)
    fmt::format_to(out, "potential_file_in = \"{}\"\n", spec.potential_file_in);
  fmt::format_to(out, "potential_file_out = \"{}\"\n", spec.potential_file_out());
  // No localAtomDataFile: nothing reads it (info_evec_out holds what the driver harvests).
  fmt::format_to(out, "infoEvecFileOut = \"info_evec_out\"\n");
  fmt::format_to(out, "relativity = \"s\"\ncore_relativity = \"f\"\n");
  fmt::format_to(out, "num_atoms = {}\nnspin = {}\nmtasa = {}\nuse_voronoi = {}\n",
                 lattice.num_sites(), spec.nspin, spec.executable_kind == "lsms_asa" ? 1 : 0,
                 spec.use_voronoi);
  fmt::format_to(out, "xcFunctional = {}\n", spec.xc_functional);
  fmt::format_to(out, "iprint = -1\ndefault_iprint = -1\nprint_node = 0\nistop = \"main\"\n");
  fmt::format_to(out, "nscf = {}\nrmsTolerance = {:.6e}\nenergyTolerance = {:.6e}\nefermi = {}\n",
                 spec.nscf, spec.rms_tolerance, spec.energy_tolerance, spec.efermi);
  fmt::format_to(out, "rmax = {}\nh_step = {}\n", spec.rmax, spec.h_step);
  fmt::format_to(out, "energyContour = {}\n", spec.energy_contour);
  fmt::format_to(
      out,
      "bravais = {{}}\nbravais[1] = {{ {:.15f}, 0.0, 0.0 }}\nbravais[2] = {{ 0.0, {:.15f}, 0.0 }}\n"
      "bravais[3] = {{ 0.0, 0.0, {:.15f} }}\n",
      box[0], box[1], box[2]);
  fmt::format_to(
      out, "mixing = {{ {{ quantity = \"{}\", algorithm = \"{}\", mixing_parameter = {} }} }}\n",
      spec.mixing_quantity, spec.mixing_algorithm, spec.mixing_parameter);
  fmt::format_to(out, "numberOfMixQuantities = 1\n");
  fmt::format_to(out, "site = {{}}\n");
  for (int i = 0; i < lattice.num_sites(); ++i) {
    const int s = config[i];
    if (s >= static_cast<int>(setup.size()))
      fail("site {} holds species {} without an LSMS setup", i, s);
    const SpeciesSetup& sp = setup[s];
    const Vec3& p = lattice.position(i);
    fmt::format_to(out,
                   "site[{}] = {{ atom = \"{}\", Z = {}, Zc = {}, Zs = {}, Zv = {}, mag_mom = {}, "
                   "lmax = {}, rLIZ = {},\n"
                   "  rsteps = {{ {}, {}, {}, {} }}, rad = 2, evec = {{ 0, 0, 1 }}, pos = {{ "
                   "{:.15f}, {:.15f}, {:.15f} }} }}\n",
                   i + 1, sp.species.symbol, sp.species.Z, sp.Zc, sp.Zs, sp.Zv, sp.mag_mom, sp.lmax,
                   sp.rLIZ, sp.rsteps[0], sp.rsteps[1], sp.rsteps[2], sp.rsteps[3], p[0], p[1],
                   p[2]);
  }
  if (!spec.extra_lua.empty())
    fmt::format_to(out, "-- deck extra (lsms.extra_lua)\n{}\n", spec.extra_lua);
  return d;
}

}  // namespace lsmss::lsms
