#pragma once
// Parameters of the embedded tight-binding engine, read from a Lua data file
// (data/tb/parameters.lua): published Slater-Koster integrals, Stoner and Hubbard-like
// constants per element, and the distance-scaling exponents. Internally everything is in Ry
// and Bohr.
#include <filesystem>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "core/lattice.hpp"

namespace lsmss::tb {

inline constexpr double kRydbergEV = 13.605693123;  // 1 Ry in eV

struct ElementParameters {
  std::string symbol;
  LatticeKind structure = LatticeKind::fcc;  // reference crystal of the published fit
  double a = 0.0;                            // its lattice constant (Bohr)
  double r1 = 0.0;                           // its first-neighbour distance (Bohr), derived
  double e_s = 0.0, e_p = 0.0, e_t2g = 0.0, e_eg = 0.0;  // on-site energies (Ry), fit's zero
  // First-neighbour two-centre integrals at r1 (Ry).
  double ss_sigma = 0.0, sp_sigma = 0.0, sd_sigma = 0.0, pp_sigma = 0.0, pp_pi = 0.0;
  double pd_sigma = 0.0, pd_pi = 0.0, dd_sigma = 0.0, dd_pi = 0.0, dd_delta = 0.0;
  double stoner_i = 0.0;        // Ry, E_x = -I m_d^2 / 4
  double hubbard_u = 0.0;       // Ry, E_U = U/2 (n - n0)^2
  double work_function = 0.0;   // Ry (positive)
  double initial_moment = 0.0;  // muB, SCF start
  // Pair repulsion at r1 (Ry per bond); not in the file: the engine sets it so that the pure
  // metal is in equilibrium at `a` (see element_reference).
  double repulsion = 0.0;
};

struct TbParameters {
  std::string file;  // where they were read from
  // Distance-scaling exponents n of V(r) = V(r1) (r1 / r)^n per pair of angular momenta.
  double exponent_ss = 2.0, exponent_sp = 2.0, exponent_sd = 3.5, exponent_pp = 2.0;
  double exponent_pd = 3.5, exponent_dd = 5.0;
  // Pair repulsion phi(r) = phi(r1) (r1 / r)^m (overlap repulsion of the d shells).
  double exponent_repulsion = 8.0;
  std::map<std::string, ElementParameters, std::less<>> elements;

  // Reads and validates the whole file; DeckError/FileError name the file and key.
  static TbParameters load(const std::filesystem::path& path);
  // Throws lsmss::Error listing the elements the file has.
  const ElementParameters& element(std::string_view symbol) const;
};

}  // namespace lsmss::tb
