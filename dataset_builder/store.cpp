#include "dataset_builder/store.hpp"

#include <sys/statvfs.h>

#include <bit>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <map>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "core/hash.hpp"
#include "core/version.hpp"

namespace lsmss::dataset {
namespace {

constexpr hsize_t kChunkRows = 256;
constexpr std::size_t kListedDamagedRows = 10;  // row numbers kept for messages
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// ----- checksums: FNV-1a over the row's fields in a fixed order ------------------------------
struct Hasher {
  Fnv1a fnv;
  void bytes(const void* p, std::size_t n) { fnv.add(p, n); }
  template <class T>
  void pod(const T& v) {
    bytes(&v, sizeof v);
  }
  void str(const std::string& s) {
    pod(s.size());
    bytes(s.data(), s.size());
  }
};

std::uint64_t config_checksum(const ConfigTable& t, std::size_t r) {
  Hasher h;
  h.bytes(t.occupation.data() + r * t.sites, t.sites);
  h.pod(t.composition[r]);
  h.pod(t.fold[r]);
  h.pod(t.hash[r]);
  h.pod(t.origin[r]);
  h.str(t.source[r]);
  return h.fnv.value();
}

std::uint64_t result_checksum(const ResultTable& t, std::size_t r) {
  Hasher h;
  h.pod(t.config[r]);
  h.pod(t.status[r]);
  h.pod(t.attempt[r]);
  h.pod(t.iterations[r]);
  for (const auto* v : {&t.energy, &t.band_energy, &t.fermi_energy, &t.residual, &t.wall_time})
    h.pod(std::bit_cast<std::uint64_t>((*v)[r]));
  for (const auto* v : {&t.charge, &t.charge_transfer, &t.moment})
    h.bytes(v->data() + r * t.sites, sizeof(double) * t.sites);
  h.str(t.message[r]);
  h.str(t.driver[r]);
  return h.fnv.value();
}

// ----- column descriptions --------------------------------------------------------------------
enum class Kind { u8, i8, i32, i64, u64, f64, str };

struct Column {
  const char* name;
  Kind kind;
  bool per_site;
  const char* units;
  const char* description;
};

const std::vector<Column>& config_columns() {
  static const std::vector<Column> c = {
      {"occupation", Kind::u8, true, "species index",
       "species on every site (0 = species[0] = A); one-hot = (occupation == s)"},
      {"composition", Kind::i32, false, "atoms", "atoms of species A (species[0])"},
      {"fold", Kind::i32, false, "fold id", "cross-validation fold 0..folds-1, or -1 = test set"},
      {"hash", Kind::u64, false, "", "64-bit FNV-1a hash of the occupation"},
      {"origin", Kind::i8, false, "",
       "0 = sampled, 1 = imported, 2 = acquired (DFT fallback in MC)"},
      {"source", Kind::str, false, "", "imported file name (empty for sampled rows)"},
      {"checksum", Kind::u64, false, "", "row checksum (detects a torn tail after a crash)"},
  };
  return c;
}

const std::vector<Column>& result_columns() {
  static const std::vector<Column> c = {
      {"config", Kind::i64, false, "row", "row of /configs this attempt computed"},
      {"status", Kind::i8, false, "", "0 = ok, 1 = not_converged, 2 = failed, 3 = timeout"},
      {"attempt", Kind::i32, false, "", "attempt number of this configuration (1, 2, ...)"},
      {"energy", Kind::f64, false, "Ry", "total energy (NaN when absent)"},
      {"band_energy", Kind::f64, false, "Ry", "band energy (NaN when absent)"},
      {"fermi_energy", Kind::f64, false, "Ry", "Fermi energy (NaN when absent)"},
      {"charge", Kind::f64, true, "e", "electrons on each site, including core (NaN when absent)"},
      {"charge_transfer", Kind::f64, true, "e", "charge - Z of each site (NaN when absent)"},
      {"moment", Kind::f64, true, "muB", "magnetic moment of each site (NaN when absent)"},
      {"iterations", Kind::i32, false, "", "SCF iterations (0 when not applicable)"},
      {"residual", Kind::f64, false, "", "final SCF residual (driver-defined norm)"},
      {"wall_time", Kind::f64, false, "s", "wall-clock time of the calculation"},
      {"message", Kind::str, false, "", "reason of a failure, or driver notes"},
      {"driver", Kind::str, false, "", "driver that produced the row"},
      {"checksum", Kind::u64, false, "", "row checksum (detects a torn tail after a crash)"},
  };
  return c;
}

hid_t mem_type(Kind k) {
  switch (k) {
    case Kind::u8:
      return H5T_NATIVE_UINT8;
    case Kind::i8:
      return H5T_NATIVE_INT8;
    case Kind::i32:
      return H5T_NATIVE_INT32;
    case Kind::i64:
      return H5T_NATIVE_INT64;
    case Kind::u64:
      return H5T_NATIVE_UINT64;
    case Kind::f64:
      return H5T_NATIVE_DOUBLE;
    case Kind::str:
      break;
  }
  return H5I_INVALID_HID;
}

h5::Handle string_type() {
  hid_t t = H5Tcopy(H5T_C_S1);
  H5Tset_size(t, H5T_VARIABLE);
  H5Tset_cset(t, H5T_CSET_UTF8);
  return h5::Handle(t, H5Tclose);
}

[[noreturn]] void h5fail(hid_t loc, const std::string& name, const std::string& what) {
  throw FileError(fmt::format("{}: {}", h5::object_name(loc, name), what));
}

void create_column(hid_t group, const Column& c, int sites) {
  const hsize_t cols = c.per_site ? static_cast<hsize_t>(sites) : 0;
  switch (c.kind) {
    case Kind::u8:
      h5::create_extendable<std::uint8_t>(group, c.name, cols, kChunkRows);
      break;
    case Kind::i8:
      h5::create_extendable<std::int8_t>(group, c.name, cols, kChunkRows);
      break;
    case Kind::i32:
      h5::create_extendable<std::int32_t>(group, c.name, cols, kChunkRows);
      break;
    case Kind::i64:
      h5::create_extendable<std::int64_t>(group, c.name, cols, kChunkRows);
      break;
    case Kind::u64:
      h5::create_extendable<std::uint64_t>(group, c.name, cols, kChunkRows);
      break;
    case Kind::f64:
      h5::create_extendable<double>(group, c.name, cols, kChunkRows);
      break;
    case Kind::str: {
      hsize_t cur = 0, max = H5S_UNLIMITED, chunk = kChunkRows;
      h5::Handle space(H5Screate_simple(1, &cur, &max), H5Sclose);
      h5::Handle dcpl(H5Pcreate(H5P_DATASET_CREATE), H5Pclose);
      H5Pset_chunk(dcpl, 1, &chunk);
      h5::Handle t = string_type();
      h5::Handle d(H5Dcreate2(group, c.name, t, space, H5P_DEFAULT, dcpl, H5P_DEFAULT), H5Dclose);
      if (!d.valid()) h5fail(group, c.name, "cannot create string dataset");
      break;
    }
  }
  h5::Handle d(H5Dopen2(group, c.name, H5P_DEFAULT), H5Dclose);
  if (*c.units) h5::write_attr(d, "units", c.units);
  h5::write_attr(d, "description", c.description);
}

// Bytes an append of `rows` rows of `cols` may add to the file: the data, one new chunk per
// column, and room for HDF5's metadata.
template <class Table>
std::uintmax_t append_bytes(const std::vector<Column>& cols, const Table& t, std::size_t rows) {
  std::uintmax_t bytes = std::uintmax_t{1} << 20;  // metadata, B-tree nodes, free-space slack
  for (const auto& c : cols) {
    const std::uintmax_t width = c.per_site ? static_cast<std::uintmax_t>(t.sites) : 1;
    const std::uintmax_t elem = c.kind == Kind::str                          ? 16
                                : (c.kind == Kind::u8 || c.kind == Kind::i8) ? 1
                                : c.kind == Kind::i32                        ? 4
                                                                             : 8;
    bytes += (rows + kChunkRows) * width * elem;
  }
  if constexpr (requires { t.message; })
    for (std::size_t r = 0; r < rows; ++r)
      bytes += t.message[r].size() + t.driver[r].size() + 32;  // global heap of the strings
  else
    for (std::size_t r = 0; r < rows; ++r) bytes += t.source[r].size() + 32;
  return bytes;
}

// A write that fails half-way on a full disk can leave HDF5's metadata inconsistent, so the
// room for an append is checked before anything is written: a full disk then ends the run with
// an error and a file that reopens and resumes.
void require_free_space(const std::filesystem::path& file, std::uintmax_t bytes,
                        const std::string& what) {
  std::filesystem::path dir = file.has_parent_path() ? file.parent_path() : ".";
  struct statvfs st {};
  if (statvfs(dir.c_str(), &st) != 0) return;  // unknown: the write itself reports errors
  const std::uintmax_t avail = static_cast<std::uintmax_t>(st.f_bavail) * st.f_frsize;
  if (avail < bytes)
    throw FileError(fmt::format(
        "{}: the disk is (nearly) full: {} needs about {} KiB, {} KiB are free; nothing was "
        "written, the rows already in the file are intact: free some space and rerun",
        file.string(), what, bytes >> 10, avail >> 10));
}

std::string now_iso8601() {
  const std::time_t t = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

// The species and site positions, as the root attributes and /system both store them.
struct SiteTables {
  std::vector<std::string> symbols;
  std::vector<std::int64_t> zs;
  std::vector<double> positions;  // x, y, z of each site in site order, Bohr

  explicit SiteTables(const System& sys) {
    for (const auto& s : sys.species) symbols.push_back(s.symbol), zs.push_back(s.Z);
    for (const auto& p : sys.lattice.positions())
      positions.insert(positions.end(), p.begin(), p.end());
  }
};

// The root attributes: format, provenance, units, system, sampling and the deck.
void write_root_attributes(hid_t root, const System& sys, const FileInfo& info,
                           const SiteTables& sites) {
  const auto& L = sys.lattice;
  const auto reps = L.supercell();
  const auto& s = info.sampling;
  h5::write_attr(root, "format", kFormatName);
  h5::write_attr(root, "format_version", kFormatVersion);
  h5::write_attr(root, "software_version", fmt::format("lsms-surrogate {}", kVersion));
  h5::write_attr(root, "created", now_iso8601());
  h5::write_attr(root, "kind", info.kind);
  h5::write_attr(root, "driver", info.driver);
  h5::write_attr(root, "properties", property_mask_name(info.provides));
  h5::write_attr(root, "provides", static_cast<std::int64_t>(info.provides));
  h5::write_attr(root, "units",
                 "energy: Ry; charge: e (electrons on the site incl. core); "
                 "moment: muB; length: Bohr; wall_time: s");
  h5::write_attr(root, "system", sys.name());
  h5::write_attr(root, "lattice", lattice_kind_name(L.kind()));
  h5::write_attr(root, "a", L.a());
  h5::write_attr(root, "c", L.c());
  h5::write_attr(root, "supercell", std::vector<std::int64_t>(reps.begin(), reps.end()));
  h5::write_attr(root, "num_sites", static_cast<std::int64_t>(sys.num_sites()));
  h5::write_attr(root, "species", sites.symbols);
  h5::write_attr(root, "species_Z", sites.zs);
  h5::write_attr(root, "site_positions", sites.positions);
  h5::write_attr(root, "seed", static_cast<std::int64_t>(s.seed));
  h5::write_attr(root, "cap", static_cast<std::int64_t>(s.cap));
  h5::write_attr(root, "num_folds", static_cast<std::int64_t>(s.folds));
  h5::write_attr(root, "test_fraction", s.test_fraction);
  h5::write_attr(root, "unique_translations", static_cast<std::int64_t>(s.unique_translations));
  h5::write_attr(root, "compositions",
                 s.compositions.empty() ? std::string("all")
                                        : fmt::format("{}", fmt::join(s.compositions, ",")));
  // HDF5 cannot hold an empty attribute array here: an empty list is written as {""}.
  auto non_empty = [](const std::vector<std::string>& v) {
    return v.empty() ? std::vector<std::string>{""} : v;
  };
  h5::write_attr(root, "plan_keys", non_empty(info.plan_keys));
  h5::write_attr(root, "driver_keys", non_empty(info.driver_keys));
  h5::write_attr(root, "deck", info.deck_text);
  h5::write_attr(root, "deck_file", info.deck_file);
}

// The /system group: site positions and species.
void write_system_group(hid_t root, const System& sys, const SiteTables& sites) {
  h5::Handle g = h5::create_group(root, "system");
  h5::write(g, "positions", sites.positions, {static_cast<hsize_t>(sys.num_sites()), 3});
  h5::Handle d(H5Dopen2(g, "positions", H5P_DEFAULT), H5Dclose);
  h5::write_attr(d, "units", "Bohr");
  h5::write_attr(d, "description", "Cartesian position of every site, in site order");
  h5::write_attr(g, "species", sites.symbols);
  h5::write_attr(g, "species_Z", sites.zs);
}

// Typed views of the table columns, so writing and reading share one list.
template <class Table>
struct Binder;

template <>
struct Binder<ConfigTable> {
  static const void* data(const ConfigTable& t, const std::string& n, std::size_t first) {
    if (n == "occupation") return t.occupation.data() + first * t.sites;
    if (n == "composition") return t.composition.data() + first;
    if (n == "fold") return t.fold.data() + first;
    if (n == "hash") return t.hash.data() + first;
    if (n == "origin") return t.origin.data() + first;
    if (n == "checksum") return t.checksum.data() + first;
    return nullptr;
  }
  static const std::vector<std::string>* strings(const ConfigTable& t, const std::string& n) {
    return n == "source" ? &t.source : nullptr;
  }
};

template <>
struct Binder<ResultTable> {
  static const void* data(const ResultTable& t, const std::string& n, std::size_t first) {
    const std::size_t s = first * t.sites;
    if (n == "config") return t.config.data() + first;
    if (n == "status") return t.status.data() + first;
    if (n == "attempt") return t.attempt.data() + first;
    if (n == "energy") return t.energy.data() + first;
    if (n == "band_energy") return t.band_energy.data() + first;
    if (n == "fermi_energy") return t.fermi_energy.data() + first;
    if (n == "charge") return t.charge.data() + s;
    if (n == "charge_transfer") return t.charge_transfer.data() + s;
    if (n == "moment") return t.moment.data() + s;
    if (n == "iterations") return t.iterations.data() + first;
    if (n == "residual") return t.residual.data() + first;
    if (n == "wall_time") return t.wall_time.data() + first;
    if (n == "checksum") return t.checksum.data() + first;
    return nullptr;
  }
  static const std::vector<std::string>* strings(const ResultTable& t, const std::string& n) {
    if (n == "message") return &t.message;
    if (n == "driver") return &t.driver;
    return nullptr;
  }
};

template <class T>
void read_into(hid_t g, const char* name, std::vector<T>& v, std::size_t rows, std::size_t cols) {
  std::vector<hsize_t> shape;
  v = h5::read<T>(g, name, &shape);
  const std::size_t c = std::max<std::size_t>(cols, 1);
  if (shape.empty() || (cols > 0 && (shape.size() != 2 || shape[1] != cols)) ||
      (cols == 0 && shape.size() != 1))
    h5fail(g, name,
           fmt::format("has shape [{}], expected [rows{}]", fmt::join(shape, ", "),
                       cols ? fmt::format(", {}", cols) : ""));
  v.resize(rows * c);
}

std::size_t column_rows(hid_t g, const std::vector<Column>& cols) {
  std::size_t n = std::numeric_limits<std::size_t>::max();
  for (const auto& c : cols) n = std::min<std::size_t>(n, h5::dims(g, c.name).at(0));
  return n;
}

}  // namespace

std::string_view origin_name(Origin o) {
  switch (o) {
    case Origin::sampled:
      return "sampled";
    case Origin::imported:
      return "imported";
    case Origin::acquired:
      return "acquired";
  }
  return "?";
}

// ---------------------------------------------------------------------------------------------
Configuration ConfigTable::configuration(std::size_t row) const {
  const auto* p = occupation.data() + row * sites;
  return Configuration(std::vector<std::uint8_t>(p, p + sites));
}

void ConfigTable::push_back(const Configuration& c, std::int32_t f, Origin o, std::string src) {
  if (c.num_sites() != sites)
    fail("configuration of {} sites added to a table of {}", c.num_sites(), sites);
  occupation.insert(occupation.end(), c.occupation().begin(), c.occupation().end());
  composition.push_back(c.composition());
  fold.push_back(f);
  hash.push_back(c.hash());
  origin.push_back(static_cast<std::int8_t>(o));
  source.push_back(std::move(src));
  checksum.push_back(config_checksum(*this, rows() - 1));
}

void ResultTable::push_back(const ResultRecord& rec, const std::uint8_t* occ, const System& sys) {
  const Properties& p = rec.props;
  config.push_back(rec.config);
  status.push_back(static_cast<std::int8_t>(p.status));
  attempt.push_back(rec.attempt);
  iterations.push_back(p.iterations);
  energy.push_back(p.energy.value_or(kNaN));
  band_energy.push_back(p.band_energy.value_or(kNaN));
  fermi_energy.push_back(p.fermi_energy.value_or(kNaN));
  residual.push_back(p.residual);
  wall_time.push_back(p.wall_time);
  const bool has_q = static_cast<int>(p.charge.size()) == sites;
  const bool has_m = static_cast<int>(p.moment.size()) == sites;
  for (int i = 0; i < sites; ++i) {
    charge.push_back(has_q ? p.charge[i] : kNaN);
    charge_transfer.push_back(has_q ? p.charge[i] - sys.species.at(occ[i]).Z : kNaN);
    moment.push_back(has_m ? p.moment[i] : kNaN);
  }
  message.push_back(p.message);
  driver.push_back(rec.driver);
  checksum.push_back(result_checksum(*this, rows() - 1));
}

void ResultTable::clear() {
  const int s = sites;
  *this = ResultTable{};
  sites = s;
}

// ---------------------------------------------------------------------------------------------
struct DatasetFile::Impl {
  h5::File file;
  h5::Mode mode = h5::Mode::read;
  std::map<std::string, h5::Handle> open;  // datasets kept open for appends
  // Writing variable-length strings needs type-conversion buffers; by default HDF5 allocates
  // and zeroes a fresh 1 MB pair for every write, which dominated the cost of an append (fresh
  // pages are slow to touch). These are allocated once.
  static constexpr std::size_t kConvBytes = static_cast<std::size_t>(64) * 1024;
  std::vector<char> tconv = std::vector<char>(kConvBytes), bkg = std::vector<char>(kConvBytes);
  h5::Handle dxpl;

