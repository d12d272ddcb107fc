-- The paper's exact protocol on the published LSMS FePt results (days on a CPU: 60 folds x
-- 30,000 epochs); examples/import_fept.lua gets further in seconds. Import as below, with this
-- deck or import_fept.lua (same system, sampling and dataset file).
-- Import of the published LSMS FePt results (../shared/data/lsms/FePt_32atoms.tar.xz):
--   lsms-surrogate import examples/import_fept.lua ../shared/data/lsms/FePt_32atoms.tar.xz
-- (about 7 s for 28,814 files on 2 busy cores).
-- Options: --keep-duplicates (default: merge), --drop-outliers (default: keep and report),
-- --charge-tolerance, --force; sampling.unique_translations = true also treats
-- lattice translations as duplicates. The report is kept in the file: lsms-surrogate info FILE.
-- Compositions count Fe atoms. The files list a 2x2x2 block of cells and then the same block
-- shifted by 2a along x: sites are matched onto this lattice by position, never by order.
system = { lattice = "bct", a = 5.218, c = 7.058, supercell = {4,2,2}, species = {"Fe","Pt"} }
sampling = { cap = 1000, seed = 1, test_fraction = 0.1, folds = 60 }
dataset = { file = "fept_lsms.h5" }

-- Training (nn): the paper's FePt MTL E+C+M model (2x300 shared + 100/100/100 per task).
--   lsms-surrogate train examples/import_fept_paper.lua --fold 0 --epochs 800
--   lsms-surrogate evaluate examples/import_fept_paper.lua --parity
training = {
  tasks = {"energy", "charge", "moment"},
  architecture = { shared = {300, 300}, task_specific = 300 },
  learning_rate = 1e-4, epochs = 30000, batch_fraction = 0.1,
  model = "fept_lsms_mtl_ecm.h5",
}
