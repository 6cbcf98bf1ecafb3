#include "sim/sweep/progress.h"

#include <fmt/format.h>
#include <fmt/ostream.h>
#include <unistd.h>

#include <cstdlib>
#include <iostream>

namespace infersim {

double seconds_since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

std::string format_duration(double s) {
  if (!(s >= 0) || s > 1e7) return "?";
  long t = static_cast<long>(s + 0.5);
  if (t >= 3600) return fmt::format("{}:{:02}:{:02}", t / 3600, (t / 60) % 60, t % 60);
  return fmt::format("{}:{:02}", t / 60, t % 60);
}

Progress::Progress(std::size_t total, bool enabled, std::string label)
    : total_(total),
      enabled_(enabled && total > 0),
      tty_(::isatty(2) == 1),
      label_(std::move(label)),
      start_(Clock::now()),
      last_(start_) {
  if (const char* s = std::getenv("INFERSIM_PROGRESS_SECONDS")) interval_ = std::atof(s);
}

void Progress::update(std::size_t done, std::size_t failed) {
  if (!enabled_) return;
  const double since = seconds_since(last_);
  if (tty_ ? since < 0.1 && done < total_ : since < interval_) return;
  last_ = Clock::now();
  const double elapsed = seconds_since(start_);
  const double rate = elapsed > 0 ? static_cast<double>(done) / elapsed : 0;
  const double eta = rate > 0 ? static_cast<double>(total_ - done) / rate : -1;
  const std::string fail = failed ? fmt::format(", {} failed", failed) : "";
  if (tty_) {
    const int width = 30;
    const int fill = static_cast<int>(width * done / total_);
    fmt::print(std::cerr, "\r\033[K{}[{}{}] {}/{} runs  {:.1f} runs/s  ETA {}{}", label_,
               std::string(fill, '#'), std::string(width - fill, '.'), done, total_, rate,
               format_duration(eta), fail);
    drawn_ = true;
  } else {
    fmt::print(std::cerr, "infersim: {}{}/{} runs ({:.0f}%), {:.1f} runs/s, ETA {}{}\n", label_,
               done, total_, 100.0 * static_cast<double>(done) / static_cast<double>(total_), rate,
               format_duration(eta), fail);
  }
  std::cerr.flush();
}

void Progress::message(const std::string& line) {
  clear();
  std::cerr << line << "\n";
}

void Progress::clear() {
  if (drawn_) std::cerr << "\r\033[K";
  drawn_ = false;
}

}  // namespace infersim