  hid_t transfer() {
    if (!dxpl.valid()) {
      dxpl = h5::Handle(H5Pcreate(H5P_DATASET_XFER), H5Pclose);
      H5Pset_buffer(dxpl, kConvBytes, tconv.data(), bkg.data());
    }
    return dxpl;
  }

  hid_t dataset(const std::string& path) {
    auto it = open.find(path);
    if (it != open.end()) return it->second;
    hid_t d = H5Dopen2(file, path.c_str(), H5P_DEFAULT);
    if (d < 0) h5fail(file, path, "cannot open dataset");
    return open.emplace(path, h5::Handle(d, H5Dclose)).first->second;
  }

  template <class Table>
  void append(const char* group, const std::vector<Column>& cols, const Table& t) {
    if (t.rows() == 0) return;
    h5::Handle str = string_type();
    std::vector<const char*> ptrs;
    for (const auto& c : cols) {
      const std::string path = std::string(group) + "/" + c.name;
      const hid_t d = dataset(path);
      if (c.kind == Kind::str) {
        const auto* v = Binder<Table>::strings(t, c.name);
        ptrs.clear();
        for (const auto& s : *v) ptrs.push_back(s.c_str());
        h5::append_rows(d, str, ptrs.data(), t.rows(), transfer());
      } else {
        h5::append_rows(d, mem_type(c.kind), Binder<Table>::data(t, c.name, 0), t.rows(),
                        transfer());
      }
    }
  }

