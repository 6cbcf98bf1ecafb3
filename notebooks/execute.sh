#!/usr/bin/env bash
# Executes the notebooks headless (jupyter nbconvert, Debian's python3 kernel) on a result set.
# usage: notebooks/execute.sh RESULTS.h5 FIGURES_DIR EXECUTED_DIR NOTEBOOK.ipynb...
#   RESULTS.h5     the result set the notebooks read (INFERSIM_RESULTS)
#   FIGURES_DIR    where they write their PNG figures (INFERSIM_FIGURES)
#   EXECUTED_DIR   where the executed copies (with outputs) go; the sources stay clean
#   NOTEBOOK       the notebooks that read this result set (cluster.ipynb reads a cluster
#                  sweep of routers, policy_comparison.ipynb a policy sweep)
set -euo pipefail
[ $# -ge 4 ] || { sed -n '2,8p' "$0" >&2; exit 2; }
export INFERSIM_RESULTS=$(realpath "$1")
mkdir -p "$2" "$3"
export INFERSIM_FIGURES=$(realpath "$2")
out=$(realpath "$3")
shift 3
notebooks=("$@")
export PYDEVD_DISABLE_FILE_VALIDATION=1 MPLBACKEND=Agg
log=$(mktemp)
trap 'rm -f "$log"' EXIT
for nb in "${notebooks[@]}"; do
  rm -f "$out/$(basename "$nb")"
  if ! /usr/bin/python3 -m nbconvert --to notebook --execute --ExecutePreprocessor.timeout=600 \
      --output-dir "$out" "$nb" > "$log" 2>&1; then
    cat "$log" >&2
    echo "execute.sh: $nb failed" >&2
    exit 1
  fi
  echo "executed $nb -> $out/$(basename "$nb")"
done
