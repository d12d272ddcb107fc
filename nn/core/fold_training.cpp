#include "nn/core/fold_training.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "core/error.hpp"
#include "core/mpi.hpp"
#include "nn/core/multi_fold.hpp"

namespace lsmss::nn {

namespace {

void save_all(const std::filesystem::path& path, const std::vector<Model>& models) {
  std::vector<const Model*> pointers;
  pointers.reserve(models.size());
  for (const auto& m : models) pointers.push_back(&m);
  save_models(path, pointers);
}

// This rank's share of the folds, saved to `work_file` after each one.
std::vector<Model> train_share(const dataset::Dataset& data, const TrainingOptions& options,
                               const std::vector<int>& folds, const FoldTrainingRun& run, int rank,
                               int ranks, const std::filesystem::path& work_file) {
  std::vector<Model> models;
  // The GPU: all of this rank's folds in one run (plain MLPs; other kinds go fold by fold
  // through train_model).
  if (trains_folds_together(options) && options.kind == ModelKind::mlp &&
      options.augment_translations == 0 && options.augment_symmetry.copies == 0) {
    std::vector<int> share;
    for (std::size_t i = rank; i < folds.size(); i += ranks) share.push_back(folds[i]);
    models = train_folds_together(data, options, share, run.deck_text);
    for (const auto& m : models)
      if (run.system) m.check_matches(*run.system);
    save_all(work_file, models);
    if (run.on_model)
      for (const auto& m : models) run.on_model(m);
    return models;
  }
  for (std::size_t i = rank; i < folds.size(); i += ranks) {
    models.push_back(train_model(data, options, folds[i], run.deck_text));
    if (run.system) models.back().check_matches(*run.system);
    save_all(work_file, models);
    if (run.on_model) run.on_model(models.back());
  }
  return models;
}

// Every rank learns whether any failed, so none waits for a partner that is gone.
void agree_on_failure(MPI_Comm comm, const std::string& error) {
  int failed = error.empty() ? 0 : 1, any = 0;
  MPI_Allreduce(&failed, &any, 1, MPI_INT, MPI_MAX, comm);
  if (any)
    fail("training failed on {}: {}", error.empty() ? "another rank" : "this rank",
         error.empty() ? "see its message" : error);
}

std::vector<Model> gather_parts(const std::filesystem::path& output, int ranks_used,
                                const std::string& backend) {
  std::vector<Model> gathered;
  for (int r = 0; r < ranks_used; ++r) {
    const auto part = fold_part_file(output, r);
    const std::size_t n = Model::count_in_file(part);
    for (std::size_t i = 0; i < n; ++i) gathered.push_back(Model::load_member(part, i, backend));
  }
  std::sort(gathered.begin(), gathered.end(),
            [](const Model& a, const Model& b) { return a.fold() < b.fold(); });
  return gathered;
}

// Replaces `output` by `finished`, keeping an existing output as <stem>.prev.h5 when asked.
std::filesystem::path install_output(const std::filesystem::path& finished,
                                     const std::filesystem::path& output, bool keep_previous) {
  std::filesystem::path previous;
  if (keep_previous && std::filesystem::exists(output)) {
    previous = std::filesystem::path(output).replace_extension("").string() + ".prev.h5";
    std::filesystem::rename(output, previous);
  }
  std::filesystem::rename(finished, output);
  return previous;
}

}  // namespace

std::filesystem::path fold_part_file(const std::filesystem::path& output, int rank) {
  return fmt::format("{}.rank{}.part.h5", output.string(), rank);
}

FoldTrainingResult train_folds(const dataset::Dataset& data, const TrainingOptions& options,
                               const std::vector<int>& folds, const FoldTrainingRun& run) {
  const int rank = mpi::rank_of(run.comm), ranks = mpi::size_of(run.comm);
  FoldTrainingResult result;
  result.ranks_used = std::max(1, std::min<int>(ranks, static_cast<int>(folds.size())));
  // One rank writing straight into the output keeps the finished folds there; otherwise each
  // rank works in its part file.
  const bool direct = ranks == 1 && !run.keep_previous;
  const std::filesystem::path work = direct ? run.output : fold_part_file(run.output, rank);
  if (ranks == 1) {
    result.models = train_share(data, options, folds, run, 0, 1, work);
    if (!direct) result.previous = install_output(work, run.output, run.keep_previous);
    return result;
  }
  std::vector<Model> mine;
  std::string error;
  try {
    mine = train_share(data, options, folds, run, rank, ranks, work);
  } catch (const std::exception& e) {
    error = e.what();
  }
  agree_on_failure(run.comm, error);
  if (rank != 0) return result;
  result.models = gather_parts(run.output, result.ranks_used, options.backend);
  const std::filesystem::path gathered = run.output.string() + ".gathered.h5";
  save_all(gathered, result.models);
  result.previous = install_output(gathered, run.output, run.keep_previous);
  for (int r = 0; r < result.ranks_used; ++r)
    std::filesystem::remove(fold_part_file(run.output, r));
  return result;
}

}  // namespace lsmss::nn
