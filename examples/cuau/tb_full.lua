-- Study: CuAu, fcc 2x2x2 conventional cells (32 sites, the paper's cell);
-- the full variant: the paper's protocol, for a cluster (full.sbatch). Run from the repository root:
--   sbatch examples/cuau/full.sbatch tb
-- The report goes to cuau_tb_full_report/ (index.html, tables as CSV, figures). lsms_full.lua is the same
-- study on the published LSMS data: the two decks differ only in the driver block below.

-- ---- driver block ----------------------------------------------------------------------
driver = "tb"
tb = {}                  -- defaults (docs/tb.md)
local import = nil       -- the dataset is computed with the driver
local name = "cuau_tb_full"
-- ---- end of the driver block -------------------------------------------------------------

system = { lattice = "fcc", a = 7.2377, supercell = {2,2,2}, species = {"Cu","Au"} }
sampling = { cap = 1000, seed = 1, test_fraction = 0.1, folds = 60 }
dataset = { file = name .. ".h5", batch = 4, retries = 2 }

training = {   -- the paper's protocol (docs/nn.md)
  architecture = { shared = {200,200}, task_specific = 200 },
  learning_rate = 1e-4, epochs = 30000, batch_fraction = 0.1,
}

local temperatures = {}
for T = 2000, 100, -50 do temperatures[#temperatures + 1] = T end
montecarlo = {
  composition = 16, temperatures = temperatures, schedule = "anneal",
  walkers = 64, sweeps = 5000, equilibration = 1000,
}

study = {
  report = name .. "_report",
  import = import,
  models = {
    { name = "STL E", tasks = {"energy"}, architecture = { shared = {200,200} } },
    { name = "STL C", tasks = {"charge"}, architecture = { shared = {200,200} } },
    { name = "MTL E+C", tasks = {"energy", "charge"} },
    -- the pair + triangle cluster expansion (docs/nn.md, "Model kinds"): fitted in seconds
    { name = "CE E+C", kind = "cluster_expansion", tasks = {"energy", "charge"},
      cluster_expansion = { shells = 6, order = 2, per_composition = true, triplet_shells = 4 } },
  },
  mc_model = "MTL E+C",
}
