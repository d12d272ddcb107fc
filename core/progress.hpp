#pragma once
// Progress of long work: a bar with rate and ETA on a terminal, plain periodic lines
// otherwise (batch logs). Writes to stderr so stdout stays clean for results.
#include <chrono>
#include <cstdio>
#include <string>

namespace lsmss {

class Progress {
 public:
  // `total` units of work (0: unknown), `unit` names them ("configs", "epochs").
  Progress(std::string label, long total, std::string unit = "items", bool enabled = true);
  ~Progress();
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;

  // Advances by n; `status` is appended to the line (e.g. "failed 2  loss 1.3e-3").
  void advance(long n = 1, const std::string& status = "");
  void set(long done, const std::string& status = "");
  void finish(const std::string& status = "");

  // Test hooks: force terminal / plain mode and the output stream.
  void force_mode(bool tty, std::FILE* out);

 private:
  void draw(bool final);
  std::string label_, unit_, status_;
  long total_ = 0, done_ = 0;
  bool enabled_ = true, tty_ = false, finished_ = false;
  std::FILE* out_ = stderr;
  std::chrono::steady_clock::time_point start_, last_draw_;
  double last_plain_fraction_ = -1.0;
};

std::string format_duration(double seconds);  // "1h02m", "3m05s", "12.3s"

}  // namespace lsmss
