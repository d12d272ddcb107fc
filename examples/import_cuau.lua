-- Import of the published LSMS CuAu results (../shared/data/lsms/CuAu_32atoms.tar.xz):
--   lsms-surrogate import examples/import_cuau.lua ../shared/data/lsms/CuAu_32atoms.tar.xz
-- (about 7 s for 28,788 files on 2 busy cores).
-- Options: --keep-duplicates (default: merge), --drop-outliers (default: keep and report),
-- --charge-tolerance, --force; sampling.unique_translations = true also treats
-- lattice translations as duplicates. The report is kept in the file: lsms-surrogate info FILE.
-- Compositions count Cu atoms (species[1] is "A"); the files' sites are matched onto this
-- lattice by position. cap is what the report compares the counts with.
system = { lattice = "fcc", a = 7.2377, supercell = {2,2,2}, species = {"Cu","Au"} }
sampling = { cap = 1000, seed = 1, test_fraction = 0.1, folds = 60 }
dataset = { file = "cuau_lsms.h5" }

-- Training: a cluster expansion (docs/nn.md, "Model kinds"), fitted in seconds. Measured on
-- this dataset (folds 0-3, 1 thread, 24.6 s CPU for all four, one machine shared by 5 jobs;
-- test split, range over the folds):
--   energy 0.77-0.78 mRy/cell, charge 9.94e-5 e
-- (the paper's MTL network after 1,500 epochs: 11.7-13.7 mRy/cell, 0.004-0.033 e).
-- Triangles within 4 shells (`triplet_shells`) carry the charges: 8.1e-4 e without them.
--   lsms-surrogate train examples/import_cuau.lua
--   lsms-surrogate evaluate examples/import_cuau.lua
-- The paper's exact protocol (MTL network, 30,000 epochs at 1e-4, 60 folds): import_cuau_paper.lua.
training = {
  kind = "cluster_expansion",
  tasks = {"energy", "charge"},
  cluster_expansion = { shells = 6, order = 2, per_composition = true, triplet_shells = 4 },
  folds = {0, 1, 2, 3},
  model = "cuau_lsms_ce.h5",
}
