#include "lsms_plugin/process.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <deque>
#include <fstream>
#include <thread>

#include <fmt/format.h>

#include "core/error.hpp"

namespace lsmss::lsms {
namespace {

// Kills the child's process group if the caller unwinds before it was reaped.
class ChildGuard {
 public:
  explicit ChildGuard(pid_t pid) : pid_(pid) {}
  ~ChildGuard() {
    if (pid_ > 0) {
      kill(-pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
  }
  void release() { pid_ = -1; }
  ChildGuard(const ChildGuard&) = delete;
  ChildGuard& operator=(const ChildGuard&) = delete;

 private:
  pid_t pid_;
};

}  // namespace

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

ProcessResult run_process(const std::vector<std::string>& argv,
                          const std::filesystem::path& workdir, double timeout_seconds) {
  if (argv.empty()) fail("run_process: empty command");
  const std::string out_path = (workdir / "stdout.txt").string();
  const std::string err_path = (workdir / "stderr.txt").string();
  std::vector<char*> cargv;
  cargv.reserve(argv.size() + 1);
  for (const auto& a : argv) cargv.push_back(const_cast<char*>(a.c_str()));
  cargv.push_back(nullptr);

  const auto start = std::chrono::steady_clock::now();
  const pid_t pid = fork();
  if (pid < 0) fail("cannot fork to launch '{}'", argv[0]);
  if (pid == 0) {
    // Child: own process group, redirect output, exec. Only async-signal-safe calls here.
    setpgid(0, 0);
    if (chdir(workdir.c_str()) != 0) _exit(126);
    const int out = open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    const int err = open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (out < 0 || err < 0) _exit(126);
    dup2(out, 1);
    dup2(err, 2);
    execvp(cargv[0], cargv.data());
    const char msg[] = "exec failed: program not found or not executable\n";
    (void)!write(2, msg, sizeof msg - 1);
    _exit(127);
  }
  setpgid(pid, pid);
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
      kill(-pid, SIGTERM);
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
      kill(-pid, SIGKILL);
      waitpid(pid, &status, 0);
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(elapsed < 1.0 ? 5 : 50));
  }
  guard.release();
  r.wall_time = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (WIFEXITED(status)) r.exit_code = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) r.signal = WTERMSIG(status);
  r.stderr_tail = file_tail(err_path, 15);
  return r;
}

}  // namespace lsmss::lsms
