# Writes OUT from the template IN, with INFERSIM_GIT_REV set to the source tree's commit
# (12 hex digits, "-dirty" when tracked files differ from it; "unknown" outside git) and
# PROJECT_VERSION passed in. Run at every build (sim/CMakeLists.txt), so result files name
# the revision they were built from, not the one CMake was configured at; configure_file
# rewrites OUT only when its text changes, so an unchanged revision recompiles nothing.
#   cmake -DSRC=... -DIN=... -DOUT=... -DPROJECT_VERSION=... -P git_revision.cmake
execute_process(COMMAND git rev-parse --short=12 HEAD
                WORKING_DIRECTORY ${SRC}
                OUTPUT_VARIABLE INFERSIM_GIT_REV OUTPUT_STRIP_TRAILING_WHITESPACE
                RESULT_VARIABLE failed ERROR_QUIET)
if(failed OR NOT INFERSIM_GIT_REV)
  set(INFERSIM_GIT_REV "unknown")
else()
  execute_process(COMMAND git diff --quiet HEAD --
                  WORKING_DIRECTORY ${SRC} RESULT_VARIABLE dirty ERROR_QUIET)
  if(dirty)
    set(INFERSIM_GIT_REV "${INFERSIM_GIT_REV}-dirty")
  endif()
endif()
configure_file(${IN} ${OUT} @ONLY)
