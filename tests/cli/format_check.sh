#!/usr/bin/env bash
# The C++ sources follow the checked-in .clang-format (`make format` applies it).
# usage: format_check.sh  (from anywhere; checks the repository's tracked and new sources)
set -u
cd "$(dirname "$0")/../.."
command -v clang-format > /dev/null || { echo "clang-format not installed"; exit 77; }
files=$( (git ls-files '*.cc' '*.h' '*.cu'; git ls-files --others --exclude-standard '*.cc' '*.h' '*.cu') | sort -u)
[ -n "$files" ] || exit 0
out=$(clang-format --dry-run --Werror $files 2>&1)
if [ -n "$out" ]; then
  echo "$out" | grep -E 'warning:|error:' | head -20
  echo "FAIL: $(echo "$out" | grep -cE 'warning:|error:') formatting findings; run 'make format'"
  exit 1
fi
echo "format: $(echo "$files" | wc -l) files clean"
