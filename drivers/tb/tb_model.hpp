#pragma once
// The self-consistent tight-binding model on one supercell: orthogonal s+d Slater-Koster
// Hamiltonian, collinear Stoner exchange on the d shell, a Hubbard-like local-charge-neutrality
// term, Fermi-Dirac occupations on a Monkhorst-Pack grid, Anderson-mixed SCF on the site
// charges and d moments. Equations in docs/tb.md.
#include <array>
#include <complex>
#include <vector>

#include "core/configuration.hpp"
#include "core/lattice.hpp"
#include "drivers/tb/lapack_eigen.hpp"
#include "drivers/tb/slater_koster.hpp"
#include "drivers/tb/tb_parameters.hpp"

namespace lsmss::tb {

enum class Mixing { anderson, linear };
enum class Basis { sd, spd };

struct TbOptions {
  Basis basis = Basis::sd;              // sd: s+d orbitals, p electrons a rigid background
  std::array<int, 3> kpoints{1, 1, 1};  // k grid over the supercell's Brillouin zone
  std::array<int, 3> kshift{0, 0, 0};   // 0: grid through Gamma, 1: shifted by half a step
  double temperature = 0.005;           // Fermi-Dirac smearing k_B T (Ry)
  bool spin_polarized = true;
  Mixing mixing = Mixing::anderson;
  double mixing_beta = 1.0;
  int mixing_history = 8;
  int max_iterations = 100;
  double charge_tolerance = 1e-6;  // max |n_out - n_in| per site (e)
  double moment_tolerance = 1e-6;  // max |m_out - m_in| per site (muB)
  double cutoff = 1.5;             // hopping range in units of the first-neighbour distance
  // One pass at the given input densities instead of an SCF: the energy functional (variational,
  // Harris-Foulkes) and the output densities of H[input], reported as converged with the
  // residual |out - in|. Used for the final k grid after an SCF on a coarser one. Complex k
  // points then compute only the eigenvectors of states that are not full.
  bool single_pass = false;
};

// The quantities the SCF iterates on, per site.
struct ScfState {
  std::vector<double> valence;  // valence electrons (s + d, both spins)
  std::vector<double> dmoment;  // d-shell moment (muB); empty when not spin polarized
};

struct TbResult {
  bool converged = false;
  int iterations = 0;
  double residual = 0.0;          // max |out - in| of charges and moments, last iteration
  double free_energy = 0.0;       // Ry, electronic E - TS plus pair repulsion (reported energy)
  double repulsive_energy = 0.0;  // Ry, pair repulsion part of free_energy
  double band_energy = 0.0;       // Ry, sum of occupied eigenvalues
  double entropy_term = 0.0;      // Ry, -TS
  double fermi_energy = 0.0;      // Ry
  std::vector<double> valence;    // Mulliken valence electrons per site
  std::vector<double> moment;     // moment per site (muB), all orbitals
  std::vector<std::array<double, 3>> shells;  // s, p, d electrons per site (in the basis)
  ScfState state;  // converged densities, a starting guess for a similar cell
};

class TbModel {
 public:
  // `species[s]` are the parameters of species index s of the configurations, `valence[s]`
  // the electrons a neutral atom puts into the basis and `onsite_shift[s]` (Ry) the level
  // alignment added to all its on-site energies.
  TbModel(const Lattice& lattice, std::vector<ElementParameters> species,
          std::vector<double> valence, std::vector<double> onsite_shift, const TbParameters& params,
          const TbOptions& options);

  // Runs the SCF from `start` (cold start from neutral atoms if null). Deterministic: the same
  // configuration and start give bit-identical results.
  TbResult solve(const Configuration& config, const ScfState* start = nullptr);

  ScfState cold_start(const Configuration& config) const;
  int num_sites() const { return nsites_; }
  int orbitals_per_site() const { return no_; }
  int num_kpoints() const { return static_cast<int>(kpoints_.size()); }  // after time reversal
  const TbOptions& options() const { return opt_; }
  double nearest_neighbor_distance() const { return dnn_; }

 private:
  struct KPoint {
    Vec3 k{};
    double weight = 0.0;
    bool real = false;  // 2k is a reciprocal lattice vector: H(k) is real symmetric
  };
  struct Bond {
    int i = 0, j = 0;
    Vec3 d{};
  };

  // Constructor steps: the bonds within the cutoff with their Slater-Koster blocks and pair
  // repulsions per species pair; the k-point grid reduced by time reversal; the storage per k
  // point and spin.
  void set_up_bonds(const Lattice& lattice, const TbParameters& params);
  void set_up_kpoints(const Lattice& lattice);
  void allocate_kpoint_storage();

