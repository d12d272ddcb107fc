-- Training on the real LSMS CuAu data (the paper's Table 2 protocol). First import the archive:
--   lsms-surrogate import examples/train_cuau_lsms.lua ../shared/data/lsms/CuAu_32atoms.tar.xz
-- then one quick fold (test RMSE far from converged), or the paper's 60 fold models:
--   lsms-surrogate train examples/train_cuau_lsms.lua --fold 0 --epochs 200
--   lsms-surrogate train examples/train_cuau_lsms.lua              (30000 epochs x 60 folds)
--   lsms-surrogate evaluate examples/train_cuau_lsms.lua --parity
-- STL row of the table: tasks = {"energy"} (and task_specific = 0), another `model` file, then
-- `evaluate -m cuau_lsms_stl_e.h5 -m cuau_lsms_mtl_ec.h5` prints both rows.
system = { lattice = "fcc", a = 7.2377, supercell = {2,2,2}, species = {"Cu","Au"} }
sampling = { cap = 1000, seed = 1, test_fraction = 0.1, folds = 60 }  -- used by `import`
dataset = { file = "cuau_lsms.h5" }
training = {
  tasks = {"energy", "charge"},
  architecture = { shared = {200, 200}, task_specific = 200 },  -- 2x200 shared + 100/100
  learning_rate = 1e-4, epochs = 30000, batch_fraction = 0.1,    -- Adam; the paper's values
  energy_target = "mixing",   -- "standardized" + charge_target = "total": the paper exactly
  model = "cuau_lsms_mtl_ec.h5",
}
