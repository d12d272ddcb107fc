#include "dataset_builder/builder.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <deque>
#include <thread>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "core/defaults.hpp"
#include "core/error.hpp"
#include "core/mpi.hpp"
#include "core/progress.hpp"
#include "dataset_builder/sampling.hpp"
#include "dataset_builder/store.hpp"

namespace lsmss::dataset {
namespace {

using Clock = std::chrono::steady_clock;
constexpr int kTagWork = 7101;
constexpr int kTagResult = 7102;
constexpr int kQueuedBatches = 2;  // batches a worker group holds (one running, one waiting)

// ----- message encoding -------------------------------------------------------------------------
class Buffer {
 public:
  template <class T>
  void put(const T& v) {
    const auto* p = reinterpret_cast<const char*>(&v);
    b_.insert(b_.end(), p, p + sizeof v);
  }
  void put_bytes(const void* p, std::size_t n) {
    put<std::uint64_t>(n);
    b_.insert(b_.end(), static_cast<const char*>(p), static_cast<const char*>(p) + n);
  }
  void put_string(const std::string& s) { put_bytes(s.data(), s.size()); }
  void put_doubles(const std::vector<double>& v) { put_bytes(v.data(), v.size() * sizeof(double)); }
  void put_optional(const std::optional<double>& v) {
    put<std::uint8_t>(v.has_value());
    put<double>(v.value_or(0.0));
  }
  std::vector<char>& bytes() { return b_; }

 private:
  std::vector<char> b_;
};

class Reader {
 public:
  explicit Reader(const std::vector<char>& b) : p_(b.data()), end_(b.data() + b.size()) {}
  template <class T>
  T get() {
    need(sizeof(T));
    T v;
    std::memcpy(&v, p_, sizeof v);
    p_ += sizeof v;
    return v;
  }
  std::string get_string() {
    const auto n = get<std::uint64_t>();
    need(n);
    std::string s(p_, n);
    p_ += n;
    return s;
  }
  std::vector<double> get_doubles() {
    const auto n = get<std::uint64_t>();
    need(n);
    std::vector<double> v(n / sizeof(double));
    std::memcpy(v.data(), p_, n);
    p_ += n;
    return v;
  }
  std::optional<double> get_optional() {
    const bool has = get<std::uint8_t>() != 0;
    const double v = get<double>();
    return has ? std::optional<double>(v) : std::nullopt;
  }

