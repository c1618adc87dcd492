#!/usr/bin/env bash
# Compiles every file of server/ and client/ with clang's -Wthread-safety as errors (syntax
# only, no objects), so the lock annotations (ABSL_GUARDED_BY, ABSL_EXCLUSIVE_LOCKS_REQUIRED)
# are checked by a compiler and not only read. Runs under ctest (code_thread_safety) after
# scripts/build, which makes the generated .pb.h headers and compile_commands.json it needs.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${MLPD_BUILD_DIR:-$root/build}
clang=${CLANGXX:-clang++}
if [ ! -f "$build/compile_commands.json" ]; then
  echo "thread_safety: $build/compile_commands.json is missing; run scripts/build first" >&2
  exit 2
fi
# Each server/ and client/ file with the flags CMake compiles it with, minus -o and -c.
python3 - "$root" "$build/compile_commands.json" >"$build/thread-safety.commands" <<'PY'
import json, shlex, sys
root, path = sys.argv[1], sys.argv[2]
for entry in json.load(open(path)):
    source = entry["file"]
    if not (source.startswith(root + "/server/") or source.startswith(root + "/client/")):
        continue
    words = shlex.split(entry["command"])[1:]
    flags, skip = [], False
    for word in words:
        if skip:
            skip = False
        elif word in ("-o", "-c"):
            skip = True
        else:
            flags.append(word)
    print(shlex.join(flags + [source]))
PY
count=$(wc -l <"$build/thread-safety.commands")
echo "thread_safety: $count files of server/ and client/ with $("$clang" --version | head -1)"
# -Wno-unknown-warning-option: the GCC-only warnings CMake may pass stay harmless under clang.
xargs -P "$(nproc)" -L 1 "$clang" -fsyntax-only -Wthread-safety -Werror=thread-safety \
  -Wno-unknown-warning-option <"$build/thread-safety.commands"
echo "thread_safety: no lock annotation is violated"
