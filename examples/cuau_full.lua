-- CuAu, the paper's dataset: 32-site fcc cell, at most 1000 distinct configurations per
-- composition, all of them where fewer exist (0, 1, 2, 30, 31 and 32 atoms of Cu): 28,058
-- configurations (the paper rounds this to "32,000"). 10% test per composition, 60 folds.
--   mpirun -np 17 lsms-surrogate build examples/cuau_full.lua
-- The same deck with driver = "lsms" (and an lsms = {...} table) runs real DFT.
system = { lattice = "fcc", a = 7.2377, supercell = {2,2,2}, species = {"Cu","Au"} }
driver = "tb"
-- Gamma only gets the CuAu ordering tendency wrong; the default final pass on the 2x2x2
-- shifted grid gets it right at about 40 ms per configuration (docs/tb.md).
tb = {}   -- defaults: SCF at Gamma, final pass on the 2x2x2 shifted k grid (docs/tb.md)
sampling = { cap = 1000, seed = 1, test_fraction = 0.1, folds = 60 }
dataset = { file = "cuau_full.h5", batch = 8, retries = 2 }
