-- Real DFT on a laptop: B2 CuZn (2-site bcc cell, LSMS's own regression system) computed by the
-- LSMS in ../shared/lsms (lsms_asa, from scratch, then warm starts). Runs as shipped from a
-- checkout with ../shared beside it; elsewhere point `executable` at your lsms_asa.
--   lsms-surrogate calc examples/cuzn_lsms_small.lua -c 01 -c 10 --sites   (about 15 s)
--   mpirun -np 2 lsms-surrogate build examples/cuzn_lsms_small.lua         (3 configurations)
-- As root, OpenMPI's mpirun also needs OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1.
system = { lattice = "bcc", a = 3.61 / 0.529177, supercell = {1,1,1}, species = {"Cu","Zn"} }
driver = "lsms"
lsms = {
  executable = "../../shared/lsms/bin/lsms_asa",  -- relative: taken from this deck's folder
  launcher = {"mpirun", "-np", "{ranks}"},
  ranks = 1,               -- MPI ranks of one LSMS run
  nspin = 1,               -- CuZn is not magnetic
  nscf = 40,
  rms_tolerance = 1e-4,    -- LSMS's criterion: charge rms below this ...
  energy_tolerance = 1e-7, -- ... and relative energy change below this
  efermi = 0.26,           -- Ry, start
  timeout = 300,           -- s per calculation
  work_dir = "lsms-runs",  -- relative to the working directory
  warm_start = true,       -- start from the converged potentials of the previous configuration
}
sampling = { cap = 1, seed = 1, folds = 2, test_fraction = 0.0 }
dataset = { file = "cuzn_lsms_small.h5", ranks_per_calculation = 1, retries = 1 }
