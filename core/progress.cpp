#include "core/progress.hpp"

#include <unistd.h>

#include <cmath>

#include <fmt/format.h>

namespace lsmss {

std::string format_duration(double s) {
  if (!std::isfinite(s) || s < 0) return "?";
  if (s < 60) return fmt::format("{:.1f}s", s);
  const long t = std::lround(s);
  if (t < 3600) return fmt::format("{}m{:02d}s", t / 60, t % 60);
  return fmt::format("{}h{:02d}m", t / 3600, (t % 3600) / 60);
}

Progress::Progress(std::string label, long total, std::string unit, bool enabled)
    : label_(std::move(label)), unit_(std::move(unit)), total_(total), enabled_(enabled) {
  tty_ = isatty(fileno(stderr)) != 0;
  start_ = last_draw_ = std::chrono::steady_clock::now();
}

Progress::~Progress() {
  if (!finished_ && enabled_ && done_ > 0) finish();
}

void Progress::force_mode(bool tty, std::FILE* out) {
  tty_ = tty;
  out_ = out;
}

void Progress::advance(long n, const std::string& status) {
  set(done_ + n, status);
}

void Progress::set(long done, const std::string& status) {
  done_ = done;
  status_ = status;
  if (!enabled_) return;
  const auto now = std::chrono::steady_clock::now();
  const double since = std::chrono::duration<double>(now - last_draw_).count();
  if (tty_) {
    if (since >= 0.1 || (total_ > 0 && done_ >= total_)) draw(false);
  } else {
    // Plain mode: a line every 10% or every 30 s, whichever comes first.
    const double frac = total_ > 0 ? double(done_) / double(total_) : 0.0;
    if (since >= 30.0 || (total_ > 0 && frac - last_plain_fraction_ >= 0.1)) {
      last_plain_fraction_ = frac;
      draw(false);
    }
  }
}

void Progress::finish(const std::string& status) {
  if (finished_) return;
  finished_ = true;
  if (!status.empty()) status_ = status;
  if (enabled_) draw(true);
}

void Progress::draw(bool final) {
  const auto now = std::chrono::steady_clock::now();
  last_draw_ = now;
  const double elapsed = std::chrono::duration<double>(now - start_).count();
  const double rate = elapsed > 0 ? done_ / elapsed : 0.0;
  std::string eta = "?";
  if (final)
    eta = "done in " + format_duration(elapsed);
  else if (total_ > 0 && rate > 0)
    eta = "ETA " + format_duration((total_ - done_) / rate);
  std::string counts = total_ > 0 ? fmt::format("{}/{}", done_, total_) : fmt::format("{}", done_);
  std::string line;
  if (tty_) {
    const int width = 28;
    const double frac = total_ > 0 ? std::min(1.0, double(done_) / double(total_)) : 0.0;
    const int filled = static_cast<int>(frac * width);
    line = fmt::format("\r{} [{}{}] {:3.0f}% {} {} {:.3g} {}/s {} {}\x1b[K", label_,
                       std::string(filled, '#'), std::string(width - filled, '.'), 100 * frac,
                       counts, unit_, rate, unit_, eta, status_);
    if (final) line += "\n";
  } else {
    line = fmt::format("{}: {} {}, {:.3g} {}/s, {} {}\n", label_, counts, unit_, rate, unit_, eta,
                       status_);
  }
  std::fputs(line.c_str(), out_);
  std::fflush(out_);
}

}  // namespace lsmss
