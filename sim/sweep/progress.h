// Progress of a sweep on stderr: a bar when stderr is a terminal, otherwise a line every
// few seconds (INFERSIM_PROGRESS_SECONDS sets the interval).
#pragma once

#include <chrono>
#include <cstddef>
#include <string>

namespace infersim {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t);
// "1:02:03" or "2:03"; "?" for a negative or absurd value.
std::string format_duration(double s);

class Progress {
 public:
  Progress(std::size_t total, bool enabled, std::string label);
  void update(std::size_t done, std::size_t failed);
  // Prints a line of its own (a failure), keeping the bar intact.
  void message(const std::string& line);
  void clear();

 private:
  std::size_t total_;
  bool enabled_;
  bool tty_;
  std::string label_;
  Clock::time_point start_, last_;
  double interval_ = 5.0;
  bool drawn_ = false;
};

}  // namespace infersim
