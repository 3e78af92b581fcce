#!/usr/bin/env bash
# Fails when a banned C library call is back in the tree (tracked .c/.h files):
# unbounded copies (strcpy, strcat, sprintf, vsprintf, gets), conversions that
# cannot report an error or overflow (atoi, atol, atoll, atof) and strtok's
# hidden global state. Use snprintf / util/buf, strtol-family with checks, and
# strtok_r. Usage: tests/checks/banned_calls.sh [ROOT]
set -euo pipefail
cd "${1:-$(dirname "$0")/../..}"
pattern='\b(strcpy|strcat|sprintf|vsprintf|gets|atoi|atol|atoll|atof|strtok)[[:space:]]*\('
hits=$(git ls-files '*.c' '*.h' | xargs -r grep -nE "$pattern" | grep -vE '^[^:]+:[0-9]+:[[:space:]]*(\*|//)' || true)
if [ -n "$hits" ]; then
  echo "banned calls (see tests/checks/banned_calls.sh for what to use instead):" >&2
  echo "$hits" >&2
  exit 1
fi
echo "banned calls: none"
