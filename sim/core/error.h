// Errors in user input. Every one names where it happened (file:line:column) and what was
// expected; the CLI prints what() on one line and exits with status 2.
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>

namespace infersim {

// A position in an input file; line and column are 1-based, 0 means unknown.
struct Mark {
  std::string file;
  int line = 0;
  int column = 0;
};

std::string format_mark(const Mark& m);  // "file:line:col", or "file" when unknown

// `text` made safe to print as (part of) one line: control characters (newline, tab, ESC,
// DEL, C1 controls) become escapes such as \n or \x1b, and bytes that are not valid UTF-8
// become \xNN, so a key or value holding a newline cannot split an error message.
std::string one_line(std::string_view text);
// Whether `text` is valid UTF-8 without control characters (one_line leaves it as it is).
bool is_printable_utf8(std::string_view text);

class InputError : public std::runtime_error {
 public:
  // what() is one_line("file:line:col: message").
  InputError(const Mark& mark, const std::string& message);
  const Mark& mark() const { return mark_; }
  const std::string& message() const { return message_; }  // without the position, raw

 private:
  Mark mark_;
  std::string message_;
};

}  // namespace infersim
