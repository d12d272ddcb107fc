-- CuAu, small and quick: the paper's 32-site fcc cell, at most 20 configurations per
-- composition (622 in all), computed with the embedded tight-binding engine.
--   lsms-surrogate build examples/cuau_small.lua                 (about a minute on 2 cores)
--   mpirun -np 2 lsms-surrogate build examples/cuau_small.lua    (rank 0 also computes)
-- Rerun the same command to resume after an interruption.
system = { lattice = "fcc", a = 7.2377, supercell = {2,2,2}, species = {"Cu","Au"} }
driver = "tb"
-- Gamma only gets the CuAu ordering tendency wrong; the default final pass on the 2x2x2
-- shifted grid gets it right at about 40 ms per configuration (docs/tb.md).
tb = {}   -- defaults: SCF at Gamma, final pass on the 2x2x2 shifted k grid (docs/tb.md)
sampling = {
  cap = 20,            -- configurations per composition (all of them where fewer exist)
  seed = 1,
  test_fraction = 0.1, -- 10% test per composition ...
  folds = 10,          -- ... and the rest in 10 cross-validation folds
}
dataset = {
  file = "cuau_small.h5",
  batch = 4,           -- configurations per work message (tb takes ~50 ms each)
  retries = 2,
}
