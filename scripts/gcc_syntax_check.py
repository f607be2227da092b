#!/usr/bin/env python3
"""Checks that GCC accepts every host source of the library and the tool.

The project builds with clang-19 (the fuzzers need it), but Debian's default
compiler is GCC 12, and a user who builds with it must not meet errors that
clang lets through. Compiling everything twice would double CI's build time;
`g++ -fsyntax-only` with each file's own flags (include paths, defines, -std)
from the clang build's compile_commands.json finds the same front-end errors
for a fraction of the cost.

Usage: scripts/gcc_syntax_check.py [BUILD_DIR] [--jobs N] [--cxx g++]
  BUILD_DIR defaults to build/; it must have been built (the MLIR dialect's
  generated headers live there). Checks the sources under dsl/, compiler/,
  runtime/ and tools/. Exit status: 0 when GCC accepts all of them, 1 when it
  rejects any (each file's errors are printed), 2 when it cannot run.
"""
import argparse
import concurrent.futures
import json
import os
import shlex
import shutil
import subprocess
import sys
import time

CHECKED_DIRS = ("dsl", "compiler", "runtime", "tools")
# Flags of the clang build that GCC does not know and that do not change what
# the front end accepts (the sanitize preset's debug-info level).
CLANG_ONLY_FLAGS = {"-gline-tables-only"}


def gcc_command(entry, cxx):
    """The entry's clang command with the compiler swapped and no output."""
    args = entry["arguments"] if "arguments" in entry else shlex.split(entry["command"])
    out = [cxx]
    skip_next = False
    for arg in args[1:]:
        if skip_next:
            skip_next = False
            continue
        if arg == "-o":
            skip_next = True
            continue
        if arg == "-c" or arg in CLANG_ONLY_FLAGS:
            continue
        out.append(arg)
    out.insert(1, "-fsyntax-only")
    return out


def check(entry, cxx):
    started = time.monotonic()
    result = subprocess.run(gcc_command(entry, cxx), cwd=entry["directory"],
                            capture_output=True, text=True)
    return entry["file"], result.returncode, result.stderr, time.monotonic() - started


def main():
    repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("build_dir", nargs="?", default=os.path.join(repo, "build"))
    parser.add_argument("--jobs", "-j", type=int, default=2)
    parser.add_argument("--cxx", default="g++")
    opts = parser.parse_args()

    database = os.path.join(opts.build_dir, "compile_commands.json")
    if not os.path.isfile(database):
        print(f"gcc_syntax_check: no {database}; configure and build first "
              "(CMAKE_EXPORT_COMPILE_COMMANDS is on in CMakeLists.txt)", file=sys.stderr)
        return 2
    if shutil.which(opts.cxx) is None:
        print(f"gcc_syntax_check: '{opts.cxx}' not found; install g++ (scripts/setup.sh does)",
              file=sys.stderr)
        return 2

    with open(database) as f:
        entries = json.load(f)
    prefixes = tuple(os.path.join(repo, d) + os.sep for d in CHECKED_DIRS)
    seen = set()
    checked = []
    for entry in entries:
        path = os.path.normpath(os.path.join(entry["directory"], entry["file"]))
        # One check per file (a source compiled into two targets appears twice).
        if path.startswith(prefixes) and path not in seen:
            seen.add(path)
            checked.append(entry)
    if not checked:
        print(f"gcc_syntax_check: {database} lists no source under {', '.join(CHECKED_DIRS)}",
              file=sys.stderr)
        return 2

    version = subprocess.run([opts.cxx, "-dumpfullversion"], capture_output=True, text=True)
    print(f"gcc_syntax_check: {opts.cxx} {version.stdout.strip()} -fsyntax-only on "
          f"{len(checked)} sources, {opts.jobs} at a time", flush=True)
    started = time.monotonic()
    failed = []
    with concurrent.futures.ThreadPoolExecutor(max_workers=opts.jobs) as pool:
        for path, status, errors, seconds in pool.map(lambda e: check(e, opts.cxx), checked):
            name = os.path.relpath(path, repo)
            if status != 0:
                failed.append(name)
                print(f"FAIL {name} ({seconds:.1f} s)\n{errors}", flush=True)
            else:
                print(f"ok   {name} ({seconds:.1f} s)", flush=True)
    total = time.monotonic() - started
    if failed:
        print(f"gcc_syntax_check: GCC rejects {len(failed)} of {len(checked)} sources "
              f"({total:.0f} s): {', '.join(failed)}")
        return 1
    print(f"gcc_syntax_check: GCC accepts all {len(checked)} sources ({total:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
