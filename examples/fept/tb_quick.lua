-- Study: FePt, body-centred tetragonal 4x2x2 cells of 2 sites (32 sites; the paper's "BCC 2x2x4");
-- the quick variant: minutes on 2 cores. Run from the repository root:
--   lsms-surrogate study examples/fept/tb_quick.lua
-- The report goes to fept_tb_quick_report/ (index.html, tables as CSV, figures). lsms_quick.lua is the same
-- study on the published LSMS data: the two decks differ only in the driver block below.

-- ---- driver block ----------------------------------------------------------------------
driver = "tb"
tb = {}                  -- defaults (docs/tb.md)
local import = nil       -- the dataset is computed with the driver
local name = "fept_tb_quick"
-- ---- end of the driver block -------------------------------------------------------------

system = { lattice = "bct", a = 5.218, c = 7.058, supercell = {4,2,2}, species = {"Fe","Pt"} }
sampling = { cap = 20, seed = 1, test_fraction = 0.1, folds = 10 }
dataset = { file = name .. ".h5", batch = 4, retries = 2 }

training = {
  architecture = { shared = {64,64}, task_specific = 96 },
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
    { name = "STL M", tasks = {"moment"}, architecture = { shared = {64,64} } },
    { name = "MTL E+C", tasks = {"energy", "charge"} },
    { name = "MTL E+M", tasks = {"energy", "moment"} },
    { name = "MTL C+M", tasks = {"charge", "moment"} },
    { name = "MTL E+C+M", tasks = {"energy", "charge", "moment"} },
    -- the pair + triangle cluster expansion (docs/nn.md, "Model kinds"): fitted in seconds
    { name = "CE E+C+M", kind = "cluster_expansion", tasks = {"energy", "charge", "moment"},
      cluster_expansion = { shells = 6, order = 2, per_composition = true, triplet_shells = 3 } },
  },
  mc_model = "MTL E+C+M",
}
