// The program's version and the git revision it was built from (for result provenance).
// Defined in a source file generated at configure time, so a new commit recompiles only it.
#pragma once

namespace infersim {

const char* version();
const char* git_revision();

}  // namespace infersim