 private:
  void need(std::size_t n) const {
    if (static_cast<std::size_t>(end_ - p_) < n) fail("internal error: truncated MPI message");
  }
  const char* p_;
  const char* end_;
};

struct WorkItem {
  std::int64_t index = 0;
  std::int32_t attempt = 1;
  Configuration config;
};

struct DoneItem {
  std::int64_t index = 0;
  std::int32_t attempt = 1;
  Properties props;
};

// A count of -1 means "stop".
std::vector<char> encode_work(const std::vector<WorkItem>& items, bool stop) {
  Buffer b;
  b.put<std::int64_t>(stop ? -1 : static_cast<std::int64_t>(items.size()));
  for (const auto& w : items) {
    b.put(w.index);
    b.put(w.attempt);
    b.put_bytes(w.config.occupation().data(), w.config.occupation().size());
  }
  return std::move(b.bytes());
}

bool decode_work(const std::vector<char>& bytes, std::vector<WorkItem>& items) {
  Reader r(bytes);
  const auto n = r.get<std::int64_t>();
  items.clear();
  if (n < 0) return false;
  for (std::int64_t k = 0; k < n; ++k) {
    WorkItem w;
    w.index = r.get<std::int64_t>();
    w.attempt = r.get<std::int32_t>();
    const std::string occ = r.get_string();
    w.config = Configuration(std::vector<std::uint8_t>(occ.begin(), occ.end()));
    items.push_back(std::move(w));
  }
  return true;
}

std::vector<char> encode_done(const std::vector<DoneItem>& items) {
  Buffer b;
  b.put<std::int64_t>(static_cast<std::int64_t>(items.size()));
  for (const auto& d : items) {
    const Properties& p = d.props;
    b.put(d.index);
    b.put(d.attempt);
    b.put<std::int32_t>(static_cast<std::int32_t>(p.status));
    b.put_string(p.message);
    b.put_optional(p.energy);
    b.put_optional(p.band_energy);
    b.put_optional(p.fermi_energy);
    b.put<std::int32_t>(p.iterations);
    b.put(p.residual);
    b.put(p.wall_time);
    b.put_doubles(p.charge);
    b.put_doubles(p.moment);
  }
  return std::move(b.bytes());
}

std::vector<DoneItem> decode_done(const std::vector<char>& bytes) {
  Reader r(bytes);
  const auto n = r.get<std::int64_t>();
  std::vector<DoneItem> out(static_cast<std::size_t>(n));
  for (auto& d : out) {
    Properties& p = d.props;
    d.index = r.get<std::int64_t>();
    d.attempt = r.get<std::int32_t>();
    p.status = static_cast<Status>(r.get<std::int32_t>());
    p.message = r.get_string();
    p.energy = r.get_optional();
    p.band_energy = r.get_optional();
    p.fermi_energy = r.get_optional();
    p.iterations = r.get<std::int32_t>();
    p.residual = r.get<double>();
    p.wall_time = r.get<double>();
    p.charge = r.get_doubles();
    p.moment = r.get_doubles();
  }
  return out;
}

void send_bytes(const std::vector<char>& b, int dest, int tag, MPI_Comm comm) {
  MPI_Send(b.data(), static_cast<int>(b.size()), MPI_BYTE, dest, tag, comm);
}

// Waits for a request without spinning: MPI's blocking calls busy-poll (Open MPI by default),
// which takes a core from the calculations whenever ranks share cores (rank 0 computing,
// oversubscribed nodes). A short, growing sleep costs at most ~1 ms per message.
template <class Done>
void wait_politely(Done&& done) {
  auto sleep = std::chrono::microseconds(20);
  while (!done()) {
    std::this_thread::sleep_for(sleep);
    sleep = std::min(sleep * 2, std::chrono::microseconds(1000));
  }
}

void polite_bcast(void* data, int count, MPI_Datatype type, int root, MPI_Comm comm) {
  MPI_Request req;
  MPI_Ibcast(data, count, type, root, comm, &req);
  wait_politely([&] {
    int flag = 0;
    MPI_Test(&req, &flag, MPI_STATUS_IGNORE);
    return flag != 0;
  });
}

std::vector<char> recv_bytes(int source, int tag, MPI_Comm comm, MPI_Status* st_out = nullptr) {
  MPI_Status st;
  wait_politely([&] {
    int flag = 0;
    MPI_Iprobe(source, tag, comm, &flag, &st);
    return flag != 0;
  });
  int n = 0;
  MPI_Get_count(&st, MPI_BYTE, &n);
  std::vector<char> b(static_cast<std::size_t>(n));
  MPI_Recv(b.data(), n, MPI_BYTE, st.MPI_SOURCE, tag, comm, MPI_STATUS_IGNORE);
  if (st_out) *st_out = st;
  return b;
}

// ----- running the driver -------------------------------------------------------------------
// Evaluates a batch and turns every way it can go wrong into per-configuration failures with
// a reason: an exception, a wrong number of results, or an "ok" lacking promised properties.
std::vector<DoneItem> evaluate(Driver& driver, const std::vector<WorkItem>& items, int sites) {
  std::vector<Configuration> configs;
  configs.reserve(items.size());
  for (const auto& w : items) configs.push_back(w.config);
  std::vector<Properties> props;
  const auto t0 = Clock::now();
  try {
    props = driver.evaluate(configs);
    if (props.size() != configs.size())
      fail("driver '{}' returned {} results for {} configurations", driver.name(), props.size(),
           configs.size());
  } catch (const std::exception& e) {
    props.assign(configs.size(), Properties{});
    for (auto& p : props) {
      p.status = Status::failed;
      p.message = fmt::format("driver error: {}", e.what());
    }
  }
  const double per = std::chrono::duration<double>(Clock::now() - t0).count() /
                     static_cast<double>(std::max<std::size_t>(configs.size(), 1));
  std::vector<DoneItem> out(items.size());
  for (std::size_t k = 0; k < items.size(); ++k) {
    out[k].index = items[k].index;
    out[k].attempt = items[k].attempt;
    out[k].props = std::move(props[k]);
    Properties& p = out[k].props;
    if (p.wall_time <= 0) p.wall_time = per;
    if (p.ok()) {
      const std::string why = check_result(p, driver.provides(), sites);
      if (!why.empty()) {
        p.status = Status::failed;
        p.message = fmt::format("unusable result: {}", why);
      }
    }
  }
  return out;
}

// ----- the coordinator's state (rank 0) -----------------------------------------------------
class Coordinator {
 public:
  Coordinator(DatasetFile& file, const DatasetSettings& ds, const BuildOptions& opts,
              std::string driver)
      : file_(file), sys_(file.system()), opts_(opts), driver_(std::move(driver)) {
    const auto& c = file.configs();
    const auto& r = file.results();
    attempts_.assign(c.rows(), 0);
    ok_.assign(c.rows(), 0);
    for (std::size_t k = 0; k < r.rows(); ++k) {
      ++attempts_[r.config[k]];
      if (r.row_status(k) == Status::ok) ok_[r.config[k]] = 1;
    }
    budget_.assign(c.rows(), ds.retries + 1);
    for (std::size_t k = 0; k < c.rows(); ++k) {
      if (ok_[k] || !c.usable(k)) continue;  // a damaged row's configuration is unknown
      if (attempts_[k] >= budget_[k] && opts.retry_failed)
        budget_[k] = attempts_[k] + ds.retries + 1;
      if (attempts_[k] < budget_[k]) queue_.push_back(static_cast<std::int64_t>(k));
    }
    rows_.sites = sys_.num_sites();
    remaining_ = opts.max_calculations;
  }

