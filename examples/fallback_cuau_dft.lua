-- Active-learning example, step 1 of 4: a small DFT dataset for the surrogate ensemble.
-- The embedded tight-binding engine stands in for DFT (driver = "lsms" and an lsms = {...}
-- table run real LSMS). The paper's 32-site fcc CuAu cell, 4 configurations per composition
-- (all of them where fewer exist), one of each 4 held out for testing: 126 calculations,
-- about 15 s on one core.
--   lsms-surrogate build examples/fallback_cuau_dft.lua
-- Then continue with examples/fallback_cuau.lua (train, mc with fallback, retrain).
system = { lattice = "fcc", a = 7.2377, supercell = {2,2,2}, species = {"Cu","Au"} }
driver = "tb"
tb = {}   -- defaults: final pass on the 2x2x2 shifted grid, right CuAu ordering sign (docs/tb.md)
sampling = { cap = 4, seed = 7, folds = 4, test_fraction = 0.25 }
dataset = { file = "fallback_cuau.h5", batch = 4 }
