-- Active learning: surrogate Monte Carlo that calls DFT where the fold ensemble disagrees.
-- Steps (docs/montecarlo.md explains each):
--   1. lsms-surrogate build   examples/fallback_cuau_dft.lua  (tb dataset fallback_cuau.h5)
--   2. lsms-surrogate train   examples/fallback_cuau.lua      (4 fold models in one file)
--   3. lsms-surrogate mc      examples/fallback_cuau.lua      (prints the fallback count)
--   4. lsms-surrogate retrain examples/fallback_cuau.lua      (on the enlarged dataset)
--      lsms-surrogate mc examples/fallback_cuau.lua --restart  (new ensemble, fewer fallbacks)
-- Measured on 2 cores (2026-12-01): step 1 13 s; step 3 806 fallbacks, 400 new tb calculations
-- (the max_fallbacks budget), 42 s of which 41 s tb; after step 4 (526 rows) the rerun needs
-- 1 fallback and takes 0.4 s.
-- Same system and dataset as step 1; only the driver line differs from a DFT deck.
system = { lattice = "fcc", a = 7.2377, supercell = {2,2,2}, species = {"Cu","Au"} }
driver = "surrogate"
surrogate = { model = "fallback_cuau.model.h5", backend = "auto" }
tb = {}   -- the DFT driver the fallback calls (defaults, as in step 1)
dataset = { file = "fallback_cuau.h5" }   -- the fallback appends acquired rows here

training = {
  architecture = { shared = {64, 64} },
  epochs = 300,
  learning_rate = 2e-3,
  lr_schedule = { kind = "cosine", min = 1e-5 },
  batch_fraction = 0.25,
  model = "fallback_cuau.model.h5",       -- all 4 fold models: the ensemble
}

montecarlo = {
  composition = 16,                       -- Cu16Au16
  temperatures = {1500, 1200, 900, 700, 500, 300},  -- K
  schedule = "anneal",                    -- the chains cool through the list
  walkers = 8,
  equilibration = 20,
  sweeps = 100,
  shells = 3,
  output = "fallback_cuau_mc",
  fallback = {
    threshold = 0.06,                     -- Ry: ensemble std of the cell energy (~10% of
                                          -- random Cu16Au16 cells with the first ensemble)
    driver = "tb",
    max_fallbacks = 400,                  -- new tb calculations per run at most
  },
}
