// Errors in user input. Every one names where it happened (file:line:column) and what was
// expected; the CLI prints what() on one line and exits with status 2.
#pragma once

#include <stdexcept>
#include <string>

namespace infersim {

// A position in an input file; line and column are 1-based, 0 means unknown.
struct Mark {
  std::string file;
  int line = 0;
  int column = 0;
};

std::string format_mark(const Mark& m);  // "file:line:col", or "file" when unknown

class InputError : public std::runtime_error {
 public:
  InputError(const Mark& mark, const std::string& message);
  const Mark& mark() const { return mark_; }

 private:
  Mark mark_;
};

}  // namespace infersim
