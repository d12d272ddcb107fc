-- Surrogates for the tight-binding CuAu dataset of examples/cuau_small.lua (622 configurations,
-- 10 folds). Build the data, then train and evaluate, e.g. 2 folds of the MTL E+C model:
--   lsms-surrogate build examples/train_cuau_small.lua
--   lsms-surrogate train examples/train_cuau_small.lua --folds 0,1
--   lsms-surrogate evaluate examples/train_cuau_small.lua --parity
system = { lattice = "fcc", a = 7.2377, supercell = {2,2,2}, species = {"Cu","Au"} }
driver = "tb"
sampling = { cap = 20, seed = 1, test_fraction = 0.1, folds = 10 }
dataset = { file = "cuau_small.h5", batch = 4, retries = 2 }
training = {
  tasks = {"energy", "charge"},
  architecture = { shared = {200, 200}, task_specific = 200 },  -- the paper's CuAu MTL
  learning_rate = 1e-3,  -- 560 training rows: a faster rate than the paper's 1e-4 ...
  epochs = 2000,         -- ... and fewer epochs (each is one Adam step per 10% of the rows)
  batch_fraction = 0.1,
  model = "cuau_small_mtl_ec.h5",
}
