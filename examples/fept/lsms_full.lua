-- Study: FePt, body-centred tetragonal 4x2x2 cells of 2 sites (32 sites; the paper's "BCC 2x2x4");
-- the full variant: the paper's protocol, for a cluster (full.sbatch). Run from the repository root:
--   sbatch examples/fept/full.sbatch lsms
-- The report goes to fept_lsms_full_report/ (index.html, tables as CSV, figures). tb_full.lua is the same
-- study on the embedded engine: the two decks differ only in the driver block below.

-- ---- driver block ----------------------------------------------------------------------
driver = "lsms"
lsms = {                 -- used only where a new configuration must be computed
  executable = "../../../shared/lsms/bin/lsms_asa", kind = "lsms_asa",
  launcher = {"mpirun", "-np", "{ranks}"}, ranks = 32, start = "scratch", nspin = 2,
}
local import = "../../../shared/data/lsms/FePt_32atoms.tar.xz"   -- the published LSMS results
local name = "fept_lsms_full"
-- ---- end of the driver block -------------------------------------------------------------

system = { lattice = "bct", a = 5.218, c = 7.058, supercell = {4,2,2}, species = {"Fe","Pt"} }
sampling = { cap = 1000, seed = 1, test_fraction = 0.1, folds = 60 }
dataset = { file = name .. ".h5", batch = 4, retries = 2 }

training = {   -- the paper's protocol (docs/nn.md)
  architecture = { shared = {300,300}, task_specific = 300 },
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
    { name = "STL E", tasks = {"energy"}, architecture = { shared = {300,300} } },
    { name = "STL C", tasks = {"charge"}, architecture = { shared = {300,300} } },
    { name = "STL M", tasks = {"moment"}, architecture = { shared = {300,300} } },
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
