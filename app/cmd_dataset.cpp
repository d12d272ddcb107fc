// `build`: sample configurations and compute them into an HDF5 dataset (MPI-parallel, resumable);
// `import`: harvest LSMS output files into the same format, with a validation report;
// `info`: print what a dataset file (or another lsms-surrogate HDF5 file) holds.
#include <chrono>

#include <fmt/format.h>

#include "app/common.hpp"
#include "core/hdf5.hpp"
#include "core/hdf5_listing.hpp"
#include "core/mpi.hpp"
#include "dataset_builder/builder.hpp"
#include "dataset_builder/importer.hpp"
#include "dataset_builder/store.hpp"

namespace lsmss::app {
namespace {

// Attributes and objects of an lsms-surrogate HDF5 file that is not a dataset (e.g. a model).
void print_generic_h5(const std::string& path) {
  const h5::FileContents contents = h5::list_contents(h5::File::open(path, h5::Mode::read));
  fmt::print("file          {}\n", path);
  for (const auto& a : contents.root_attributes) {
    using Kind = h5::AttributeValue::Kind;
    std::string v = "?";  // unreadable, or an empty string list
    if (a.kind == Kind::strings && !a.strings.empty())
      v = a.strings.front();
    else if (a.kind == Kind::ints)
      v = fmt::format("{}", fmt::join(a.ints, ", "));
    else if (a.kind == Kind::doubles)
      v = fmt::format("{}", fmt::join(a.doubles, ", "));
    if (v.size() > 120) v = v.substr(0, 117) + "...";
    for (auto& ch : v)
      if (ch == '\n') ch = ' ';
    fmt::print("  @{} = {}\n", a.name, v);
  }
  for (const auto& o : contents.objects) {
    if (o.is_dataset)
      fmt::print("  /{} [{}]\n", o.path, fmt::join(o.shape, " x "));
    else
      fmt::print("  /{}/\n", o.path);
  }
}

void add_build_command(CLI::App& app, AppContext& ctx) {
  auto* sub = app.add_subcommand("build",
                                 "sample configurations (sampling = {...}) and compute them with "
                                 "the deck's driver into an HDF5 "
                                 "dataset (dataset = {...}); rerun the same command to resume; "
                                 "MPI: mpirun -np P lsms-surrogate build");
  struct Opts {
    std::string deck, output;
    bool allow_driver_change = false, retry_failed = false, quiet = false;
    long max_calculations = -1;
  };
  auto o = std::make_shared<Opts>();
  sub->add_option("deck", o->deck, "Lua input deck")->required()->check(CLI::ExistingFile);
  sub->add_option("-o,--output", o->output, "dataset file (overrides dataset.file)");
  sub->add_flag("--allow-driver-change", o->allow_driver_change,
                "resume although the driver's deck settings changed (only for settings that do not "
                "change results, e.g. paths or thread counts)");
  sub->add_flag("--retry-failed", o->retry_failed,
                "give configurations that used up their retries (dataset.retries) another round");
  sub->add_option("--max-calculations", o->max_calculations,
                  "stop after this many calculations (a partial run; rerun to continue)")
      ->check(CLI::NonNegativeNumber);
  sub->add_flag("-q,--quiet", o->quiet, "no progress bar");
  sub->callback([&ctx, o] {
    mpi::Session session;  // only `build` needs MPI
    const int rank = mpi::rank_of(MPI_COMM_WORLD);
    LoadedDeck d = load_deck(o->deck, ctx);
    dataset::BuildOptions opts;
    opts.output = o->output;
    opts.allow_driver_change = o->allow_driver_change;
    opts.retry_failed = o->retry_failed;
    opts.max_calculations = o->max_calculations;
    opts.progress = !o->quiet && rank == 0;
    opts.on_rank_failure = [](int failed_rank, const std::exception& e) {
      fmt::print(stderr, "lsms-surrogate: error: rank {}: {}\n", failed_rank, e.what());
      std::fflush(stderr);
      MPI_Abort(MPI_COMM_WORLD, 1);
    };
    const auto s = dataset::build_dataset(d.deck, d.system, ctx.registry, opts, MPI_COMM_WORLD);
    if (!s.coordinator) return;
    fmt::print("\n{} on {}: per composition (energies in Ry)\n", d.system.name(),
               d.system.lattice.describe());
    dataset::print_composition_table(stdout, s.compositions, s.distinct);
    std::size_t ok = 0, failed = 0, pending = 0;
    for (const auto& c : s.compositions) ok += c.ok, failed += c.failed, pending += c.pending;
    fmt::print(
        "\n{} calculations in {:.2f} s ({:.1f} configs/s), {} of them failed; dataset {}: {} ok, "
        "{} failed, "
        "{} pending of {}\n",
        s.calculated, s.seconds, s.seconds > 0 ? s.calculated / s.seconds : 0.0, s.failed_attempts,
        s.file.string(), ok, failed, pending, s.planned);
    if (pending > 0) fmt::print("rerun the same command to continue\n");
    if (failed > 0)
      fmt::print(
          "failed configurations keep their reasons in /results/message; --retry-failed retries "
          "them\n");
  });
}

void add_import_command(CLI::App& app, AppContext& ctx) {
  auto* sub =
      app.add_subcommand("import",
                         "import LSMS output files (info_evec format) from a directory or a tar "
                         "archive (.tar, .tar.xz, .tar.gz) "
                         "into an HDF5 dataset, with a validation report per composition");
  struct Opts {
    std::string deck, source, output;
    dataset::ImportOptions io;
    bool keep_duplicates = false, quiet = false;
    std::size_t list = 20;
  };
  auto o = std::make_shared<Opts>();
  sub->add_option("deck", o->deck, "Lua input deck (system, sampling, dataset)")
      ->required()
      ->check(CLI::ExistingFile);
  sub->add_option("source", o->source, "directory or tar archive of LSMS output files")->required();
  sub->add_option("-o,--output", o->output, "dataset file (overrides dataset.file)");
  sub->add_flag("-f,--force", o->io.force, "replace an existing output file");
  sub->add_flag(
      "--keep-duplicates", o->keep_duplicates,
      "keep every file as its own row (default: one row per distinct configuration, the first "
      "file in natural name order)");
  sub->add_option("--duplicate-tolerance", o->io.duplicate_tolerance,
                  "duplicates 'agree' when energies (Ry), charges (e) and moments (muB) differ "
                  "by at most this")
      ->capture_default_str()
      ->check(finite_in(0, 1e3));
  sub->add_flag("--drop-outliers", o->io.drop_outliers,
                "leave energy outliers out (default: keep and report)");
  sub->add_option("--outlier-threshold", o->io.outlier_threshold,
                  "robust z-score above which an energy is an outlier: z = |E - median| / "
                  "max(1.4826 MAD, floor), "
                  "per composition")
      ->capture_default_str()
      ->check(finite_in(1e-3, 1e6));
  sub->add_option("--outlier-floor", o->io.outlier_floor,
                  "lower bound of the robust energy scale, Ry")
      ->capture_default_str()
      ->check(finite_in(1e-12, 1e6));
  sub->add_option("--charge-tolerance", o->io.charge_tolerance,
                  "largest |sum over sites of (electrons - Z)| accepted, e")
      ->capture_default_str()
      ->check(finite_in(0, 1e3));
  sub->add_flag("--keep-non-neutral", o->io.keep_non_neutral,
                "import files beyond the charge tolerance anyway");
  sub->add_option("--position-tolerance", o->io.position_tolerance,
                  "largest distance between a file's position and a lattice site, Bohr")
      ->capture_default_str()
      ->check(finite_in(1e-9, 1.0));
  sub->add_option("--list", o->list, "how many issues of each kind to list")
      ->capture_default_str()
      ->check(finite_in(0, 1e9));
  sub->add_flag("-q,--quiet", o->quiet, "no progress bar");
  sub->callback([&ctx, o] {
    LoadedDeck d = load_deck(o->deck, ctx);
    o->io.output = o->output;
    o->io.merge_duplicates = !o->keep_duplicates;
    o->io.progress = !o->quiet;
    const auto r = dataset::import_lsms(d.deck, d.system, o->source, o->io);
    fmt::print("{} on {}\n", d.system.name(), d.system.lattice.describe());
    dataset::print_import_report(stdout, r, o->list);
    fmt::print(
        "\nimported {} rows from {} files in {:.2f} s (reading and parsing {:.2f} s) -> {}\n",
        r.rows, r.files, r.total_seconds, r.read_seconds, r.output.string());
  });
}

void add_info_command(CLI::App& app) {
  auto* sub = app.add_subcommand(
      "info", "print what an HDF5 dataset (or another lsms-surrogate HDF5 file) holds");
  auto files = std::make_shared<std::vector<std::string>>();
  sub->add_option("file", *files, "HDF5 file(s)")->required()->check(CLI::ExistingFile);
  sub->callback([files] {
    bool first = true;
    for (const auto& path : *files) {
      if (!first) fmt::print("\n");
      first = false;
      h5::File f = h5::File::open(path, h5::Mode::read);  // clear error for non-HDF5 files
      const bool has_format = h5::has_attr(f, "format");
      const std::string format = has_format ? h5::read_attr_string(f, "format") : "";
      if (format == dataset::kFormatName) {
        dataset::print_file_info(stdout, dataset::DatasetFile::open(path, h5::Mode::read));
      } else if (format == "lsms-surrogate-model") {
        print_model_info(path);
      } else if (format.rfind("lsms-surrogate", 0) == 0) {
        print_generic_h5(path);
      } else {
        throw FileError(
            fmt::format("{}: an HDF5 file, but not one written by lsms-surrogate (no root "
                        "attribute 'format' naming it)",
                        path));
      }
    }
  });
}

}  // namespace

void add_dataset_commands(CLI::App& app, AppContext& ctx) {
  add_build_command(app, ctx);
  add_import_command(app, ctx);
  add_info_command(app);
}

}  // namespace lsmss::app
