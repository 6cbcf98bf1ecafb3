// Where a path name leads, for comparing two names of one file. Kept apart from
// output_files.cc, which writes result files: the simulation's own code (the trace
// readers' keys in runner.cc) needs only this, and linking it must not pull in HDF5.
#pragma once

#include <string>

namespace infersim {

// The file `path` names, absolute: its existing folders with links resolved, the rest
// (folders a writer will make, "..") normalized. Two names of one file resolve alike,
// whether or not the file exists yet.
std::string resolved_path(const std::string& path);

}  // namespace infersim
