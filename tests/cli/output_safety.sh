#!/usr/bin/env bash
# infersim deletes only what it made and never writes where it should not (issue 7, item 12):
#   - a user's file in OUT.h5.d survives the merge (only the shards are removed, and the
#     directory only when that empties it);
#   - `-o` at a FIFO (or any file that is not a regular file) or at a directory is refused
#     before anything runs: exit 2, one line, the FIFO/directory untouched, nothing written;
#   - an output is none of the files the command reads (the experiment, its profile, even
#     through a link; compare's inputs; merge's shards), and a path ending in '/' is a
#     folder: exit 2 before anything runs, nothing changed;
#   - the experiment's name cannot lead the default output out of results/ (`../../x`, an
#     absolute path): exit 2 at the name's line and column, nothing written;
#   - another sweep's shards in OUT.h5.d are neither overwritten nor deleted (exit 2), and
#     only infersim's own temporary names (run-NNNNNN.h5.tmp.<pid>.<host>) are cleaned up.
# usage: output_safety.sh path/to/infersim
set -u
INFERSIM=$(realpath "$1")
cd "$(dirname "$0")/../.."
repo=$(pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

exp() {  # exp NAME-LINE > file: a 12-run sweep, about a second in all
  cat <<EOF2
$1
seed: 8
duration_s: 20
hardware: {profile: $repo/hardware_profiles/v100_clockwork.yaml, gpu: v100, count: 2}
policy: {name: exclusive, max_batch: 8}
tenants:
  - {model: resnet50_v1, slo_ms: 25, arrival: {process: poisson, rate: 300}}
sweep:
  grid:
    tenants.0.arrival.rate: [100, 200, 300]
    policy.max_batch: [2, 4, 8, 16]
EOF2
}
exp "name: safe" > "$work/exp.yaml"

# expect2 NAME PATTERN CMD...: exit 2, one line on stderr matching PATTERN, no simulation.
expect2() {
  local name=$1 pattern=$2
  shift 2
  "$@" > "$work/out" 2> "$work/err"
  local rc=$?
  [ "$rc" -eq 2 ] || fail "$name: exit $rc, expected 2: $(cat "$work/err")"
  [ "$(wc -l < "$work/err")" -eq 1 ] || fail "$name: $(wc -l < "$work/err") lines: $(cat "$work/err")"
  grep -Eq -- "$pattern" "$work/err" || fail "$name: stderr does not match /$pattern/: $(cat "$work/err")"
  grep -q "runs:" "$work/out" && fail "$name: it simulated before failing"
  echo "ok   $name: $(cat "$work/err")"
}

# 1. A user's file in OUT.h5.d.
mkdir "$work/mine.h5.d"
echo "my notes" > "$work/mine.h5.d/notes.txt"
"$INFERSIM" run "$work/exp.yaml" -o "$work/mine.h5" -q > "$work/mine.log" || fail "run into mine.h5"
[ -f "$work/mine.h5" ] || fail "no mine.h5"
[ "$(cat "$work/mine.h5.d/notes.txt" 2> /dev/null)" = "my notes" ] \
  || fail "the user's file in mine.h5.d was deleted"
[ "$(ls "$work/mine.h5.d")" = "notes.txt" ] || fail "shards left: $(ls "$work/mine.h5.d" | head -3)"
grep -q "kept $work/mine.h5.d: it holds 1 file infersim did not make" "$work/mine.log" \
  || fail "the kept directory was not reported: $(cat "$work/mine.log")"
echo "ok   a user's file in OUT.h5.d survives; only the shards were removed"
"$INFERSIM" run "$work/exp.yaml" -o "$work/clean.h5" -q > /dev/null || fail "run into clean.h5"
[ ! -e "$work/clean.h5.d" ] || fail "an emptied shard directory was left"
# The default output, results/<name>.h5, in a folder without results/ yet.
mkdir "$work/fresh"
(cd "$work/fresh" && "$INFERSIM" run "$work/exp.yaml" -q > /dev/null) || fail "run into a new results/"
[ -f "$work/fresh/results/safe.h5" ] && [ "$(ls "$work/fresh/results")" = "safe.h5" ] \
  || fail "results/safe.h5: $(ls -A "$work/fresh/results")"
echo "ok   the default output makes results/, and leaves only results/safe.h5 there"

# 2. -o at a FIFO or a directory; merge -o at a directory.
mkfifo "$work/fifo.h5"
expect2 fifo "^infersim: -o: .*fifo.h5 is a FIFO; expected a regular file" \
  "$INFERSIM" run "$work/exp.yaml" -o "$work/fifo.h5" -q
[ -p "$work/fifo.h5" ] || fail "the FIFO was replaced"
mkdir "$work/dir.h5"
expect2 directory "^infersim: -o: .*dir.h5 is a directory; expected a regular file" \
  "$INFERSIM" run "$work/exp.yaml" -o "$work/dir.h5" -q
[ -d "$work/dir.h5" ] && [ -z "$(ls "$work/dir.h5")" ] || fail "the directory was changed"
touch "$work/file.h5.d"
expect2 shard_dir_is_a_file "file.h5.d exists and is not a directory" \
  "$INFERSIM" run "$work/exp.yaml" -o "$work/file.h5" -q
expect2 merge_into_directory "^infersim: -o: .*dir.h5 is a directory" \
  "$INFERSIM" merge "$work/mine.h5.d" -o "$work/dir.h5"
[ ! -e "$work/fifo.h5.d" ] && [ ! -e "$work/dir.h5.d" ] || fail "a shard directory was made"

# 3. An output is never a file the command reads, nor a folder named with a trailing '/';
# `compare` checks -o and --report as `run` does; `merge` never writes over a shard, and
# takes only shard names `run` writes (a copy named run-0000002.h5 is not a second run 2).
cp "$work/exp.yaml" "$work/exp_copy.yaml"
expect2 output_is_the_experiment "^infersim: -o: .*exp.yaml is .*exp.yaml, which this command reads" \
  "$INFERSIM" run "$work/exp.yaml" -o "$work/exp.yaml" -q
cmp -s "$work/exp.yaml" "$work/exp_copy.yaml" || fail "the experiment file was changed"
ln -s "$repo/hardware_profiles/v100_clockwork.yaml" "$work/profile_link.yaml"
expect2 output_is_the_profile "^infersim: -o: .*profile_link.yaml is .*v100_clockwork.yaml, which this command reads" \
  "$INFERSIM" run "$work/exp.yaml" -o "$work/profile_link.yaml" -q
[ -L "$work/profile_link.yaml" ] || fail "the link to the profile was replaced"
expect2 output_through_a_folder_to_come "^infersim: -o: .*nodir/../exp.yaml is .*exp.yaml, which this command reads" \
  "$INFERSIM" run "$work/exp.yaml" -o "$work/nodir/../exp.yaml" -q
cmp -s "$work/exp.yaml" "$work/exp_copy.yaml" || fail "the experiment file was changed through nodir/.."
[ ! -e "$work/nodir" ] || fail "nodir was made before the refusal"
expect2 output_is_a_new_folder "^infersim: -o: .*newdir/ names a folder; expected a file name" \
  "$INFERSIM" run "$work/exp.yaml" -o "$work/newdir/" -q
[ ! -e "$work/newdir" ] || fail "newdir/ was made: $(find "$work/newdir")"
cp "$work/clean.h5" "$work/measured.h5"
cp "$work/measured.h5" "$work/measured_copy.h5"
expect2 compare_over_an_input "^infersim: -o: .*measured.h5 is .*measured.h5, which this command reads" \
  "$INFERSIM" compare "$work/clean.h5" "$work/measured.h5" -o "$work/measured.h5"
expect2 compare_report_over_an_input "^infersim: --report: .*clean.h5 is .*clean.h5, which this command reads" \
  "$INFERSIM" compare "$work/clean.h5" "$work/measured.h5" --report "$work/clean.h5"
expect2 compare_into_a_fifo "^infersim: -o: .*fifo.h5 is a FIFO" \
  "$INFERSIM" compare "$work/clean.h5" "$work/measured.h5" -o "$work/fifo.h5"
cmp -s "$work/measured.h5" "$work/measured_copy.h5" || fail "compare changed its input"
[ -p "$work/fifo.h5" ] || fail "compare replaced the FIFO"
"$INFERSIM" compare "$work/clean.h5" "$work/measured.h5" -o "$work/cmp.h5" --report "$work/cmp.md" \
  > /dev/null || fail "compare into new files"
grep -q "^| 0 |" "$work/cmp.md" || fail "the report has no row for run 0: $(head -3 "$work/cmp.md")"
expect2 compare_report_is_the_output "^infersim: --report: .*cmp2.h5 is also the -o file" \
  "$INFERSIM" compare "$work/clean.h5" "$work/measured.h5" -o "$work/cmp2.h5" --report "$work/./cmp2.h5"
(cd "$work" && expect2 compare_report_is_the_output_2 "^infersim: --report: ./cmp2.h5 is also the -o file" \
  "$INFERSIM" compare clean.h5 measured.h5 -o x/../cmp2.h5 --report ./cmp2.h5) || exit 1
[ ! -e "$work/cmp2.h5" ] || fail "compare wrote cmp2.h5 before refusing"
"$INFERSIM" compare "$work/clean.h5" "$work/measured.h5" --report "$work/new/sub/r.md" > /dev/null \
  && [ -s "$work/new/sub/r.md" ] || fail "compare --report into a new folder"
echo "ok   compare wrote its two files, and nothing else: $(ls "$work" | grep -c 'cmp\.') files"
"$INFERSIM" run "$work/exp.yaml" -o "$work/kept.h5" -q --keep-shards > /dev/null || fail "run kept.h5"
expect2 merge_over_a_shard "^infersim: -o: .*run-000001.h5 is .*run-000001.h5, which this command reads" \
  "$INFERSIM" merge "$work/kept.h5.d" -o "$work/kept.h5.d/run-000001.h5"
cp "$work/kept.h5.d/run-000002.h5" "$work/kept.h5.d/run-0000002.h5"
"$INFERSIM" merge "$work/kept.h5.d" -o "$work/remerged.h5" > "$work/merge.log" \
  || fail "merge with a stray copy: $(cat "$work/merge.log")"
grep -q "(12 of 12 runs" "$work/merge.log" || fail "a copy named run-0000002.h5 was merged: $(cat "$work/merge.log")"
echo "ok   merge took the 12 shards and not the copy named run-0000002.h5"

# The lock file OUT.lock is written too: it cannot be the experiment. And profile's -o
# cannot be an architecture file it reads (from a copy of hardware_profiles/, in case).
cp "$work/exp.yaml" "$work/x.lock"
expect2 lock_is_the_experiment "^infersim: -o: .*x.lock \\(the output's lock file\\) is .*x.lock, which this command reads" \
  "$INFERSIM" run "$work/x.lock" -o "$work/x" -q
cmp -s "$work/x.lock" "$work/exp.yaml" || fail "the experiment named x.lock was changed"
mkdir "$work/prof" && cp -r "$repo/hardware_profiles" "$work/prof/"
cp "$work/prof/hardware_profiles/architectures/sgemm_rnn.yaml" "$work/sgemm_rnn.orig"
(cd "$work/prof" && expect2 profile_over_an_architecture "^infersim: -o: .*sgemm_rnn.yaml is .*sgemm_rnn.yaml, which this command reads" \
  "$INFERSIM" profile --backend cpu --models sgemm_rnn --batches 1,2 --repeats 1 --warmup 0 \
  -o hardware_profiles/architectures/sgemm_rnn.yaml) || exit 1
cmp -s "$work/prof/hardware_profiles/architectures/sgemm_rnn.yaml" "$work/sgemm_rnn.orig" ||
  fail "profile replaced the architecture file"

# 4. The name leads the default output (results/<name>.h5, relative to the working folder).
mkdir -p "$work/a/b"
cd "$work/a/b"
exp 'name: "../../x"' > up.yaml
expect2 name_escapes "^infersim: up.yaml:1:7: the experiment name '../../x' cannot name the default output" \
  "$INFERSIM" run up.yaml -q
exp "name: $work/abs" > abs.yaml
expect2 name_absolute "^infersim: abs.yaml:1:7: the experiment name '$work/abs' cannot" \
  "$INFERSIM" run abs.yaml -q
expect2 name_by_set "^infersim: --set name=../y: the experiment name '../y' cannot" \
  "$INFERSIM" run "$work/exp.yaml" -q --set name=../y
leaked=$(find "$work" -name 'x.h5*' -o -name 'abs.h5*' -o -name 'y.h5*')
[ -z "$leaked" ] || fail "written outside results/: $leaked"
[ ! -e results ] || fail "results/ was made for a bad name"

# 5. Another sweep's shards in the shard folder: two experiment files with the same name
# share results/<name>.h5.d. A run of the other file (plain, --resume or --shard) neither
# overwrites nor deletes them: exit 2 before anything runs; the first sweep then finishes.
mkdir "$work/twin"
cd "$work/twin"
exp "name: twin" > first.yaml
exp "name: twin" | sed 's/\[100, 200, 300\]/[400, 500]/' > second.yaml
"$INFERSIM" run first.yaml --shard 0/2 -q > /dev/null || fail "first.yaml --shard 0/2"
before=$(md5sum results/twin.h5.d/*)
[ "$(ls results/twin.h5.d | wc -l)" -eq 6 ] || fail "first.yaml --shard 0/2: $(ls results/twin.h5.d)"
for how in "" --resume "--shard 1/2" "--shard 0/2 --resume"; do
  # shellcheck disable=SC2086
  expect2 "another_sweeps_shards${how:+ ($how)}" \
    "^infersim: results/twin.h5.d holds 6 shards of another sweep \(of $work/twin/first.yaml, .*another -o$" \
    "$INFERSIM" run second.yaml -q $how
done
[ "$(md5sum results/twin.h5.d/*)" = "$before" ] || fail "the other sweep's shards were changed"
[ ! -e results/twin.h5 ] || fail "second.yaml wrote results/twin.h5"
"$INFERSIM" run first.yaml -q --resume > first.log || fail "first.yaml --resume: $(cat first.log)"
grep -q "12 runs: 6 ok, 0 failed, 6 skipped" first.log || fail "first.yaml --resume: $(tail -1 first.log)"
[ -f results/twin.h5 ] && [ ! -e results/twin.h5.d ] || fail "first.yaml's sweep did not finish"
echo "ok   first.yaml's 6 shards survived second.yaml's runs; its --resume ran the other 6"

# 6. Names that end like a temporary file but are not infersim's survive a run; what a
# killed infersim left (temp_path_for of a shard or of OUT.h5, this host, process gone) goes.
dead=$(sh -c 'echo $$')
host=$(hostname | sed 's/[^A-Za-z0-9.-]/_/g')
mkdir "$work/tn.h5.d"
mine="analysis.tmp.20240101 results.csv.tmp.$dead notes.h5.tmp.$dead.$host run-000003.h5.tmp.x"
for f in $mine; do echo mine > "$work/tn.h5.d/$f"; done
echo mine > "$work/other.h5.tmp.$dead.$host"
for f in "tn.h5.d/run-000003.h5.tmp.$dead.$host" "tn.h5.d/run-000004.h5.tmp.$dead" \
  "tn.h5.tmp.$dead.$host"; do
  echo left > "$work/$f"
done
"$INFERSIM" run "$work/exp.yaml" -o "$work/tn.h5" -q > /dev/null || fail "run into tn.h5"
for f in $mine; do
  [ "$(cat "$work/tn.h5.d/$f" 2> /dev/null)" = mine ] || fail "the user's tn.h5.d/$f was deleted"
done
[ -f "$work/other.h5.tmp.$dead.$host" ] || fail "other.h5.tmp.$dead.$host was deleted"
left=$(cd "$work" && ls tn.h5.d/run-*.tmp.[0-9]* tn.h5.tmp.* 2> /dev/null)
[ -z "$left" ] || fail "a killed infersim's temporary files were kept: $left"
echo "ok   a user's *.tmp.<digits> files survive; a killed infersim's temporary files do not"

echo "all output safety checks passed"
