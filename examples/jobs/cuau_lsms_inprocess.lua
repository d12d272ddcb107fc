-- CuAu with real DFT, LSMS in-process (examples/jobs/slurm_build_inprocess.sbatch): the deck of
-- examples/cuau_lsms_dft.lua with lsms.mode = "in_process" and the rank groups of the builder
-- sized to one LSMS calculation (32 ranks, one per atom). Needs a build configured with
-- -DLSMSS_LSMS_BUILD_DIR (docs/lsms-inprocess.md). In-process runs lsms_asa.
--   srun -n 129 lsms-surrogate build cuau_lsms_inprocess.lua   (rank 0 + 4 groups of 32)
system = { lattice = "fcc", a = 7.2377, supercell = {2,2,2}, species = {"Cu","Au"} }
driver = "lsms"
lsms = {
  mode = "in_process",
  kind = "lsms_asa",
  ranks = 32,              -- = dataset.ranks_per_calculation
  start = "scratch",
  nscf = 60,
  rms_tolerance = 1e-6,
  timeout = 1800,          -- s; checked at each SCF iteration, recorded as a time-out
  work_dir = "lsms-runs",  -- on a file system all ranks of a group reach
}
sampling = { cap = 1000, seed = 1, test_fraction = 0.1, folds = 60 }
dataset = { file = "cuau_lsms_inprocess.h5", ranks_per_calculation = 32, retries = 2 }
