// Where a sweep's result set goes, checked before anything runs: infersim never replaces
// what is not a regular file, never writes outside results/ by default, and never simulates
// for an output it cannot write.
#pragma once

#include <string>

#include "sim/core/error.h"

namespace infersim {

// "results/<name>.h5", the default output. The name must be safe as one file name: 1 to 100
// characters, letters, digits, '.', '_', '+' and '-', not starting with '.' or '-' (so
// `name: ../../x` or an absolute name cannot write outside results/). Otherwise an
// InputError at `where` (the experiment's `name`).
std::string default_output_path(const std::string& name, const Mark& where);

// Checks that OUT (and its shard directory OUT.d when `shard_dir` is given) can be written,
// before anything runs: OUT is absent or a regular file (not a directory, a device, a FIFO
// or a socket: writing there would replace it), its folder is a writable directory (or can
// be made in one), and the shard directory is absent or a directory. Otherwise an
// InputError at `where` (e.g. "-o").
void check_output_path(const std::string& out, const Mark& where,
                       const std::string& shard_dir = "");

}  // namespace infersim
