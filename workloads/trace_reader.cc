#include "workloads/trace_reader.h"

#include <fmt/format.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace infersim {

LineReader::LineReader(const std::string& path, const Mark& where) : path_(path) {
  file_ = gzopen(path.c_str(), "rb");
  if (!file_) throw InputError(where, fmt::format("cannot open trace '{}'", path));
  gzbuffer(file_, 1 << 18);
  buf_.resize(1 << 20);
}

LineReader::~LineReader() {
  if (file_) gzclose(file_);
}

bool LineReader::fill() {
  if (eof_) return false;
  if (begin_ > 0) {  // keep the partial line at the front
    std::memmove(buf_.data(), buf_.data() + begin_, end_ - begin_);
    end_ -= begin_;
    begin_ = 0;
  }
  if (end_ == buf_.size()) buf_.resize(buf_.size() * 2);  // a line longer than the buffer
  const int n = gzread(file_, buf_.data() + end_, static_cast<unsigned>(buf_.size() - end_));
  // gzread returns 0, not -1, when a compressed file ends in the middle of its stream, and
  // only gzerror says so (Z_BUF_ERROR): without this check a cut .gz trace would replay its
  // first part as if it were the whole. The data read before the error has been returned
  // by now, so the buffer holds at most the start of the line after line_, where the
  // error is reported. Cut or corrupt data is the input's fault; a failing read is not.
  if (n <= 0) {
    int err = Z_OK;
    const char* msg = gzerror(file_, &err);
    if (n < 0 || (err != Z_OK && err != Z_STREAM_END)) {
      if (err == Z_ERRNO) {
        throw std::runtime_error(fmt::format("reading trace {}: {}", path_, std::strerror(errno)));
      }
      throw InputError(Mark{path_, static_cast<int>(line_ + 1), 1},
                       err == Z_BUF_ERROR
                           ? std::string("the compressed file ends in the middle of its "
                                         "stream (cut short?)")
                           : fmt::format("corrupt compressed data ({})", msg ? msg : "error"));
    }
  }
  if (n == 0) {
    eof_ = true;
    return false;
  }
  end_ += static_cast<std::size_t>(n);
  return true;
}

bool LineReader::next(std::string_view& line) {
  for (;;) {
    const char* start = buf_.data() + begin_;
    const void* nl = std::memchr(start, '\n', end_ - begin_);
    if (nl) {
      std::size_t len = static_cast<const char*>(nl) - start;
      begin_ += len + 1;
      if (len > 0 && start[len - 1] == '\r') --len;
      line = std::string_view(start, len);
      ++line_;
      return true;
    }
    if (!fill()) {
      if (begin_ == end_) return false;
      // A last line without an end of line.
      std::size_t len = end_ - begin_;
      const char* s = buf_.data() + begin_;
      begin_ = end_;
      if (len > 0 && s[len - 1] == '\r') --len;
      line = std::string_view(s, len);
      ++line_;
      return true;
    }
  }
}

std::size_t split_fields(std::string_view line, std::vector<std::string_view>& fields) {
  fields.clear();
  // A byte loop, not find(','): an Azure 2019 row is 1,444 fields of a digit or two, and a
  // memchr call per field cost over twice this loop (callgrind of `infersim_bench trace
  // 1000`: split_fields 300 M -> 135 M instructions, of the set-up's 1,130 M).
  const char* from = line.data();
  const char* const end = from + line.size();
  for (const char* p = from; p != end; ++p) {
    if (*p == ',') {
      fields.emplace_back(from, static_cast<std::size_t>(p - from));
      from = p + 1;
    }
  }
  fields.emplace_back(from, static_cast<std::size_t>(end - from));
  return fields.size();
}

int column_of(std::string_view line, std::string_view field) {
  return static_cast<int>(field.data() - line.data()) + 1;
}

bool parse_seconds_ns(std::string_view s, SimTime& ns) {
  if (s.empty()) return false;
  std::size_t i = 0;
  std::int64_t whole = 0;
  std::size_t digits = 0;
  for (; i < s.size() && s[i] >= '0' && s[i] <= '9'; ++i, ++digits) {
    whole = whole * 10 + (s[i] - '0');
    if (whole >= 9'000'000'000) return false;
  }
  std::int64_t frac = 0;
  int frac_digits = 0;
  bool round_up = false;
  if (i < s.size() && s[i] == '.') {
    ++i;
    for (; i < s.size() && s[i] >= '0' && s[i] <= '9'; ++i, ++digits) {
      if (frac_digits < 9) {
        frac = frac * 10 + (s[i] - '0');
        ++frac_digits;
      } else if (frac_digits == 9) {
        round_up = s[i] >= '5';
        ++frac_digits;  // later digits do not matter
      }
    }
  }
  if (i != s.size() || digits == 0) return false;
  for (int k = std::min(frac_digits, 9); k < 9; ++k) frac *= 10;
  ns = whole * 1'000'000'000 + frac + (round_up ? 1 : 0);
  return true;
}

bool parse_count(std::string_view s, std::uint64_t& n) {
  if (s.empty() || s.size() > 16) return false;
  n = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    n = n * 10 + static_cast<std::uint64_t>(c - '0');
  }
  return n < (std::uint64_t{1} << 53);
}

}  // namespace infersim
