-- CuAu with real DFT: the paper's dataset computed by LSMS (github.com/mstsuite/lsms) on a
-- cluster. Same system, sampling and splits as cuau_full.lua; only the driver line and the
-- driver's own table differ. Each builder rank launches one 32-rank LSMS job (one rank per
-- atom) through the site's launcher; see examples/jobs/ for Slurm and LSF scripts and
-- docs/lsms.md for pointing the driver at a site's LSMS:
--   mpirun -np 4 lsms-surrogate build examples/cuau_lsms_dft.lua     (4 LSMS runs at a time)
-- Under Slurm use launcher = {"srun", "--exclusive", "-N", "1", "-n", "{ranks}"}, under LSF
-- {"jsrun", "-n", "{ranks}"}. As shipped it runs the LSMS in ../shared beside the checkout
-- (lsms_asa from scratch: `lsms`, the muffin-tin code, aborts from scratch and needs
-- start = "potentials"). One calculation is a supercomputer job (minutes per SCF iteration).
system = { lattice = "fcc", a = 7.2377, supercell = {2,2,2}, species = {"Cu","Au"} }
driver = "lsms"
lsms = {
  executable = "../../shared/lsms/bin/lsms_asa",  -- relative: taken from this deck's folder
  kind = "lsms_asa",
  launcher = {"mpirun", "-np", "{ranks}"},
  ranks = 32,
  start = "scratch",
  nspin = 1,               -- CuAu is not magnetic
  nscf = 60,
  rms_tolerance = 1e-6,    -- charge rms (LSMS's own criterion, with energy_tolerance)
  energy_tolerance = 1e-8,
  timeout = 1800,          -- s; a run past it is killed and recorded as a time-out
  work_dir = "lsms-runs",
  warm_start = true,
}
sampling = { cap = 1000, seed = 1, test_fraction = 0.1, folds = 60 }
dataset = { file = "cuau_lsms_dft.h5", ranks_per_calculation = 1, retries = 2 }
