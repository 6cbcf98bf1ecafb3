# The common start of the CLI tests, sourced right after `set -u` (or `set -eu`) with the
# test's own arguments: INFERSIM is the binary named by the first argument, as an absolute
# path; the working directory becomes the repository root; `work` is a scratch folder that
# is removed when the test exits.
INFERSIM=$(realpath "$1")
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
