#!/usr/bin/env python3
"""Checks the size rules of the code: no file in core/, server/ or client/ over 450 lines and no
function over 80 lines, so each unit stays small enough to read in one sitting.

Functions are found by the layout clang-format gives them (Google style, namespaces not
indented): a definition at namespace scope starts at column 0 and its body closes with a line
that is exactly "}". Functions defined inside a class body (indented) are not measured; lambdas
count towards the function that holds them. Exits 1 naming every file or function over its
limit.
"""
import pathlib
import sys

MAX_FILE_LINES = 450
MAX_FUNCTION_LINES = 80
FOLDERS = ("core", "server", "client")
SUFFIXES = (".h", ".cc", ".py")


def long_functions(lines):
    """Yields (first line number, length, signature) of each function over the limit."""
    start = None
    for number, line in enumerate(lines, 1):
        if line == "}":
            if start is not None and number - start + 1 > MAX_FUNCTION_LINES:
                yield start, number - start + 1, lines[start - 1].strip()
            start = None
        elif line[:1] not in ("", " ", "\t", "#", "/", "}") and not line.startswith("namespace"):
            # A line at column 0 starts a declaration; the last one before "}" is the signature.
            start = number


def main(root):
    problems = []
    for folder in FOLDERS:
        for path in sorted((root / folder).rglob("*")):
            if path.suffix not in SUFFIXES or not path.is_file():
                continue
            lines = path.read_text(encoding="utf-8").split("\n")
            if lines and lines[-1] == "":
                lines.pop()
            name = path.relative_to(root)
            if len(lines) > MAX_FILE_LINES:
                problems.append(f"{name}: {len(lines)} lines, over {MAX_FILE_LINES}")
            if path.suffix == ".py":
                continue
            for first, length, signature in long_functions(lines):
                problems.append(f"{name}:{first}: {signature} is {length} lines, over "
                                f"{MAX_FUNCTION_LINES}")
    for problem in problems:
        print(problem)
    if problems:
        return 1
    print(f"every file of {', '.join(FOLDERS)} is at most {MAX_FILE_LINES} lines and every "
          f"function at most {MAX_FUNCTION_LINES}")
    return 0


if __name__ == "__main__":
    sys.exit(main(pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else ".").resolve()))
