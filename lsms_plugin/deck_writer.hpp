#pragma once
// Writes LSMS input decks (i_lsms) for one configuration of a supercell. LSMS reads Lua
// globals and checks little, so the writer fills every key whose absence crashes or silently
// misbehaves (see ../shared/lsms-notes.md): pos, evec and rsteps on every site; Z = Zc+Zs+Zv;
// numberOfMixQuantities matching the mixing list; mixing_parameter (not alpha); an explicit
// pot_in_type. Decks stay in the common subset of Lua 5.2 (LSMS's) and 5.4.
#include <array>
#include <string>
#include <vector>

#include "core/configuration.hpp"
#include "core/lattice.hpp"
#include "core/species.hpp"

namespace lsmss::lsms {

// LSMS's per-species electron partition and site settings.
struct SpeciesSetup {
  Species species;
  int Zc = 0, Zs = 0, Zv = 0;  // core, semicore, valence electrons (sum = Z)
  double mag_mom = 0.0;        // starting moment, muB
  int lmax = 3;
  double rLIZ = 9.0;  // local interaction zone radius, Bohr
  std::array<double, 4> rsteps{89.5, 91.5, 93.2, 99.9};
  std::string potential_file;  // converged potential of this species (pot_in_type = 1)
};

// Default partition for common alloy elements (Cu, Zn, Fe, Co, Ni, Pd, Ag, Pt, Au), as in
// LSMS's regression decks; throws lsmss::Error for others (the deck must give Zc/Zs/Zv).
SpeciesSetup default_species_setup(const Species& s);

struct DeckSpec {
  std::string system_id = "lsmss";
  std::string title = "LSMS-Surrogate configuration";
  std::string executable_kind = "lsms_asa";  // "lsms" (muffin-tin) or "lsms_asa"
  int nspin = 2;
  int nscf = 40;
  double rms_tolerance = 1e-6;
  double energy_tolerance = 1e-8;
  int pot_in_type = -1;                    // -1 from scratch, 1 text potential files
  std::string potential_file_in = "v_in";  // LSMS reads <potential_file_in>.<site index>
  int use_voronoi = 0;                     // 0 as LSMS's regression decks (LSMS's own default is 1)
  double rmax = 30.0;                      // radial grid end, Bohr (LSMS's default 50)
  double h_step = 0.015;                   // radial log-grid step (LSMS's default 0.02)
  double efermi = 0.7;                     // starting Fermi energy, Ry
  std::string mixing_algorithm = "broyden";
  std::string mixing_quantity = "potential";
  double mixing_parameter = 0.05;
  std::string energy_contour =
      "{ npts = 24, grid = 2, ebot = -0.3, etop = 0.0, eitop = 0.825, eibot = 0.0025 }";
  std::string xc_functional = "{1, 1, 7}";  // libxc LDA_X + LDA_C_VWN
  std::string extra_lua;                    // appended verbatim (site-specific tweaks)

  // LSMS writes the converged potential of site (type) k, 0-based, as <this>.<k> (pot_out_type
  // = 1, text; src/Main/PotentialIO.cpp).
  std::string potential_file_out() const { return "w_" + system_id; }
};

// The i_lsms text for `config` on `lattice`; species_setup[s] belongs to species index s.
std::string write_deck(const DeckSpec& spec, const Lattice& lattice, const Configuration& config,
                       const std::vector<SpeciesSetup>& species_setup);

}  // namespace lsmss::lsms