  void assemble(const Configuration& c);
  void diagonalize(const std::vector<double>& v, const std::vector<double>& b,
                   const Configuration& c);
  // H[v, b] of one k point and spin into its eigenvector slot (overwritten by the solvers).
  void fill_hamiltonian(std::size_t k, int s, const std::vector<double>& v,
                        const std::vector<double>& b);
  // Adds the occupied-state densities of one slot with all its eigenvectors: d += w f |C|^2
  // per orbital, ldos (per site) += w f (1 - f) / kT |C|^2.
  void add_slot_density(std::size_t slot, double mu, double* d, std::vector<double>& ldos) const;
  // Single pass: the densities of the slots reduced to tridiagonal form, from the eigenvectors
  // of their states that are not full (d = w [1 - sum (1 - f) |C|^2], completeness).
  void add_top_state_densities(double mu, const std::vector<double>& v,
                               const std::vector<double>& b, std::vector<double>& dens,
                               std::vector<double>& ldos);
  double find_fermi_level(double electrons) const;
  // Static site-charge response chi[s](i, j) = d n_i^s / d V_j^s at fixed mu for each spin
  // channel (k-summed, weights included), from first-order perturbation theory.
  void response(double mu, std::vector<std::vector<double>>& chi);
  // (1 - J) of the SCF map x_in -> x_out from the static response at `mu` (the quasi-Newton
  // preconditioner of the first iterations); U, I: per-site Hubbard and Stoner parameters.
  std::vector<double> newton_matrix(double mu, const std::vector<double>& U,
                                    const std::vector<double>& I);

  // The SCF of solve() in its parts. Per-site terms of a configuration: neutral valence n0,
  // Hubbard U and Stoner I, and the electron count.
  struct SiteTerms {
    std::vector<double> n0, U, I;
    double electrons = 0.0;
  };
  // One iteration's output from the eigenstates of H[x_in] at the Fermi level: band energy,
  // entropy sum, the output vector x (electrons per site, then d moments when spin polarized),
  // moments, s/p/d shells and the local densities of states at the Fermi level per site.
  struct ScfOutput {
    double band_energy = 0.0, entropy = 0.0;
    std::vector<double> x, moment, ldos;
    std::vector<std::array<double, 3>> shells;
  };
  SiteTerms site_terms(const Configuration& c) const;
  // The first input vector: `start`, or the cold start of `c`.
  std::vector<double> scf_input(const Configuration& c, const ScfState* start) const;
  // `dens` is work space (orbital densities per spin).
  ScfOutput scf_output(double mu, const std::vector<double>& v, const std::vector<double>& b,
                       std::vector<double>& dens);
  // The result of the last iteration; E[rho_out] is variational (error second order in the
  // residual). Convergence, iterations and residual are the caller's.
  TbResult scf_result(const Configuration& c, const SiteTerms& t, const std::vector<double>& v,
                      const std::vector<double>& b, double mu, ScfOutput out) const;

  TbOptions opt_;
  int nsites_ = 0, nspecies_ = 0, no_ = 6, norb_ = 0, nspin_ = 1;
  std::vector<int> sk_index_;  // orbital of the site -> index in the 9-orbital SK block
  double dnn_ = 0.0;
  std::vector<ElementParameters> species_;
  std::vector<double> valence_, shift_;
  std::vector<Bond> bonds_;
  std::vector<double> blocks_;    // [bond][species A][species B][no_ x no_], row-major
  std::vector<double> pair_rep_;  // [bond][species A][species B]: repulsion (Ry)
  std::vector<KPoint> kpoints_;
  std::vector<std::vector<std::complex<double>>> phases_;  // [k][bond]

  // Per configuration: H0(k) (hoppings + bare on-site levels); per iteration: eigenpairs.
  std::vector<std::vector<double>> h0_real_;                  // [k] (Gamma only)
  std::vector<std::vector<std::complex<double>>> h0_cplx_;    // [k]
  std::vector<std::vector<double>> evec_real_;                // [k * nspin + s]
  std::vector<std::vector<std::complex<double>>> evec_cplx_;  // [k * nspin + s]
  std::vector<std::vector<double>> evals_;                    // [k * nspin + s]
  std::vector<double> zbuf_;                                  // response work space
  std::vector<std::complex<double>> zbuf_cplx_;               // (complex k points)
  std::vector<std::complex<double>> gram_;                    // (herk result)
  std::vector<HermitianEigen::Reduced> reduced_;              // [k * nspin + s] (single pass)
  std::vector<char> partial_;               // slot holds a reduction, not eigenvectors
  std::vector<std::complex<double>> ztop_;  // eigenvectors of the states not full
  SymmetricEigen real_solver_;
  HermitianEigen cplx_solver_;
};

// The pure element in its reference crystal (not spin polarized, dense k grid).
struct ElementReference {
  double p_background = 0.0;  // p electrons of the spd band structure (s+d basis: rigid background)
  double fermi_level = 0.0;   // Ry in the fit's own zero, with the electrons the basis holds
  std::array<double, 3> shells{};  // s, p, d electrons per atom in the spd band structure
  double repulsion = 0.0;          // pair repulsion at r1 (Ry) for zero pressure at the reference a
  double pressure_derivative = 0.0;  // dE_electronic/da per atom at the reference (Ry/Bohr)
};
// With the s+d basis an atom puts valence - p_background electrons into its orbitals, and the
// engine shifts each element's levels by -work_function - fermi_level: every pure metal's Fermi
// level sits at minus its work function, so charge flows between species as their
// electronegativities dictate. The pure metal is spin polarized when `options` is and the
// element starts with a moment. Results are cached per element and settings.
ElementReference element_reference(const ElementParameters& e, double valence,
                                   const TbParameters& params, const TbOptions& options);

}  // namespace lsmss::tb
