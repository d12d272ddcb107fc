#pragma once
// The HDF5 layout of a dataset file (docs/dataset-format.md): root attributes, /system,
// /configs (what is to be computed, written at plan time) and /results (one row per attempt,
// appended and flushed as results arrive). Every row of /configs and /results carries a
// checksum, so a file cut off at any moment (SIGKILL, power loss of the process) opens with
// its complete rows. Only a truly torn tail (rows some column does not reach, or trailing rows
// never written: checksum 0) is cut; any other row that fails verification is "damaged": it
// stays in the file untouched, is reported, and is never used or recomputed.
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "core/configuration.hpp"
#include "core/hdf5.hpp"
#include "core/properties.hpp"
#include "core/system.hpp"
#include "dataset_builder/dataset.hpp"
#include "dataset_builder/settings.hpp"

namespace lsmss::dataset {

inline constexpr const char* kFormatName = "lsms-surrogate dataset";
inline constexpr std::int64_t kFormatVersion = 1;

std::string_view origin_name(Origin o);

// Root attributes.
struct FileInfo {
  std::string kind;                      // "build" or "import"
  std::string driver;                    // driver of the results ("lsms" for imported files)
  PropertyMask provides = 0;             // properties the results carry
  SamplingSettings sampling;             // cap, seed, folds, test fraction, translations
  std::vector<std::string> plan_keys;    // see settings.hpp
  std::vector<std::string> driver_keys;  // the driver's deck settings
  std::string deck_text, deck_file;
  std::string created, software_version;  // filled by create()
  std::string import_summary;             // /import@summary of imported files (read only)
};

// /configs, column by column (occupation is rows x sites).
struct ConfigTable {
  int sites = 0;
  std::vector<std::uint8_t> occupation;
  std::vector<std::int32_t> composition, fold;
  std::vector<std::uint64_t> hash;
  std::vector<std::int8_t> origin;
  std::vector<std::string> source;  // imported file name; empty for sampled rows
  std::vector<std::uint64_t> checksum;
  // Set by DatasetFile::open: 1 for a row that failed verification (kept in the file, so the
  // row numbers results refer to stay valid, but never used). Shorter than rows() means the
  // missing entries are 0.
  std::vector<char> damaged;

  std::size_t rows() const { return composition.size(); }
  bool usable(std::size_t row) const { return row >= damaged.size() || damaged[row] == 0; }
  Configuration configuration(std::size_t row) const;
  void push_back(const Configuration& c, std::int32_t fold, Origin origin, std::string source = {});
};

// One attempt at one configuration.
struct ResultRecord {
  std::int64_t config = 0;  // row of /configs
  std::int32_t attempt = 1;
  Properties props;
  std::string driver;
};

// /results, column by column (charge, charge_transfer, moment are rows x sites; absent values
// are NaN).
struct ResultTable {
  int sites = 0;
  std::vector<std::int64_t> config;
  std::vector<std::int8_t> status;
  std::vector<std::int32_t> attempt, iterations;
  std::vector<double> energy, band_energy, fermi_energy, residual, wall_time;
  std::vector<double> charge, charge_transfer, moment;
  std::vector<std::string> message, driver;
  std::vector<std::uint64_t> checksum;

  std::size_t rows() const { return config.size(); }
  Status row_status(std::size_t r) const { return static_cast<Status>(status[r]); }
  // `occupation` (the configuration's species per site) gives Z for the charge transfer.
  void push_back(const ResultRecord& rec, const std::uint8_t* occupation, const System& sys);
  void clear();
};

// What `import` adds under /import: the source, its validation report, the skipped files.
struct ImportLog {
  std::string source;
  std::string report;   // full text
  std::string summary;  // the table and the counts only
  std::vector<std::string> files, reasons;
};

class DatasetFile {
 public:
  // Writes a complete new file (attributes, /system, /configs and `results`, possibly empty)
  // under "<path>.partial" and renames it to `path`, so `path` never names a half-made file.
  static void create(const std::filesystem::path& path, const System& sys, const FileInfo& info,
                     const ConfigTable& configs, const ResultTable& results,
                     const ImportLog* import_log = nullptr);
  // Opens and validates a dataset file (FileError naming the file for a foreign, corrupt or
  // inconsistent one) and loads its verified rows. With read_write, a torn tail (see above) is
  // truncated; damaged rows are never removed.
  static DatasetFile open(const std::filesystem::path& path, h5::Mode mode);

  DatasetFile(DatasetFile&&) noexcept;
  DatasetFile& operator=(DatasetFile&&) noexcept;
  ~DatasetFile();

  const std::string& path() const;
  const FileInfo& info() const { return info_; }
  const System& system() const { return *system_; }
  const ConfigTable& configs() const { return configs_; }
  const ResultTable& results() const { return results_; }
  // Rows of a torn tail found at open (cut off when opened read_write).
  std::size_t torn_config_rows() const { return torn_configs_; }
  std::size_t torn_result_rows() const { return torn_results_; }
  // Rows that failed verification elsewhere: kept in the file, left out of every use.
  // damaged_result_rows() includes the results of damaged configurations.
  std::size_t damaged_config_rows() const { return damaged_configs_; }
  std::size_t damaged_result_rows() const { return damaged_results_; }
  // /configs and /results row numbers of the first damaged rows (for messages).
  const std::vector<std::size_t>& damaged_config_list() const { return damaged_config_list_; }
  const std::vector<std::size_t>& damaged_result_list() const { return damaged_result_list_; }

  // Appends rows to the file and flushes it (read_write only). The in-memory tables are not
  // updated.
  void append_results(const ResultTable& rows);
  void append_configs(const ConfigTable& rows);

 private:
  DatasetFile();
  // The parts of open(): the root attributes, the system (checked against the stored
  // positions), and the verified rows of /configs and /results (a torn tail is cut in
  // read_write mode).
  void read_info();
  void read_system();
  void read_configs(h5::Mode mode);
  void read_results(h5::Mode mode);
  struct Impl;
  std::unique_ptr<Impl> impl_;
  FileInfo info_;
  std::unique_ptr<System> system_;
  ConfigTable configs_;
  ResultTable results_;
  std::size_t torn_configs_ = 0, torn_results_ = 0;
  std::size_t damaged_configs_ = 0, damaged_results_ = 0;
  std::vector<std::size_t> damaged_config_list_, damaged_result_list_;
};

// Checks that `path` holds this format (FileError with a clear message otherwise).
void check_format(const std::filesystem::path& path);

}  // namespace lsmss::dataset
