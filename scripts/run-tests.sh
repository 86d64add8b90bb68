#!/usr/bin/env bash
# Run the test suite one group at a time, each in a pytest process of its own, as each service runs in a
# process of its own: native engines that one service's tests load in-process (CTranslate2, OpenMP, torch,
# Tesseract) must not share a process with another service's. All groups run; the exit code is non-zero
# if any failed. With arguments, runs pytest once with them (e.g. scripts/run-tests.sh tests/ocr -x).
set -u
python=${PYTHON:-.venv/bin/python}
if [ $# -gt 0 ]; then exec "$python" -m pytest "$@"; fi
groups=()
top=$(ls tests/test_*.py 2>/dev/null | tr '\n' ' ')
[ -n "$top" ] && groups+=("$top")
for dir in tests/*/; do
  if compgen -G "${dir}test_*.py" >/dev/null || compgen -G "${dir}*/test_*.py" >/dev/null; then
    groups+=("${dir%/}")
  fi
done
failed=()
for group in "${groups[@]}"; do
  echo "=== pytest $group"
  # shellcheck disable=SC2086 # a group may name several files
  "$python" -m pytest $group || failed+=("$group")
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "failed groups: ${failed[*]}"
  exit 1
fi
