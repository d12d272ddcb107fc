-- CuAu with real DFT: the paper's dataset computed by LSMS (github.com/mstsuite/lsms) on a
-- cluster. Same system, sampling and splits as cuau_full.lua; only the driver line and the
-- driver's own table differ. Each builder rank launches one 32-rank LSMS job (one rank per
-- atom) through the site's launcher; see examples/jobs/ for Slurm and LSF scripts.
--   srun -n 4 lsms-surrogate build examples/cuau_lsms_dft.lua     (4 LSMS runs at a time)
system = { lattice = "fcc", a = 7.2377, supercell = {2,2,2}, species = {"Cu","Au"} }
driver = "lsms"
lsms = {
  executable = "lsms",
  launcher = {"srun", "--exclusive", "-N", "1", "-n", "{ranks}"},
  ranks = 32,
  start = "scratch",
  nscf = 60,
  rms_tolerance = 1e-6,
  timeout = 1800,          -- s; a run past it is killed and recorded as a time-out
  work_dir = "lsms-runs",
}
sampling = { cap = 1000, seed = 1, test_fraction = 0.1, folds = 60 }
dataset = { file = "cuau_lsms_dft.h5", ranks_per_calculation = 1, retries = 2 }
