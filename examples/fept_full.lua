-- FePt, the paper's dataset: body-centred tetragonal cell (the paper's "BCC 2x2x4"), a = 5.218,
-- c = 7.058 Bohr, 4x2x2 cells of 2 sites = 32 sites; at most 1000 configurations per composition
-- (28,058 in all); energy, charges and magnetic moments. 10% test per composition, 60 folds.
--   mpirun -np 17 lsms-surrogate build examples/fept_full.lua
system = { lattice = "bct", a = 5.218, c = 7.058, supercell = {4,2,2}, species = {"Fe","Pt"} }
driver = "tb"
sampling = { cap = 1000, seed = 1, test_fraction = 0.1, folds = 60 }
dataset = { file = "fept_full.h5", batch = 8, retries = 2 }
