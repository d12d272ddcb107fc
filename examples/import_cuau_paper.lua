-- The paper's exact protocol on the published LSMS CuAu results (days on a CPU: 60 folds x
-- 30,000 epochs); examples/import_cuau.lua gets further in minutes. Import as below, with this
-- deck or import_cuau.lua (same system, sampling and dataset file).
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

-- Training (nn): the paper's CuAu MTL E+C model; `tasks = {"energy"}` (task_specific = 0) for
-- the STL row. The paper trains all 60 folds for 30000 epochs; a quick look:
--   lsms-surrogate train examples/import_cuau_paper.lua --fold 0 --epochs 1500
--   lsms-surrogate evaluate examples/import_cuau_paper.lua --parity
training = {
  tasks = {"energy", "charge"},
  architecture = { shared = {200, 200}, task_specific = 200 },  -- 2x200 shared + 100/100 per task
  learning_rate = 1e-4, epochs = 30000, batch_fraction = 0.1,
  model = "cuau_lsms_mtl_ec.h5",
}
