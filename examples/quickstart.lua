-- Quick start: the whole pipeline on the embedded tight-binding engine, in minutes on 2 cores
-- (scripts/setup-and-run.sh runs it). CuAu on the paper's 32-site fcc cell:
--   lsms-surrogate build quickstart.lua      at most 20 configurations per composition (622),
--                                            computed with the tb engine
--   lsms-surrogate train quickstart.lua      4 fold models (energy + charges, MTL)
--   lsms-surrogate evaluate quickstart.lua   test errors, paper-style tables
--   then change the driver line to "surrogate" and run `lsms-surrogate mc`: Monte Carlo on
--   the surrogate, falling back to tb where the 4 models disagree.
system = { lattice = "fcc", a = 7.2377, supercell = {2,2,2}, species = {"Cu","Au"} }

driver = "tb"   -- the one line that switches between DFT ("tb", "lsms") and "surrogate"

-- Gamma only gets the CuAu ordering tendency wrong; the default final pass on the 2x2x2
-- shifted grid gets it right at about 40 ms per configuration (docs/tb.md).
tb = {}   -- defaults: SCF at Gamma, final pass on the 2x2x2 shifted k grid (docs/tb.md)

sampling = { cap = 20, seed = 1, test_fraction = 0.1, folds = 4 }
dataset = { file = "quickstart.h5", batch = 4, retries = 2 }

training = {
  tasks = {"energy", "charge"},
  architecture = { shared = {64, 64}, task_specific = 64 },
  learning_rate = 1e-3, epochs = 1000, batch_fraction = 0.1,
  lr_schedule = { kind = "cosine", min = 1e-5 },
  model = "quickstart.model.h5",
}

surrogate = { model = "quickstart.model.h5" }   -- used when driver = "surrogate"

local temperatures = {}
for T = 1500, 100, -200 do temperatures[#temperatures + 1] = T end
montecarlo = {
  composition = 16,             -- Cu16Au16
  temperatures = temperatures,  -- K, visited in this order
  schedule = "anneal",
  walkers = 8, sweeps = 400, equilibration = 100,
  output = "quickstart_mc",
  -- DFT fallback where the 4 models' energies spread by more than 5 mRy per cell
  fallback = { threshold = 0.005, driver = "tb", max_fallbacks = 100 },
}