  std::size_t pending() const { return queue_.size(); }
  bool has_work() const { return !queue_.empty() && remaining_ != 0; }

  std::vector<WorkItem> take(int batch) {
    std::vector<WorkItem> items;
    while (static_cast<int>(items.size()) < batch && has_work()) {
      const std::int64_t k = queue_.front();
      queue_.pop_front();
      items.push_back({k, attempts_[k] + 1, file_.configs().configuration(k)});
      if (remaining_ > 0) --remaining_;
    }
    return items;
  }

  void start_progress() {
    progress_ = std::make_unique<Progress>("build", static_cast<long>(queue_.size()), "configs",
                                           opts_.progress && !queue_.empty());
    t0_ = Clock::now();
  }

  // Appends the results (one flush) and re-queues failures that have attempts left.
  void record(const std::vector<DoneItem>& done) {
    if (done.empty()) return;
    rows_.clear();
    const auto& occ = file_.configs().occupation;
    for (const auto& d : done) {
      const auto k = d.index;
      rows_.push_back({k, d.attempt, d.props, driver_}, occ.data() + k * sys_.num_sites(), sys_);
      attempts_[k] = std::max(attempts_[k], d.attempt);
      ++calculated_;
      if (d.props.ok()) {
        ok_[k] = 1;
        ++ok_now_;
      } else {
        ++failed_now_;
        if (attempts_[k] < budget_[k]) {
          queue_.push_back(k);
          ++requeued_;
        }
      }
    }
    file_.append_results(rows_);
    if (progress_) {
      // Retries extend the work: the bar counts attempts.
      progress_->advance(static_cast<long>(done.size()),
                         fmt::format("ok {} failed {}{}", ok_now_, failed_now_,
                                     requeued_ ? fmt::format(" (retried {})", requeued_) : ""));
    }
  }

  void finish(BuildSummary& s) {
    if (progress_) progress_->finish(fmt::format("ok {} failed {}", ok_now_, failed_now_));
    s.calculated = calculated_;
    s.failed_attempts = failed_now_;
    s.seconds = std::chrono::duration<double>(Clock::now() - t0_).count();
  }