  // The /import group: where the data came from, the report, and the files skipped with why.
  void write_import_log(const ImportLog& log) {
    h5::Handle g = h5::create_group(file, "import");
    h5::write_attr(g, "source", log.source);
    h5::write_attr(g, "report", log.report);
    h5::write_attr(g, "summary", log.summary);
    const Column file_col{"skipped_file", Kind::str, false, "", "files not imported"};
    const Column why_col{"skipped_reason", Kind::str, false, "", "why each was skipped"};
    h5::Handle t = string_type();
    for (const auto& [c, v] :
         {std::pair{&file_col, &log.files}, std::pair{&why_col, &log.reasons}}) {
      create_column(g, *c, 0);
      std::vector<const char*> ptrs;
      for (const auto& x : *v) ptrs.push_back(x.c_str());
      h5::append_rows(dataset(std::string("/import/") + c->name), t, ptrs.data(), ptrs.size());
    }
  }
};

DatasetFile::DatasetFile() : impl_(std::make_unique<Impl>()) {}
DatasetFile::DatasetFile(DatasetFile&&) noexcept = default;
DatasetFile& DatasetFile::operator=(DatasetFile&&) noexcept = default;
DatasetFile::~DatasetFile() = default;
const std::string& DatasetFile::path() const {
  return impl_->file.path();
}

void DatasetFile::create(const std::filesystem::path& path, const System& sys, const FileInfo& info,
                         const ConfigTable& configs, const ResultTable& results,
                         const ImportLog* import_log) {
  const std::filesystem::path partial = path.string() + ".partial";
  if (path.has_parent_path() && !std::filesystem::exists(path.parent_path()))
    throw FileError(fmt::format("{}: directory '{}' does not exist", path.string(),
                                path.parent_path().string()));
  require_free_space(path,
                     append_bytes(config_columns(), configs, configs.rows()) +
                         append_bytes(result_columns(), results, results.rows()) +
                         info.deck_text.size() + (import_log ? 2 * import_log->report.size() : 0),
                     fmt::format("writing {} configurations", configs.rows()));
  try {
    DatasetFile f;
    f.impl_->file = h5::File::create(partial);
    f.impl_->mode = h5::Mode::read_write;
    const hid_t root = f.impl_->file;
    const SiteTables sites(sys);
    write_root_attributes(root, sys, info, sites);
    write_system_group(root, sys, sites);
    h5::Handle gc = h5::create_group(root, "configs");
    for (const auto& c : config_columns()) create_column(gc, c, sys.num_sites());
    h5::Handle gr = h5::create_group(root, "results");
    for (const auto& c : result_columns()) create_column(gr, c, sys.num_sites());
    f.impl_->append("/configs", config_columns(), configs);
    f.impl_->append("/results", result_columns(), results);
    if (import_log) f.impl_->write_import_log(*import_log);
    f.impl_->open.clear();
  } catch (...) {
    std::error_code ec;
    std::filesystem::remove(partial, ec);
    throw;
  }
  std::error_code ec;
  std::filesystem::rename(partial, path, ec);
  if (ec)
    throw FileError(fmt::format("{}: cannot rename from {}: {}", path.string(), partial.string(),
                                ec.message()));
}

void check_format(const std::filesystem::path& path) {
  h5::File f = h5::File::open(path, h5::Mode::read);
  if (!h5::has_attr(f, "format") || h5::read_attr_string(f, "format") != kFormatName)
    throw FileError(
        fmt::format("{}: not an lsms-surrogate dataset (no root attribute format = '{}'); "
                    "was it written by another program?",
                    path.string(), kFormatName));
  const auto v = h5::read_attr_int(f, "format_version");
  if (v > kFormatVersion || v < 1)
    throw FileError(
        fmt::format("{}: dataset format version {} is not supported by this lsms-surrogate "
                    "(reads version {})",
                    path.string(), v, kFormatVersion));
}

DatasetFile DatasetFile::open(const std::filesystem::path& path, h5::Mode mode) {
  check_format(path);
  DatasetFile f;
  f.impl_->file = h5::File::open(path, mode);
  f.impl_->mode = mode;
  f.read_info();
  f.read_system();
  f.read_configs(mode);
  f.read_results(mode);
  if (mode == h5::Mode::read_write) f.impl_->file.flush();
  return f;
}

void DatasetFile::read_info() {
  const hid_t root = impl_->file;
  FileInfo& info = info_;
  info.kind = h5::read_attr_string(root, "kind");
  info.driver = h5::read_attr_string(root, "driver");
  info.provides = static_cast<PropertyMask>(h5::read_attr_int(root, "provides"));
  info.sampling.seed = static_cast<std::uint64_t>(h5::read_attr_int(root, "seed"));
  info.sampling.cap = h5::read_attr_int(root, "cap");
  info.sampling.folds = static_cast<int>(h5::read_attr_int(root, "num_folds"));
  info.sampling.test_fraction = h5::read_attr_double(root, "test_fraction");
  info.sampling.unique_translations = h5::read_attr_int(root, "unique_translations") != 0;
  if (const std::string comps = h5::read_attr_string(root, "compositions"); comps != "all") {
    std::size_t p = 0;
    while (p < comps.size()) {
      std::size_t used = 0;
      try {
        info.sampling.compositions.push_back(std::stoi(comps.substr(p), &used));
      } catch (const std::exception&) {
        h5fail(root, "@compositions",
               fmt::format("'{}' is not 'all' or a list of integers", comps));
      }
      p += used + 1;
    }
  }
  for (auto [name, v] :
       {std::pair{"plan_keys", &info.plan_keys}, std::pair{"driver_keys", &info.driver_keys}})
    for (auto& k : h5::read_attr_strings(root, name))
      if (!k.empty()) v->push_back(std::move(k));
  info.deck_text = h5::read_attr_string(root, "deck");
  info.deck_file = h5::read_attr_string(root, "deck_file");
  info.created = h5::read_attr_string(root, "created");
  info.software_version = h5::read_attr_string(root, "software_version");
  if (h5::exists(root, "import")) {
    h5::Handle g = h5::open_group(root, "import");
    if (h5::has_attr(g, "summary")) info.import_summary = h5::read_attr_string(g, "summary");
  }
}

void DatasetFile::read_system() {
  const hid_t root = impl_->file;
  // The system, rebuilt from the attributes and checked against the stored positions.
  const auto reps = h5::read_attr_ints(root, "supercell");
  if (reps.size() != 3) h5fail(root, "@supercell", "expected 3 repetitions");
  std::vector<Species> species;
  for (const auto& sym : h5::read_attr_strings(root, "species")) {
    try {
      species.push_back(species_from_symbol(sym));
    } catch (const Error& e) {
      h5fail(root, "@species", e.what());
    }
  }
  try {
    system_ = std::make_unique<System>(System{
        Lattice(lattice_kind_from_name(h5::read_attr_string(root, "lattice")),
                h5::read_attr_double(root, "a"), h5::read_attr_double(root, "c"),
                {static_cast<int>(reps[0]), static_cast<int>(reps[1]), static_cast<int>(reps[2])}),
        species});
  } catch (const FileError&) {
    throw;
  } catch (const Error& e) {
    h5fail(root, "", fmt::format("invalid lattice attributes: {}", e.what()));
  }
  const System& sys = *system_;
  const int sites = sys.num_sites();
  std::vector<hsize_t> pshape;
  const auto pos = h5::read<double>(root, "/system/positions", &pshape);
  if (pshape != std::vector<hsize_t>{static_cast<hsize_t>(sites), 3})
    h5fail(root, "/system/positions", fmt::format("expected [{}, 3]", sites));
  for (int i = 0; i < sites; ++i)
    for (int k = 0; k < 3; ++k)
      if (std::abs(pos[3 * i + k] - sys.lattice.position(i)[k]) > 1e-6)
        h5fail(root, "/system/positions",
               fmt::format("site {} does not match the lattice in the attributes", i));
}

void DatasetFile::read_configs(h5::Mode mode) {
  const hid_t root = impl_->file;
  const System& sys = *system_;
  const int sites = sys.num_sites();
  // /configs: complete rows only (matching lengths and checksums).
  h5::Handle g = h5::open_group(root, "configs");
  ConfigTable& t = configs_;
  t.sites = sites;
  const std::size_t n = column_rows(g, config_columns());
  read_into(g, "occupation", t.occupation, n, sites);
  read_into(g, "composition", t.composition, n, 0);
  read_into(g, "fold", t.fold, n, 0);
  read_into(g, "hash", t.hash, n, 0);
  read_into(g, "origin", t.origin, n, 0);
  read_into(g, "checksum", t.checksum, n, 0);
  t.source = h5::read_strings(g, "source");
  t.source.resize(n);
  // A row is verified by its checksum and its consistency. Trailing rows never written
  // (checksum still the fill value 0) and rows some column does not reach are a torn tail;
  // any other failing row is damaged: kept in place (results refer to rows by number) and
  // never used.
  std::vector<char> bad(n, 0);
  for (std::size_t r = 0; r < n; ++r) {
    bool good = config_checksum(t, r) == t.checksum[r];
    for (int i = 0; good && i < sites; ++i) good = t.occupation[r * sites + i] < sys.num_species();
    good = good && t.composition[r] == t.configuration(r).composition() &&
           t.hash[r] == t.configuration(r).hash();
    bad[r] = good ? 0 : 1;
  }
  std::size_t keep = n;
  while (keep > 0 && bad[keep - 1] && t.checksum[keep - 1] == 0) --keep;
  std::size_t longest = 0;
  for (const auto& c : config_columns())
    longest = std::max<std::size_t>(longest, h5::dims(g, c.name)[0]);
  torn_configs_ = longest - keep;
  t.occupation.resize(keep * sites);
  for (auto* v : {&t.composition, &t.fold}) v->resize(keep);
  t.hash.resize(keep);
  t.origin.resize(keep);
  t.checksum.resize(keep);
  t.source.resize(keep);
  bad.resize(keep);
  t.damaged = bad;
  for (std::size_t r = 0; r < keep; ++r)
    if (bad[r]) {
      ++damaged_configs_;
      if (damaged_config_list_.size() < kListedDamagedRows) damaged_config_list_.push_back(r);
    }
  if (mode == h5::Mode::read_write && longest > keep)
    for (const auto& c : config_columns()) h5::resize_rows(g, c.name, keep);
}

void DatasetFile::read_results(h5::Mode mode) {
  const hid_t root = impl_->file;
  const int sites = system_->num_sites();
  // /results: verified rows; damaged rows in the middle are skipped, a torn tail is dropped.
  h5::Handle g = h5::open_group(root, "results");
  ResultTable all;
  all.sites = sites;
  const std::size_t n = column_rows(g, result_columns());
  read_into(g, "config", all.config, n, 0);
  read_into(g, "status", all.status, n, 0);
  read_into(g, "attempt", all.attempt, n, 0);
  read_into(g, "iterations", all.iterations, n, 0);
  read_into(g, "energy", all.energy, n, 0);
  read_into(g, "band_energy", all.band_energy, n, 0);
  read_into(g, "fermi_energy", all.fermi_energy, n, 0);
  read_into(g, "residual", all.residual, n, 0);
  read_into(g, "wall_time", all.wall_time, n, 0);
  read_into(g, "charge", all.charge, n, sites);
  read_into(g, "charge_transfer", all.charge_transfer, n, sites);
  read_into(g, "moment", all.moment, n, sites);
  read_into(g, "checksum", all.checksum, n, 0);
  all.message = h5::read_strings(g, "message");
  all.driver = h5::read_strings(g, "driver");
  all.message.resize(n);
  all.driver.resize(n);
  // Same rule as /configs: only a torn tail is cut, damaged rows stay and are skipped.
  std::vector<char> ok(n);
  for (std::size_t r = 0; r < n; ++r)
    ok[r] = result_checksum(all, r) == all.checksum[r] && all.config[r] >= 0 &&
            static_cast<std::size_t>(all.config[r]) < configs_.rows() && all.status[r] >= 0 &&
            all.status[r] <= static_cast<int>(Status::timeout);
  std::size_t keep = n;
  while (keep > 0 && !ok[keep - 1] && all.checksum[keep - 1] == 0) --keep;
  std::size_t longest = 0;
  for (const auto& c : result_columns())
    longest = std::max<std::size_t>(longest, h5::dims(g, c.name)[0]);
  torn_results_ = longest - keep;
  ResultTable& t = results_;
  t.sites = sites;
  for (std::size_t r = 0; r < keep; ++r) {
    // The result of a damaged configuration is unusable too (its configuration is unknown).
    if (!ok[r] || !configs_.usable(static_cast<std::size_t>(all.config[r]))) {
      ++damaged_results_;
      if (damaged_result_list_.size() < kListedDamagedRows) damaged_result_list_.push_back(r);
      continue;
    }
    t.config.push_back(all.config[r]);
    t.status.push_back(all.status[r]);
    t.attempt.push_back(all.attempt[r]);
    t.iterations.push_back(all.iterations[r]);
    t.energy.push_back(all.energy[r]);
    t.band_energy.push_back(all.band_energy[r]);
    t.fermi_energy.push_back(all.fermi_energy[r]);
    t.residual.push_back(all.residual[r]);
    t.wall_time.push_back(all.wall_time[r]);
    for (auto [dst, src] :
         {std::pair{&t.charge, &all.charge}, std::pair{&t.charge_transfer, &all.charge_transfer},
          std::pair{&t.moment, &all.moment}})
      dst->insert(dst->end(), src->begin() + r * sites, src->begin() + (r + 1) * sites);
    t.message.push_back(all.message[r]);
    t.driver.push_back(all.driver[r]);
    t.checksum.push_back(all.checksum[r]);
  }
  if (mode == h5::Mode::read_write && longest > keep)
    for (const auto& c : result_columns()) h5::resize_rows(g, c.name, keep);
}

void DatasetFile::append_results(const ResultTable& rows) {
  if (impl_->mode != h5::Mode::read_write) fail("{}: opened read-only", path());
  if (rows.rows() == 0) return;
  require_free_space(path(), append_bytes(result_columns(), rows, rows.rows()),
                     fmt::format("appending {} results", rows.rows()));
  impl_->append("/results", result_columns(), rows);
  impl_->file.flush();
}

void DatasetFile::append_configs(const ConfigTable& rows) {
  if (impl_->mode != h5::Mode::read_write) fail("{}: opened read-only", path());
  if (rows.rows() == 0) return;
  require_free_space(path(), append_bytes(config_columns(), rows, rows.rows()),
                     fmt::format("appending {} configurations", rows.rows()));
  impl_->append("/configs", config_columns(), rows);
  impl_->file.flush();
}

}  // namespace lsmss::dataset
