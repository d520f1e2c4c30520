#!/usr/bin/env bash
# Formats every .cpp/.hpp under include/, dev_api/, src/ and tests/ in place with clang-format, as
# .clang-format says.
# With --check, changes nothing: lists the files that are not formatted and exits 1 if there are any.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

mode=fix
case "${1:-}" in
  --check) mode=check ;;
  "") ;;
  *) echo "usage: scripts/format.sh [--check]" >&2; exit 2 ;;
esac

mapfile -t files < <(find include dev_api src tests -type f \( -name '*.cpp' -o -name '*.hpp' \) | sort)
if [ "$mode" = fix ]; then
  clang-format -i "${files[@]}"
  echo "formatted ${#files[@]} files"
  exit 0
fi

# Lists the files that clang-format would change, a few files per process on every core.
check='for f; do clang-format --dry-run --Werror "$f" >/dev/null 2>&1 || echo "$f"; done'
mapfile -t unformatted < <(printf '%s\0' "${files[@]}" | xargs -0 -n 8 -P "$(nproc)" sh -c "$check" sh | sort)
if [ ${#unformatted[@]} -ne 0 ]; then
  echo "${#unformatted[@]} of ${#files[@]} files are not formatted (fix with scripts/format.sh):"
  printf '  %s\n' "${unformatted[@]}"
  exit 1
fi
echo "all ${#files[@]} files are formatted"