 private:
  DatasetFile& file_;
  const System& sys_;
  const BuildOptions& opts_;
  std::string driver_;
  std::vector<int> attempts_, budget_;
  std::vector<char> ok_;
  std::deque<std::int64_t> queue_;
  ResultTable rows_;
  long remaining_ = -1;
  std::size_t calculated_ = 0, ok_now_ = 0, failed_now_ = 0, requeued_ = 0;
  std::unique_ptr<Progress> progress_;
  Clock::time_point t0_;
};

// Rank 0 of an MPI run: hands out batches, writes results, and calculates itself between
// messages when `local` is set.
void coordinate(Coordinator& co, Driver* local, const std::vector<int>& leaders, int batch,
                int sites, MPI_Comm world) {
  std::vector<int> queued(leaders.size(), 0);
  std::vector<int> slot(0);
  int max_rank = 0;
  for (int l : leaders) max_rank = std::max(max_rank, l);
  slot.assign(max_rank + 1, -1);
  for (std::size_t g = 0; g < leaders.size(); ++g) slot[leaders[g]] = static_cast<int>(g);
  auto top_up = [&](std::size_t g) {
    while (queued[g] < kQueuedBatches && co.has_work()) {
      send_bytes(encode_work(co.take(batch), false), leaders[g], kTagWork, world);
      ++queued[g];
    }
  };
  for (std::size_t g = 0; g < leaders.size(); ++g) top_up(g);
  auto sleep = std::chrono::microseconds(20);
  while (true) {
    bool progressed = false;
    int flag = 0;
    MPI_Status st;
    while (MPI_Iprobe(MPI_ANY_SOURCE, kTagResult, world, &flag, &st) == MPI_SUCCESS && flag) {
      const auto bytes = recv_bytes(st.MPI_SOURCE, kTagResult, world);
      const int g = slot.at(st.MPI_SOURCE);
      --queued[g];
      co.record(decode_done(bytes));
      top_up(g);
      progressed = true;
    }
    // Failures re-queued by one group can go to any idle group.
    for (std::size_t g = 0; g < leaders.size(); ++g) top_up(g);
    if (local && co.has_work()) {
      co.record(evaluate(*local, co.take(batch), sites));
      continue;
    }
    int in_flight = 0;
    for (int q : queued) in_flight += q;
    if (in_flight == 0 && !co.has_work()) break;
    if (progressed) {
      sleep = std::chrono::microseconds(20);
    } else {
      // Poll with a short, growing sleep: a blocking probe would spin a core at 100%.
      std::this_thread::sleep_for(sleep);
      sleep = std::min(sleep * 2, std::chrono::microseconds(200));
    }
  }
  for (int l : leaders) send_bytes(encode_work({}, true), l, kTagWork, world);
}

// A worker group: the leader talks to rank 0 and broadcasts each batch to the group; every
// member calls the driver (which may use the group communicator).
void work(Driver& driver, MPI_Comm world, MPI_Comm group, int sites) {
  int grank = 0, gsize = 1;
  MPI_Comm_rank(group, &grank);
  MPI_Comm_size(group, &gsize);
  std::vector<WorkItem> items;
  while (true) {
    std::vector<char> bytes;
    if (grank == 0) bytes = recv_bytes(0, kTagWork, world);
    if (gsize > 1) {
      std::uint64_t n = bytes.size();
      polite_bcast(&n, 1, MPI_UINT64_T, 0, group);
      bytes.resize(n);
      polite_bcast(bytes.data(), static_cast<int>(n), MPI_BYTE, 0, group);
    }
    if (!decode_work(bytes, items)) break;
    auto done = evaluate(driver, items, sites);
    if (grank == 0) send_bytes(encode_done(done), 0, kTagResult, world);
  }
}

[[noreturn]] void abort_run(const BuildOptions& opts, int rank, const std::exception& e) {
  if (opts.on_rank_failure) opts.on_rank_failure(rank, e);
  fail("rank {}: {}", rank, e.what());
}

ConfigTable plan_table(const Plan& plan, int sites) {
  ConfigTable t;
  t.sites = sites;
  for (std::size_t k = 0; k < plan.configs.size(); ++k)
    t.push_back(plan.configs[k], plan.fold[k], Origin::sampled);
  return t;
}

// Opens the dataset file, planning it first when it does not exist yet.
DatasetFile open_or_plan(const std::filesystem::path& path, const Deck& deck, const System& sys,
                         const SamplingSettings& ss, const std::string& driver_name,
                         const std::vector<std::string>& driver_keys, PropertyMask provides,
                         const BuildOptions& opts, BuildSummary& summary) {
  const auto keys = plan_keys(sys, ss);
  if (std::filesystem::exists(path)) {
    DatasetFile f = DatasetFile::open(path, h5::Mode::read_write);
    const FileInfo& info = f.info();
    if (info.kind != "build")
      fail(
          "{}: this file was made by `lsms-surrogate {}`; `build` continues only files it made "
          "itself "
          "(choose another dataset.file or -o)",
          path.string(), info.kind);
    const auto diff = diff_keys(info.plan_keys, keys);
    if (!diff.empty())
      fail(
          "{}: the deck does not match the dataset this file holds, so it cannot be resumed:\n  "
          "{}\n"
          "Restore the deck, or write to another file (dataset.file or -o).",
          path.string(), fmt::join(diff, "\n  "));
    if (info.driver != driver_name)
      fail(
          "{}: the file holds results of driver '{}', the deck asks for '{}'; mixing them would "
          "make "
          "the dataset inconsistent (write to another file)",
          path.string(), info.driver, driver_name);
    const auto ddiff = diff_keys(info.driver_keys, driver_keys);
    if (!ddiff.empty() && !opts.allow_driver_change)
      fail(
          "{}: the settings of driver '{}' changed since the file was started:\n  {}\n"
          "Results would mix two models. Restore them, write to another file, or pass "
          "--allow-driver-change if the change does not affect results (e.g. paths, thread "
          "counts).",
          path.string(), driver_name, fmt::join(ddiff, "\n  "));
    summary.resumed = true;
    summary.torn_rows = f.torn_config_rows() + f.torn_result_rows();
    summary.damaged_rows = f.damaged_config_rows() + f.damaged_result_rows();
    return f;
  }
  std::error_code ec;
  std::filesystem::remove(path.string() + ".partial", ec);  // left by a run killed while planning
  const auto t0 = Clock::now();
  const Plan plan = make_plan(sys, ss);
  FileInfo info;
  info.kind = "build";
  info.driver = driver_name;
  info.provides = provides;
  info.sampling = ss;
  info.plan_keys = keys;
  info.driver_keys = driver_keys;
  info.deck_text = deck.text();
  info.deck_file = deck.file();
  ResultTable none;
  none.sites = sys.num_sites();
  DatasetFile::create(path, sys, info, plan_table(plan, sys.num_sites()), none);
  if (opts.verbose)
    fmt::print(opts.log, "planned {} configurations in {} compositions ({:.2f} s) -> {}\n",
               plan.configs.size(), plan.compositions.size(),
               std::chrono::duration<double>(Clock::now() - t0).count(), path.string());
  return DatasetFile::open(path, h5::Mode::read_write);
}

// The driver's deck keys and the settings it reports as effective: a file is resumed only with
// the same ones (see open_or_plan).
std::vector<std::string> driver_keys(const DeckTable& root, const std::string& driver_name,
                                     const Driver& driver) {
  std::vector<std::string> dkeys = table_keys(root.table(driver_name), driver_name);
  dkeys.insert(dkeys.begin(), fmt::format("driver = {}", driver_name));
  for (const auto& e : driver.effective_settings())
    dkeys.push_back(fmt::format("{}.effective.{}", driver_name, e));
  return dkeys;
}

void print_resume_note(const BuildOptions& opts, const std::filesystem::path& path,
                       const DatasetFile& file, const Coordinator& co, const BuildSummary& summary,
                       int attempts) {
  const auto s = summarize(file.configs(), file.results(), attempts);
  std::size_t ok = 0;
  for (const auto& c : s) ok += c.ok;
  fmt::print(
      opts.log, "resuming {}: {} of {} configurations done, {} to calculate{}{}\n", path.string(),
      ok, summary.planned, co.pending(),
      summary.torn_rows ? fmt::format(" ({} never-completed rows of the interrupted run cut off)",
                                      summary.torn_rows)
                        : "",
      summary.damaged_rows ? fmt::format("; {} damaged rows kept in the file but not used (see "
                                         "`lsms-surrogate info`)",
                                         summary.damaged_rows)
                           : "");
}

// A worker rank once rank 0 has opened the file: calculates in its group until rank 0 says
// stop. A failure, also one of setting up its driver (`error`), aborts the whole run.
void run_worker(Driver* driver, const std::exception_ptr& error, const BuildOptions& opts, int rank,
                MPI_Comm world, MPI_Comm group, int sites) {
  try {
    if (error) std::rethrow_exception(error);
    work(*driver, world, group, sites);
  } catch (const std::exception& e) {
    abort_run(opts, rank, e);
  }
}

// Rank 0 calculates every pending configuration: alone (one rank), or handing batches to the
// worker groups of `rpc` ranks each, led by ranks 1, 1 + rpc, ...
void run_calculations(Coordinator& co, Driver& driver, const DatasetSettings& ds, int size,
                      int sites, const BuildOptions& opts, MPI_Comm world) {
  const int rpc = ds.ranks_per_calculation;
  if (size > 1 && (size - 1) % rpc != 0 && opts.verbose)
    fmt::print(
        opts.log,
        "note: {} MPI rank(s) left idle: {} ranks beyond rank 0 do not split into groups of {}\n",
        (size - 1) % rpc, size - 1, rpc);
  co.start_progress();
  if (size == 1) {
    while (co.has_work()) co.record(evaluate(driver, co.take(ds.batch), sites));
    return;
  }
  const int groups = (size - 1) / rpc;
  std::vector<int> leaders;
  leaders.reserve(static_cast<std::size_t>(groups));
  for (int g = 0; g < groups; ++g) leaders.push_back(1 + g * rpc);
  const bool local = ds.coordinator_computes && rpc == 1;
  try {
    coordinate(co, local ? &driver : nullptr, leaders, ds.batch, sites, world);
  } catch (const std::exception& e) {
    abort_run(opts, 0, e);  // the workers would wait forever otherwise
  }
}

// The final state of each composition, read from the file itself, and how many distinct
// configurations it has.
void summarize_file(BuildSummary& summary, const System& sys, const SamplingSettings& ss,
                    int attempts) {
  DatasetFile check = DatasetFile::open(summary.file, h5::Mode::read);
  summary.compositions = summarize(check.configs(), check.results(), attempts);
  const int n = sys.num_sites();
  const auto tr =
      ss.unique_translations ? sys.lattice.translations() : std::vector<std::vector<int>>{};
  for (const auto& c : summary.compositions) {
    const auto exact =
        ss.unique_translations ? count_orbits(n, c.composition, tr) : binomial(n, c.composition);
    summary.distinct.push_back(format_count(
        exact,
        log10_binomial(n, c.composition) - (tr.empty() ? 0.0 : std::log10(double(tr.size())))));
  }
}

}  // namespace

std::string check_result(const Properties& p, PropertyMask provides, int sites) {
  if ((provides & kEnergy) && !p.energy) return "no energy";
  if (p.energy && !std::isfinite(*p.energy)) return "energy is not finite";
  auto check_sites = [&](const std::vector<double>& v, PropertyMask bit,
                         const char* what) -> std::string {
    if (!(provides & bit) && v.empty()) return {};
    if (static_cast<int>(v.size()) != sites)
      return fmt::format("{} {} values for {} sites", v.size(), what, sites);
    for (double x : v)
      if (!std::isfinite(x)) return fmt::format("a {} value is not finite", what);
    return {};
  };
  if (auto s = check_sites(p.charge, kCharge, "charge"); !s.empty()) return s;
  return check_sites(p.moment, kMoment, "moment");
}

BuildSummary build_dataset(const Deck& deck, const System& sys, const DriverRegistry& registry,
                           const BuildOptions& opts, MPI_Comm world) {
  int mpi_up = 0;
  MPI_Initialized(&mpi_up);  // a serial build (MPI_COMM_SELF) does not need MPI
  if (!mpi_up && world != MPI_COMM_SELF) fail("build_dataset: MPI is not initialized");
  const int rank = mpi::rank_of(world), size = mpi::size_of(world);
  const DeckTable& root = deck.root();
  const SamplingSettings ss = SamplingSettings::from_deck(root.table("sampling"), sys);
  const DatasetSettings ds = DatasetSettings::from_deck(root.table("dataset"), deck.file());
  const std::filesystem::path path =
      opts.output.empty() ? std::filesystem::path(ds.file) : opts.output;
  const int rpc = ds.ranks_per_calculation;
  if (size > 1 && rpc > size - 1)
    fail(
        "dataset.ranks_per_calculation = {} needs at least {} MPI ranks (rank 0 coordinates), got "
        "{}",
        rpc, rpc + 1, size);
  const std::string driver_name = root.string("driver", defaults::kDriver);

  BuildSummary summary;
  summary.file = path;
  summary.coordinator = rank == 0;

  // Groups: ranks 1.. in blocks of rpc; rank 0 and leftover ranks are in no group.
  const int groups = size > 1 ? (size - 1) / rpc : 0;
  const int group = rank >= 1 && (rank - 1) / rpc < groups ? (rank - 1) / rpc : -1;
  mpi::Comm group_comm;
  if (size > 1)
    group_comm = mpi::Comm(world, false).split(group >= 0 ? group : MPI_UNDEFINED, rank);

  // Rank 0 plans or opens the file while the workers set up their drivers (which can take
  // seconds, e.g. tb); then everybody learns rank 0's verdict.
  std::unique_ptr<Driver> driver;
  std::unique_ptr<DatasetFile> file;
  std::unique_ptr<Coordinator> co;
  int verdict = 0;
  std::exception_ptr error;
  if (rank == 0) {
    try {
      // One driver instance on rank 0 validates the driver's settings before anything is
      // written, and calculates when rank 0 computes.
      driver = registry.create_from_deck(root, sys, MPI_COMM_SELF);
      file = std::make_unique<DatasetFile>(open_or_plan(path, deck, sys, ss, driver_name,
                                                        driver_keys(root, driver_name, *driver),
                                                        driver->provides(), opts, summary));
      co = std::make_unique<Coordinator>(*file, ds, opts, driver_name);
      summary.planned = file->configs().rows();
      if (opts.verbose && summary.resumed)
        print_resume_note(opts, path, *file, *co, summary, ds.retries + 1);
    } catch (const std::exception&) {
      verdict = 1;
      error = std::current_exception();
    }
  } else if (group >= 0) {
    try {
      driver = registry.create_from_deck(root, sys, group_comm.get());
    } catch (const std::exception&) {
      error = std::current_exception();  // reported below unless rank 0 failed too
    }
  }
  if (size > 1) polite_bcast(&verdict, 1, MPI_INT, 0, world);
  if (verdict != 0) {
    if (rank == 0) std::rethrow_exception(error);
    return summary;  // rank 0 reports the error and exits non-zero
  }
  if (rank != 0) {
    if (group >= 0)  // a leftover rank has nothing to do (rank 0 warned)
      run_worker(driver.get(), error, opts, rank, world, group_comm.get(), sys.num_sites());
    return summary;
  }

  run_calculations(*co, *driver, ds, size, sys.num_sites(), opts, world);
  co->finish(summary);
  co.reset();
  file.reset();
  summarize_file(summary, sys, ss, ds.retries + 1);
  return summary;
}

}  // namespace lsmss::dataset
