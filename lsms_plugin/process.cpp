#include "lsms_plugin/process.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstring>
#include <deque>
#include <fstream>
#include <set>
#include <thread>

#include <fmt/format.h>

#include "core/error.hpp"

extern char** environ;

namespace lsmss::lsms {
namespace {

struct ProcInfo {
  pid_t pid = 0, ppid = 0, pgrp = 0, sid = 0;
};

// Every process of the machine we may see (from /proc; the comm field may hold spaces and
// parentheses, so the fields are read after its last ')').
std::vector<ProcInfo> list_processes() {
  std::vector<ProcInfo> out;
  DIR* d = opendir("/proc");
  if (!d) return out;
  while (const dirent* e = readdir(d)) {
    if (!std::isdigit(static_cast<unsigned char>(e->d_name[0]))) continue;
    std::ifstream in(std::string("/proc/") + e->d_name + "/stat");
    std::string line;
    if (!std::getline(in, line)) continue;
    const auto close = line.rfind(')');
    if (close == std::string::npos) continue;
    char state = 0;
    ProcInfo p;
    p.pid = static_cast<pid_t>(std::atol(e->d_name));
    if (std::sscanf(line.c_str() + close + 1, " %c %d %d %d", &state, &p.ppid, &p.pgrp, &p.sid) ==
        4)
      out.push_back(p);
  }
  closedir(d);
  return out;
}

// The child `root`, every process of its session and process group, and all their descendants.
std::set<pid_t> job_processes(pid_t root) {
  const auto procs = list_processes();
  std::set<pid_t> job = {root};
  for (const auto& p : procs)
    if (p.sid == root || p.pgrp == root) job.insert(p.pid);
  for (bool grew = true; grew;) {
    grew = false;
    for (const auto& p : procs)
      if (job.count(p.ppid) && job.insert(p.pid).second) grew = true;
  }
  job.erase(getpid());
  return job;
}

void signal_all(const std::set<pid_t>& pids, pid_t root, int sig) {
  kill(-root, sig);
  for (pid_t p : pids) kill(p, sig);
}

// Ends the whole job of `root`: SIGTERM (mpirun forwards it and cleans up), then SIGKILL to
// everything still there, including ranks that left the launcher's process group. The set is
// taken before the first signal, while the launcher still ties its ranks to it as their parent.
void kill_job(pid_t root, int* status) {
  std::set<pid_t> job = job_processes(root);
  signal_all(job, root, SIGTERM);
  const auto start = std::chrono::steady_clock::now();
  bool reaped = false;
  while (std::chrono::steady_clock::now() - start < std::chrono::milliseconds(1500)) {
    if (!reaped && waitpid(root, status, WNOHANG) == root) reaped = true;
    bool alive = false;
    for (pid_t p : job)
      if (p != root && kill(p, 0) == 0) alive = true;
    if (reaped && !alive) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  const std::set<pid_t> later = job_processes(root);
  job.insert(later.begin(), later.end());
  signal_all(job, root, SIGKILL);
  if (!reaped) waitpid(root, status, 0);
}

// Kills the child's job if the caller unwinds before it was reaped.
class ChildGuard {
 public:
  explicit ChildGuard(pid_t pid) : pid_(pid) {}
  ~ChildGuard() {
    if (pid_ > 0) {
      int status = 0;
      kill_job(pid_, &status);
    }
  }
  void release() { pid_ = -1; }
  ChildGuard(const ChildGuard&) = delete;
  ChildGuard& operator=(const ChildGuard&) = delete;

 private:
  pid_t pid_;
};

bool starts_with(const std::string& s, const char* prefix) {
  return s.rfind(prefix, 0) == 0;
}

bool is_error_line(const std::string& line) {
  std::string low(line);
  std::transform(low.begin(), low.end(), low.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  static constexpr const char* kWords[] = {
      "terminate called", "what()", "error",  "abort",     "segmentation", "signal",
      "exception",        "fatal",  "cannot", "can't",     "not found",    "no such file",
      "killed",           "failed", "panic",  "permission"};
  for (const char* w : kWords)
    if (low.find(w) != std::string::npos) return true;
  return false;
}

}  // namespace

std::vector<std::string> clean_child_environment(const std::map<std::string, std::string>& extra) {
  static constexpr const char* kMpiPrefixes[] = {"OMPI_",  "PMIX_", "PRTE_",  "ORTE_",  "OPAL_",
                                                 "HYDRA_", "PMI_",  "MPICH_", "I_MPI_", "MPIR_"};
  static constexpr const char* kKeep[] = {"OMPI_ALLOW_RUN_AS_ROOT",
                                          "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM"};
  std::set<std::string> self_set = {"LSMSS_SELF_SET_ENV"};
  if (const char* own = std::getenv("LSMSS_SELF_SET_ENV")) {
    std::string list = own;
    for (std::size_t pos = 0; pos <= list.size();) {
      const auto comma = std::min(list.find(',', pos), list.size());
      if (comma > pos) self_set.insert(list.substr(pos, comma - pos));
      pos = comma + 1;
    }
  }
  std::map<std::string, std::string> env;
  for (char** e = environ; e && *e; ++e) {
    const std::string entry = *e;
    const auto eq = entry.find('=');
    if (eq == std::string::npos) continue;
    const std::string name = entry.substr(0, eq);
    bool drop = self_set.count(name) > 0;
    for (const char* p : kMpiPrefixes) drop = drop || starts_with(name, p);
    for (const char* k : kKeep) drop = drop && name != k;
    if (!drop) env[name] = entry.substr(eq + 1);
  }
  for (const auto& [k, v] : extra) env[k] = v;
  std::vector<std::string> out;
  out.reserve(env.size());
  for (const auto& [k, v] : env) out.push_back(std::string(k).append("=").append(v));
  return out;
}

std::string file_tail(const std::filesystem::path& path, int max_lines) {
  std::ifstream in(path);
  std::deque<std::string> lines;
  for (std::string l; std::getline(in, l);) {
    lines.push_back(l);
    if (static_cast<int>(lines.size()) > max_lines) lines.pop_front();
  }
  std::string s;
  for (const auto& l : lines) s += l + "\n";
  return s;
}

std::string error_excerpt(const std::filesystem::path& path, int max_error_lines,
                          int max_tail_lines) {
  std::ifstream in(path);
  std::vector<std::string> errors;
  std::deque<std::string> tail;
  int n = 0, last_error = -1;
  for (std::string l; std::getline(in, l); ++n) {
    if (static_cast<int>(errors.size()) < max_error_lines && is_error_line(l)) {
      errors.push_back(l);
      last_error = n;
    }
    tail.push_back(l);
    if (static_cast<int>(tail.size()) > max_tail_lines) tail.pop_front();
  }
  std::string s;
  // Error lines already inside the tail are shown there; print them apart only when not.
  const int tail_start = n - static_cast<int>(tail.size());
  if (!errors.empty() && last_error < tail_start) {
    for (const auto& l : errors) s += l + "\n";
    if (!tail.empty()) s += "...\n";
  }
  for (const auto& l : tail) s += l + "\n";
  return s;
}

ProcessResult run_process(const std::vector<std::string>& argv,
                          const std::filesystem::path& workdir, double timeout_seconds) {
  return run_process(argv, workdir, timeout_seconds, clean_child_environment({}));
}

ProcessResult run_process(const std::vector<std::string>& argv,
                          const std::filesystem::path& workdir_in, double timeout_seconds,
                          const std::vector<std::string>& env) {
  if (argv.empty()) fail("run_process: empty command");
  // Absolute paths: the child opens its output files and changes into the directory, and a
  // relative work_dir would otherwise be resolved twice.
  const std::filesystem::path workdir = std::filesystem::absolute(workdir_in);
  const std::string dir_path = workdir.string();
  const std::string out_path = (workdir / "stdout.txt").string();
  const std::string err_path = (workdir / "stderr.txt").string();
  const std::string chdir_msg = fmt::format("cannot change into {}\n", dir_path);
  const std::string exec_msg =
      fmt::format("exec of '{}' failed: program not found or not executable\n", argv[0]);
  std::vector<char*> cargv;
  cargv.reserve(argv.size() + 1);
  for (const auto& a : argv) cargv.push_back(const_cast<char*>(a.c_str()));
  cargv.push_back(nullptr);
  std::vector<char*> cenv;
  cenv.reserve(env.size() + 1);
  for (const auto& e : env) cenv.push_back(const_cast<char*>(e.c_str()));
  cenv.push_back(nullptr);

  const auto start = std::chrono::steady_clock::now();
  const pid_t pid = fork();
  if (pid < 0) fail("cannot fork to launch '{}'", argv[0]);
  if (pid == 0) {
    // Child: own session (and process group), output files, exec. Only async-signal-safe calls.
    setsid();
    const int out = open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    const int err = open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (out < 0 || err < 0) _exit(126);
    dup2(out, 1);
    dup2(err, 2);
    if (chdir(dir_path.c_str()) != 0) {
      (void)!write(2, chdir_msg.data(), chdir_msg.size());
      _exit(126);
    }
    execvpe(cargv[0], cargv.data(), cenv.data());
    (void)!write(2, exec_msg.data(), exec_msg.size());
    _exit(127);
  }
  ChildGuard guard(pid);
  ProcessResult r;
  int status = 0;
  for (;;) {
    const pid_t w = waitpid(pid, &status, WNOHANG);
    if (w == pid) break;
    const double elapsed =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (timeout_seconds > 0 && elapsed > timeout_seconds) {
      r.timed_out = true;
      kill_job(pid, &status);
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(elapsed < 1.0 ? 5 : 50));
  }
  guard.release();
  // Ranks that outlived a launcher which exited by itself (an abort) are ended too.
  if (!r.timed_out) {
    std::set<pid_t> rest = job_processes(pid);
    rest.erase(pid);  // reaped: its number may belong to someone else by now
    if (!rest.empty()) signal_all(rest, pid, SIGKILL);
  }
  r.wall_time = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (WIFEXITED(status)) r.exit_code = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) r.signal = WTERMSIG(status);
  r.stderr_tail = error_excerpt(err_path);
  return r;
}

}  // namespace lsmss::lsms
