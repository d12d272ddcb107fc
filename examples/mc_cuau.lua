-- Surrogate Monte Carlo of Cu16Au16 (the paper's 32-site fcc cell) over a temperature list.
--   lsms-surrogate build examples/cuau_small.lua   (tb dataset cuau_small.h5, about a minute)
--   lsms-surrogate train examples/mc_cuau.lua      (4 fold models of the paper's 64-200-200-1)
--   lsms-surrogate mc    examples/mc_cuau.lua      (tables, mc_cuau_mc_*.tsv/.json, .png plot)
-- driver = "tb" instead of "surrogate" runs the same sampling with the tight-binding engine
-- (about 10^4 times slower: bench/bench_mc).
system = { lattice = "fcc", a = 7.2377, supercell = {2,2,2}, species = {"Cu","Au"} }
driver = "surrogate"
surrogate = { model = "cuau_small.model.h5", backend = "auto" }
tb = {}   -- defaults, as cuau_small.lua built the dataset
dataset = { file = "cuau_small.h5" }

training = {
  architecture = { shared = {200, 200} },  -- the paper's CuAu STL size
  epochs = 300,
  learning_rate = 1e-3,
  lr_schedule = { kind = "cosine", min = 1e-5 },
  batch_fraction = 0.1,
  folds = {0, 1, 2, 3},                    -- 4 of the 10 folds: an ensemble with a spread
  model = "cuau_small.model.h5",
}

montecarlo = {
  composition = 16,
  -- K; tb's ordering energies put the order-disorder range in the thousands of K
  temperatures = {8000, 6000, 5000, 4000, 3000, 2500, 2000, 1500, 1000},
  walkers = 32,                            -- chains per temperature, all batched together
  equilibration = 200,
  sweeps = 1000,
  shells = 3,
  seed = 1,
}
