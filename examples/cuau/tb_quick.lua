-- Study: CuAu, fcc 2x2x2 conventional cells (32 sites, the paper's cell);
-- the quick variant: minutes on 2 cores. Run from the repository root:
--   lsms-surrogate study examples/cuau/tb_quick.lua
-- The report goes to cuau_tb_quick_report/ (index.html, tables as CSV, figures). lsms_quick.lua is the same
-- study on the published LSMS data: the two decks differ only in the driver block below.

-- ---- driver block ----------------------------------------------------------------------
driver = "tb"
tb = {}                  -- defaults (docs/tb.md)
local import = nil       -- the dataset is computed with the driver
local name = "cuau_tb_quick"
-- ---- end of the driver block -------------------------------------------------------------

system = { lattice = "fcc", a = 7.2377, supercell = {2,2,2}, species = {"Cu","Au"} }
sampling = { cap = 20, seed = 1, test_fraction = 0.1, folds = 10 }
dataset = { file = name .. ".h5", batch = 4, retries = 2 }

training = {
  architecture = { shared = {64,64}, task_specific = 64 },
  learning_rate = 1e-3, epochs = 100, batch_fraction = 0.01,
  lr_schedule = { kind = "cosine", min = 1e-5 },
  folds = {0, 1, 2, 3},   -- 4 fold models per model (of the 10 folds of the split)
}

local temperatures = {}
for T = 1500, 100, -200 do temperatures[#temperatures + 1] = T end
montecarlo = {
  composition = 16, temperatures = temperatures, schedule = "anneal",
  walkers = 8, sweeps = 400, equilibration = 100,
}

study = {
  report = name .. "_report",
  import = import,
  models = {
    { name = "STL E", tasks = {"energy"}, architecture = { shared = {64,64} } },
    { name = "STL C", tasks = {"charge"}, architecture = { shared = {64,64} } },
    { name = "MTL E+C", tasks = {"energy", "charge"} },
    -- the pair + triangle cluster expansion (docs/nn.md, "Model kinds"): fitted in seconds
    { name = "CE E+C", kind = "cluster_expansion", tasks = {"energy", "charge"},
      cluster_expansion = { shells = 6, order = 2, per_composition = true, triplet_shells = 4 } },
  },
  mc_model = "MTL E+C",
}
