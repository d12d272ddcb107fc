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
  double e_s = 0.0, e_t2g = 0.0, e_eg = 0.0;  // on-site energies (Ry), the fit's own zero
  // First-neighbour two-centre integrals at r1 (Ry).
  double ss_sigma = 0.0, sd_sigma = 0.0, dd_sigma = 0.0, dd_pi = 0.0, dd_delta = 0.0;
  double stoner_i = 0.0;        // Ry, E_x = -I m_d^2 / 4
  double hubbard_u = 0.0;       // Ry, E_U = U/2 (n - n0)^2
  double work_function = 0.0;  // Ry (positive)
  double initial_moment = 0.0;  // muB, SCF start
};

struct TbParameters {
  std::string file;  // where they were read from
  double exponent_dd = 5.0, exponent_sd = 3.5, exponent_ss = 2.0;
  std::map<std::string, ElementParameters, std::less<>> elements;

  // Reads and validates the whole file; DeckError/FileError name the file and key.
  static TbParameters load(const std::filesystem::path& path);
  // Throws lsmss::Error listing the elements the file has.
  const ElementParameters& element(std::string_view symbol) const;
};

}  // namespace lsmss::tb
