#!/usr/bin/env bash
# Every checked-in experiment loads: `infersim run X --dry-run` (the whole input check, every
# sweep point expanded and checked, nothing simulated) exits 0 for each experiments/*.yaml.
# A merge once left azure_cluster.yaml using a YAML alias after aliases were refused.
# usage: experiments_load.sh path/to/infersim
set -u
. "$(dirname "$0")/lib.sh"
fails=0
count=0
for x in experiments/*.yaml; do
  count=$((count + 1))
  if "$INFERSIM" run "$x" --dry-run -o "$work/out.h5" > /dev/null 2> "$work/err"; then
    echo "ok   $x"
  else
    echo "FAIL $x: exit status $?: $(head -1 "$work/err")"
    fails=$((fails + 1))
  fi
  if [ -e "$work/out.h5" ]; then
    echo "FAIL $x: --dry-run wrote its output"
    fails=$((fails + 1))
  fi
done
[ "$count" -gt 0 ] || { echo "FAIL: no experiments found"; exit 1; }
echo "$count experiments, $fails failures"
[ "$fails" -eq 0 ]
