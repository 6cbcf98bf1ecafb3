// Reading trace files a line at a time: plain text or gzip (zlib reads both), so memory
// stays flat however long the trace is. Plus the exact parsers the trace formats need.
#pragma once

#include <zlib.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "sim/core/error.h"
#include "sim/core/time.h"

namespace infersim {

class LineReader {
 public:
  // Throws InputError at `where` when the file cannot be opened.
  LineReader(const std::string& path, const Mark& where);
  ~LineReader();
  LineReader(const LineReader&) = delete;
  LineReader& operator=(const LineReader&) = delete;

  // The next line without its end of line ("\n" or "\r\n"); false at the end of the file.
  // The view stays valid until the next call. Throws std::runtime_error on a read error.
  bool next(std::string_view& line);
  // 1-based number of the line last returned.
  std::int64_t line_number() const { return line_; }
  const std::string& path() const { return path_; }
  // A mark at `column` (1-based) of the line last returned; before the first line (an
  // empty file), path:1:1, the whole file.
  Mark mark(int column = 1) const {
    return Mark{path_, line_ == 0 ? 1 : static_cast<int>(line_), column};
  }

 private:
  bool fill();  // reads more into the buffer; false at the end of the file

  std::string path_;
  gzFile file_ = nullptr;
  std::vector<char> buf_;
  std::size_t begin_ = 0, end_ = 0;
  bool eof_ = false;
  std::int64_t line_ = 0;
};

// Splits a line at commas into `fields` (cleared first); returns their count. The formats
// read here have no quoting.
std::size_t split_fields(std::string_view line, std::vector<std::string_view>& fields);
// The 1-based column at which `field` (a view into `line`) starts.
int column_of(std::string_view line, std::string_view field);

// Parses a plain decimal number of seconds ("12", "0.000000001", "5160.142570018768") to
// whole nanoseconds, exactly: digits beyond the ninth decimal round to the nearest
// nanosecond (a tenth digit of 5 or more rounds up). Signs, exponents and values of 9e9 s
// or more are rejected (false).
bool parse_seconds_ns(std::string_view s, SimTime& ns);
// Parses a non-negative integer below 2^53 (false otherwise).
bool parse_count(std::string_view s, std::uint64_t& n);

}  // namespace infersim
