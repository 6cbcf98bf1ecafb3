"""Checks that #include dependencies between folders point down only (DESIGN.md, "Layout").

Each folder may include itself and the folders listed for it; anything else, and so any
cycle, fails with the offending line. usage: check_layers.py [REPO_ROOT]
"""
import pathlib
import re
import sys

# folder -> folders it may include (besides itself). Lower layers come first.
ALLOWED = {
    "sim/stats": set(),
    "sim/core": {"sim/stats"},
    "sim/metrics": {"sim/core", "sim/stats"},
    "sim/results": set(),
    "sim/gpu": {"sim/core", "sim/stats"},
    "sim/kernels": {"sim/gpu", "sim/core", "sim/stats"},
    "sim/config": {"sim/kernels", "sim/gpu", "sim/core", "sim/stats"},
    "sim/sweep": {"sim/config", "sim/kernels", "sim/gpu", "sim/metrics", "sim/results",
                  "sim/core", "sim/stats"},
    "policies": {"sim/kernels", "sim/gpu", "sim/core", "sim/stats"},
    "policies/routers": {"sim/core", "sim/stats"},
    "workloads": {"sim/core", "sim/stats"},
    "validation": {"sim/kernels", "sim/gpu", "sim/core", "sim/stats", "policies"},
}
ALLOWED["sim/cli"] = set(ALLOWED) - {"sim/cli"}

INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"')


def folder_of(path):
    parts = pathlib.PurePosixPath(path).parts
    two = "/".join(parts[:2])
    return two if two in ALLOWED else parts[0]


def main():
    root = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else ".")
    bad = []
    for folder in ALLOWED:
        for f in sorted((root / folder).glob("*")):
            if f.suffix not in (".h", ".cc", ".cu", ".in"):
                continue
            for n, line in enumerate(f.read_text().splitlines(), 1):
                m = INCLUDE.match(line)
                if not m or "/" not in m.group(1):
                    continue
                target = folder_of(m.group(1))
                if target != folder and target not in ALLOWED[folder]:
                    bad.append(f"{f.relative_to(root)}:{n}: {folder} must not include "
                               f"{m.group(1)} ({target} is not below it)")
    for b in bad:
        print(b)
    print(f"layering: {len(bad)} upward include(s)")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
