#!/usr/bin/env bash
# Installs the Debian 12 packages infersim needs to build, test and read its results.
# Idempotent: installs only what is missing. Works as root or through sudo.
set -euo pipefail

PKGS=(
  build-essential cmake pkg-config
  libboost-program-options-dev  # the command line
  libboost-graph-dev            # kernel graphs: layer DAGs and their topological order (sim/kernels)
  libyaml-cpp-dev               # experiment and profile files
  libfmt-dev                    # formatting (GCC 12 has no std::format)
  libhdf5-dev                   # result sets (C API)
  zlib1g-dev                    # trace files, plain or gzip-compressed, read as a stream
  libgtest-dev                  # unit tests
  libopenblas-dev               # validation mode's cpu backend (SGEMM); its static archive
                                # serves the relocatable build (-DINFERSIM_STATIC_DEPS=ON)
  clang-format                  # make test checks the sources' formatting
  # reading result sets in tests and notebooks (pd.read_hdf needs PyTables)
  python3 python3-h5py python3-pandas python3-tables python3-numpy
  # notebooks (make notebooks / make test) and sweeps across ranks (mpirun)
  python3-matplotlib jupyter-nbconvert python3-ipykernel
  libopenmpi-dev openmpi-bin
)

# `make fuzz` only (scripts/install-deps.sh fuzz): clang's libFuzzer and its sanitizer
# runtimes. `make sanitize` needs nothing more: g++ 12 brings libasan8 and libubsan1.
if [ "${1:-}" = fuzz ]; then
  PKGS+=(clang-14 libclang-rt-14-dev)
fi

missing=()
for p in "${PKGS[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "install-deps: need root or sudo to install: ${missing[*]}" >&2; exit 1; }
  SUDO="sudo"
fi
echo "install-deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
