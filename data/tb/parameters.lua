-- Parameters of the embedded tight-binding engine (driver `tb`, see docs/tb.md).
--
-- A MODEL HAMILTONIAN, NOT DFT: orthogonal s+d tight binding with Slater-Koster two-centre
-- hoppings, Stoner exchange on the d shell and a Hubbard-like local-charge-neutrality term.
-- Every number below carries its source in a trailing comment; the keys are listed at the end
-- of this header. Units: energies of the band structure in Ry (as published), Stoner I, U and
-- work functions in eV (as published; converted with 1 Ry = 13.605693 eV), lengths in Bohr.
--
-- References (short names used in the comments)
-- [P]   D. A. Papaconstantopoulos, "Handbook of the Band Structure of Elemental Solids",
--       Plenum 1986 / 2nd ed. Springer 2015: two-centre orthogonal Slater-Koster fits (spd,
--       first and second neighbours) to APW bands. Values transcribed as published in the
--       public codes TITAN (github.com/TITAN-FZJ/TITAN, files example/Fe and
--       Parameter_Papaconstantopoulos/Co, "taken from esd.spacs.gmu.edu/db") and
--       LCAO_Spin_Dynamics (github.com/antoniotcosta/LCAO_Spin_Dynamics, lib/CoCu_pars.f90 (Cu),
--       lib/FeWood_AuPP.f90 (Au), lib/Pt_pars.f90 (Pt), lib/Ag_Papa.f90 (Ag),
--       lib/NiPd_papac.f90 (Ni, Pd)). First-neighbour values; the published second-neighbour
--       values are replaced by the distance scaling below (comparison in docs/tb.md).
-- [AM]  N. W. Ashcroft and N. D. Mermin, "Solid State Physics" (1976), Table 4.3: room-temperature
--       cubic lattice constants (Angstrom; 1 Angstrom = 1.8897261 Bohr). Used as the reference
--       distance of [P] fits that do not state their own lattice constant.
-- [H]   W. A. Harrison, "Electronic Structure and the Properties of Solids" (Freeman 1980; Dover
--       1989), ch. 20: d-d couplings scale as d^-5 and s-d couplings as d^-7/2 (the same laws as
--       O. K. Andersen's canonical bands); heteronuclear d-d couplings are geometric means
--       (V_dd ~ (r_dA r_dB)^(3/2) / d^5) and an s-d coupling is set by the d atom's r_d.
-- [J]   J. F. Janak, Phys. Rev. B 16, 255 (1977): Stoner exchange integrals I (E = -I m^2/4)
--       from spin-density-functional theory, about 0.9-1.0 eV for Fe, Co, Ni and 0.68 eV for Pd;
--       F. J. Himpsel, J. Magn. Magn. Mater. 102, 261 (1991): I ~ 1 eV for the 3d ferromagnets.
-- [SP]  M. M. Sigalas and D. A. Papaconstantopoulos, Phys. Rev. B 50, 7255 (1994): Stoner
--       parameters of the 5d metals (Pt about 0.6 eV).
-- [M]   H. B. Michaelson, J. Appl. Phys. 48, 4729 (1977): work functions of polycrystalline
--       elements (eV); they set the absolute level of each element (electronegativity).
-- [S]   A. P. Sutton, M. W. Finnis, D. G. Pettifor and Y. Ohta, J. Phys. C 21, 35 (1988): local
--       charge neutrality in transition-metal tight binding enforced by an on-site Hubbard-like
--       U of a few eV; we use U = 2.0 eV for every element (inside their range).
-- [WH]  J. M. Wills and W. A. Harrison, Phys. Rev. B 28, 4363 (1983): the non-orthogonality of
--       the d shells gives a pair repulsion ~ r_d^6 / d^8 (geometric mean between elements). Its
--       strength per element is not a parameter: the engine fixes it so that the pure metal is in
--       equilibrium (zero pressure) at its reference lattice constant a.
-- [fit] exponent fitted by us to the published [P] second-/first-neighbour ratios (docs/tb.md).
-- [init] SCF starting guess only: no effect on a converged result beyond the SCF tolerance.
--
-- Keys of each element: structure, a (reference crystal of the fit), e_s, e_p, e_t2g, e_eg
-- (on-site energies, Ry, in the fit's own energy zero: the engine re-aligns each element so that
-- its Fermi level in the reference crystal sits at minus its work function), ss_sigma, sp_sigma,
-- sd_sigma, pp_sigma, pp_pi, pd_sigma, pd_pi, dd_sigma, dd_pi, dd_delta (first-neighbour
-- two-centre integrals, Ry), stoner_i (eV), hubbard_u (eV), work_function (eV),
-- initial_moment (muB per atom, SCF start). The p parameters are used by the spd basis and, in
-- the default s+d basis, to compute each element's p occupation (a rigid background).

-- Distance scaling V(r) = V(r_1) * (r_1 / r)^n, r_1 = first-neighbour distance of the reference.
scaling = {
  ss = 10.0,  -- [fit] [P] sss(2nd)/sss(1st): Fe 0.23 at r2/r1 = 1.155 (n = 10.3); fcc metals < 0.05 at 1.414 (n > 9)
  sp = 7.0,   -- [fit] median n of [P] sps(2nd)/sps(1st) over the eight elements (6.1 to 15)
  sd = 3.5,   -- [H] s-d couplings ~ d^-7/2
  pp = 4.0,   -- [fit] median n of [P] pps(2nd)/pps(1st) over the eight elements (2.4 to 6.1)
  pd = 3.5,   -- [H] p-d couplings ~ d^-7/2
  dd = 5.0,   -- [H] d-d couplings ~ d^-5 (Andersen canonical scaling); [P] Cu dds(2nd)/dds(1st) gives n = 5.0
  repulsion = 8.0,  -- [WH] pair repulsion ~ r_d^6 / d^8 (overlap of the d shells)
}

elements = {
  Fe = {
    structure = "bcc",         -- [P] bcc (paramagnetic) fit, TITAN example/Fe
    a = 5.30,                  -- [P] lattice constant of the fit (Bohr), TITAN example/Fe line 1
    e_s = 1.2017709017,        -- [P] s on-site (Ry)
    e_p = 1.8725119829,        -- [P] p on-site (Ry)
    e_t2g = 0.6881678104,      -- [P] t2g on-site (Ry)
    e_eg = 0.6643740535,       -- [P] eg on-site (Ry)
    ss_sigma = -0.1394413859,  -- [P] sss 1st nn (Ry)
    sp_sigma = 0.1777951121,   -- [P] sps 1st nn (Ry)
    sd_sigma = -0.0678095073,  -- [P] sds 1st nn (Ry)
    pp_sigma = 0.2681021988,   -- [P] pps 1st nn (Ry)
    pp_pi = 0.0297146384,      -- [P] ppp 1st nn (Ry)
    pd_sigma = -0.0930757448,  -- [P] pds 1st nn (Ry)
    pd_pi = 0.0208929181,      -- [P] pdp 1st nn (Ry)
    dd_sigma = -0.0508569255,  -- [P] dds 1st nn (Ry)
    dd_pi = 0.0309574008,      -- [P] ddp 1st nn (Ry)
    dd_delta = -0.0030320531,  -- [P] ddd 1st nn (Ry)
    stoner_i = 0.95,           -- [J] Fe 0.9-1.0 eV
    hubbard_u = 2.0,           -- [S]
    work_function = 4.5,       -- [M] Fe
    initial_moment = 3.0,      -- [init]
  },
  Co = {
    structure = "fcc",         -- [P] fcc (paramagnetic) fit, TITAN Parameter_Papaconstantopoulos/Co
    a = 6.54,                  -- [P] lattice constant of the fit (Bohr), same file line 1
    e_s = 1.1294561625,        -- [P] s on-site (Ry)
    e_p = 1.7526212931,        -- [P] p on-site (Ry)
    e_t2g = 0.6054722667,      -- [P] t2g on-site (Ry)
    e_eg = 0.6044489145,       -- [P] eg on-site (Ry)
    ss_sigma = -0.0904335380,  -- [P] sss 1st nn (Ry)
    sp_sigma = 0.1364858747,   -- [P] sps 1st nn (Ry)
    sd_sigma = -0.0380593911,  -- [P] sds 1st nn (Ry)
    pp_sigma = 0.2374771684,   -- [P] pps 1st nn (Ry)
    pp_pi = -0.0014205084,     -- [P] ppp 1st nn (Ry)
    pd_sigma = -0.0406895205,  -- [P] pds 1st nn (Ry)
    pd_pi = 0.0279652234,      -- [P] pdp 1st nn (Ry)
    dd_sigma = -0.0421276167,  -- [P] dds 1st nn (Ry)
    dd_pi = 0.0297612343,      -- [P] ddp 1st nn (Ry)
    dd_delta = -0.0068388805,  -- [P] ddd 1st nn (Ry)
    stoner_i = 0.99,           -- [J] Co (Himpsel 1991 table)
    hubbard_u = 2.0,           -- [S]
    work_function = 5.0,       -- [M] Co
    initial_moment = 2.0,      -- [init]
  },
  Ni = {
    structure = "fcc",         -- [P] fcc (paramagnetic) fit, LCAO_Spin_Dynamics lib/NiPd_papac.f90
    a = 6.652,                 -- [AM] 3.52 Angstrom
    e_s = 1.15526,             -- [P] s on-site (Ry)
    e_p = 1.60587,             -- [P] p on-site (Ry)
    e_t2g = 0.56068,           -- [P] t2g on-site (Ry)
    e_eg = 0.55753,            -- [P] eg on-site (Ry)
    ss_sigma = -0.09525,       -- [P] sss 1st nn (Ry)
    sp_sigma = 0.14003,        -- [P] sps 1st nn (Ry)
    sd_sigma = -0.03880,       -- [P] sds 1st nn (Ry)
    pp_sigma = 0.21708,        -- [P] pps 1st nn (Ry)
    pp_pi = 0.01660,           -- [P] ppp 1st nn (Ry)
    pd_sigma = -0.04400,       -- [P] pds 1st nn (Ry)
    pd_pi = 0.02377,           -- [P] pdp 1st nn (Ry)
    dd_sigma = -0.03712,       -- [P] dds 1st nn (Ry)
    dd_pi = 0.02629,           -- [P] ddp 1st nn (Ry)
    dd_delta = -0.00600,       -- [P] ddd 1st nn (Ry)
    stoner_i = 1.01,           -- [J] Ni (Himpsel 1991 table)
    hubbard_u = 2.0,           -- [S]
    work_function = 5.15,      -- [M] Ni
    initial_moment = 1.0,      -- [init]
  },
  Cu = {
    structure = "fcc",         -- [P] fcc fit, LCAO_Spin_Dynamics lib/CoCu_pars.f90
    a = 6.822,                 -- [AM] 3.61 Angstrom
    e_s = 0.79466,             -- [P] s on-site (Ry)
    e_p = 1.35351,             -- [P] p on-site (Ry)
    e_t2g = 0.37307,           -- [P] d on-site, first of the two published values (Ry)
    e_eg = 0.37180,            -- [P] d on-site, second of the two published values (Ry)
    ss_sigma = -0.07518,       -- [P] sss 1st nn (Ry)
    sp_sigma = 0.11571,        -- [P] sps 1st nn (Ry)
    sd_sigma = -0.03107,       -- [P] sds 1st nn (Ry)
    pp_sigma = 0.19669,        -- [P] pps 1st nn (Ry)
    pp_pi = 0.01940,           -- [P] ppp 1st nn (Ry)
    pd_sigma = -0.03289,       -- [P] pds 1st nn (Ry)
    pd_pi = 0.01753,           -- [P] pdp 1st nn (Ry)
    dd_sigma = -0.02566,       -- [P] dds 1st nn (Ry)
    dd_pi = 0.01800,           -- [P] ddp 1st nn (Ry)
    dd_delta = -0.00408,       -- [P] ddd 1st nn (Ry)
    stoner_i = 1.01,           -- [J] not magnetic: taken equal to its neighbour Ni (no effect, N_d(E_F) is tiny)
    hubbard_u = 2.0,           -- [S]
    work_function = 4.65,      -- [M] Cu
    initial_moment = 0.0,      -- [init]
  },
  Pd = {
    structure = "fcc",         -- [P] fcc fit, LCAO_Spin_Dynamics lib/NiPd_papac.f90
    a = 7.351,                 -- [AM] 3.89 Angstrom
    e_s = 0.94261,             -- [P] s on-site (Ry)
    e_p = 1.36110,             -- [P] p on-site (Ry)
    e_t2g = 0.36265,           -- [P] t2g on-site (Ry)
    e_eg = 0.37285,            -- [P] eg on-site (Ry)
    ss_sigma = -0.07962,       -- [P] sss 1st nn (Ry)
    sp_sigma = 0.11332,        -- [P] sps 1st nn (Ry)
    sd_sigma = -0.04885,       -- [P] sds 1st nn (Ry)
    pp_sigma = 0.17119,        -- [P] pps 1st nn (Ry)
    pp_pi = -0.00540,          -- [P] ppp 1st nn (Ry)
    pd_sigma = -0.06563,       -- [P] pds 1st nn (Ry)
    pd_pi = 0.02124,           -- [P] pdp 1st nn (Ry)
    dd_sigma = -0.05216,       -- [P] dds 1st nn (Ry)
    dd_pi = 0.02878,           -- [P] ddp 1st nn (Ry)
    dd_delta = -0.00533,       -- [P] ddd 1st nn (Ry)
    stoner_i = 0.68,           -- [J] Pd
    hubbard_u = 2.0,           -- [S]
    work_function = 5.12,      -- [M] Pd
    initial_moment = 0.0,      -- [init]
  },
  Ag = {
    structure = "fcc",         -- [P] fcc fit, LCAO_Spin_Dynamics lib/Ag_Papa.f90
    a = 7.729,                 -- [AM] 4.09 Angstrom
    e_s = 0.68297,             -- [P] s on-site (Ry)
    e_p = 1.13432,             -- [P] p on-site (Ry)
    e_t2g = 0.12249,           -- [P] t2g on-site (Ry)
    e_eg = 0.12006,            -- [P] eg on-site (Ry)
    ss_sigma = -0.06581,       -- [P] sss 1st nn (Ry)
    sp_sigma = 0.09781,        -- [P] sps 1st nn (Ry)
    sd_sigma = -0.03110,       -- [P] sds 1st nn (Ry)
    pp_sigma = 0.15752,        -- [P] pps 1st nn (Ry)
    pp_pi = 0.00649,           -- [P] ppp 1st nn (Ry)
    pd_sigma = -0.03905,       -- [P] pds 1st nn (Ry)
    pd_pi = 0.01519,           -- [P] pdp 1st nn (Ry)
    dd_sigma = -0.03151,       -- [P] dds 1st nn (Ry)
    dd_pi = 0.01757,           -- [P] ddp 1st nn (Ry)
    dd_delta = -0.00336,       -- [P] ddd 1st nn (Ry)
    stoner_i = 0.68,           -- [J] not magnetic: taken equal to its neighbour Pd (no effect)
    hubbard_u = 2.0,           -- [S]
    work_function = 4.26,      -- [M] Ag
    initial_moment = 0.0,      -- [init]
  },
  Pt = {
    structure = "fcc",         -- [P] fcc fit, LCAO_Spin_Dynamics lib/Pt_pars.f90
    a = 7.408,                 -- [AM] 3.92 Angstrom
    e_s = 0.77393,             -- [P] s on-site (Ry)
    e_p = 1.48490,             -- [P] p on-site (Ry)
    e_t2g = 0.43701,           -- [P] t2g on-site (Ry)
    e_eg = 0.45468,            -- [P] eg on-site (Ry)
    ss_sigma = -0.07835,       -- [P] sss 1st nn (Ry)
    sp_sigma = 0.11192,        -- [P] sps 1st nn (Ry)
    sd_sigma = -0.06197,       -- [P] sds 1st nn (Ry)
    pp_sigma = 0.18677,        -- [P] pps 1st nn (Ry)
    pp_pi = -0.02465,          -- [P] ppp 1st nn (Ry)
    pd_sigma = -0.08564,       -- [P] pds 1st nn (Ry)
    pd_pi = 0.02446,           -- [P] pdp 1st nn (Ry)
    dd_sigma = -0.06856,       -- [P] dds 1st nn (Ry)
    dd_pi = 0.03528,           -- [P] ddp 1st nn (Ry)
    dd_delta = -0.00588,       -- [P] ddd 1st nn (Ry)
    stoner_i = 0.60,           -- [SP] Pt about 0.6 eV
    hubbard_u = 2.0,           -- [S]
    work_function = 5.65,      -- [M] Pt
    initial_moment = 0.0,      -- [init]
  },
  Au = {
    structure = "fcc",         -- [P] fcc fit, LCAO_Spin_Dynamics lib/FeWood_AuPP.f90
    a = 7.710,                 -- [AM] 4.08 Angstrom
    e_s = 0.56220,             -- [P] s on-site (Ry)
    e_p = 1.27897,             -- [P] p on-site (Ry)
    e_t2g = 0.26097,           -- [P] t2g on-site (Ry)
    e_eg = 0.25309,            -- [P] eg on-site (Ry)
    ss_sigma = -0.06680,       -- [P] sss 1st nn (Ry)
    sp_sigma = 0.09721,        -- [P] sps 1st nn (Ry)
    sd_sigma = -0.04722,       -- [P] sds 1st nn (Ry)
    pp_sigma = 0.17866,        -- [P] pps 1st nn (Ry)
    pp_pi = -0.01645,          -- [P] ppp 1st nn (Ry)
    pd_sigma = -0.06399,       -- [P] pds 1st nn (Ry)
    pd_pi = 0.01896,           -- [P] pdp 1st nn (Ry)
    dd_sigma = -0.04971,       -- [P] dds 1st nn (Ry)
    dd_pi = 0.02624,           -- [P] ddp 1st nn (Ry)
    dd_delta = -0.00457,       -- [P] ddd 1st nn (Ry)
    stoner_i = 0.60,           -- [SP] not magnetic: taken equal to its neighbour Pt (no effect)
    hubbard_u = 2.0,           -- [S]
    work_function = 5.1,       -- [M] Au
    initial_moment = 0.0,      -- [init]
  },
}
