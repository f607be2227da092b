#!/usr/bin/env bash
# The test command: installs what is missing, builds, runs every test
# (GoogleTest suites, lit/FileCheck, the bounded fuzz run, examples).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh
ctest --preset default
