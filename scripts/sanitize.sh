#!/usr/bin/env bash
# Builds tilefuse with AddressSanitizer + UndefinedBehaviorSanitizer (preset
# "sanitize", clang 19, build-sanitize/) and runs every ctest test there.
# Not part of CI: on a 2-core machine the build alone takes about half an
# hour (docs/testing.md, "Timings"). Extra arguments go to ctest, e.g.
#   scripts/sanitize.sh -R 'Cli|lit'
set -euo pipefail
cd "$(dirname "$0")/.."
started=$SECONDS
echo "sanitize: configures build-sanitize/, builds everything instrumented (about half an hour on" \
     "2 cores when cold), then runs ctest there (several minutes)"
scripts/setup.sh
cmake --preset sanitize >/dev/null
cmake --build --preset sanitize
built=$SECONDS
echo "sanitize: built in $((built - started)) s; running ctest"
status=0
ctest --preset sanitize "$@" || status=$?
echo "sanitize: ctest took $((SECONDS - built)) s; total $((SECONDS - started)) s;" \
     "$([[ $status -eq 0 ]] && echo "no finding" || echo "FAILED (exit $status)")"
exit $status
