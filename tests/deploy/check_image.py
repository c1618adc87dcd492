#!/usr/bin/env python3
"""Checks what can be checked of the image without a Docker engine.

1. The Dockerfile has the required parts: a multi-stage build on debian:bookworm-slim whose
   build stage runs the CI scripts (scripts/install-deps, scripts/build); a runtime stage that
   installs only the compiler's packages (`install-deps --build`, before any ARG; the test
   packages only with MLPD_RUN_TESTS=1); a runtime stage that installs `scripts/install-deps
   --runtime`, copies only mlpd and mlpctl from the build stage, runs as a numeric non-root
   uid:gid that exists, keeps /data as a volume, exposes the --listen port and has a
   HEALTHCHECK running mlpd-health (which dials mlpd's own --listen port); and a drain shorter
   than `docker stop`'s 10 s.
2. The runtime package list (scripts/install-deps runtime_packages) names packages that exist
   and, with their dependencies, provides every shared library `ldd` reports for the built
   binaries (each library mapped to its package with `dpkg -S`).

Usage: check_image.py --root REPO BINARY...   (exit 0: all good; 1: each problem on a line)
"""

import argparse
import os
import re
import shlex
import subprocess
import sys

DOCKER_STOP_DEFAULT_SECONDS = 10


def run(command):
    return subprocess.run(command, capture_output=True, text=True, check=False)


def dockerfile_stages(text):
    """Instructions per stage: [(from_line, [(INSTRUCTION, arguments), ...]), ...]."""
    logical = re.sub(r"\\\n", " ", text)
    stages = []
    for line in logical.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        instruction, _, arguments = line.partition(" ")
        instruction = instruction.upper()
        if instruction == "FROM":
            stages.append((arguments.strip(), []))
        elif stages:
            stages[-1][1].append((instruction, arguments.strip()))
    return stages


def exec_form(arguments):
    """The argv of an exec-form (JSON array) instruction, or of a shell form split by words."""
    arguments = arguments.strip()
    if arguments.startswith("["):
        import json
        return json.loads(arguments)
    return shlex.split(arguments)


def flag(argv, name):
    """The last value of --name (underscore spelling; mlpd also takes hyphens)."""
    value = None
    for i, arg in enumerate(argv):
        match = re.match(r"--([A-Za-z0-9_-]+)(=(.*))?$", arg)
        if not match or match.group(1).replace("-", "_") != name:
            continue
        value = match.group(3) if match.group(2) else (argv[i + 1] if i + 1 < len(argv) else None)
    return value


def check_dockerfile(root, problems):
    path = os.path.join(root, "Dockerfile")
    stages = dockerfile_stages(open(path, encoding="utf-8").read())
    if len(stages) < 2:
        problems.append(f"Dockerfile: {len(stages)} stage(s); expected a build and a runtime stage")
        return
    for base, _ in stages:
        if not base.split()[0].startswith("debian:bookworm-slim"):
            problems.append(f"Dockerfile: stage FROM {base}; expected debian:bookworm-slim")
    build_base, build = stages[0]
    runtime_base, runtime = stages[-1]
    build_name = build_base.split()[-1] if " as " in build_base.lower() else None
    if build_name is None:
        problems.append("Dockerfile: the first stage is not named (FROM ... AS build)")

    build_runs = " ".join(a for i, a in build if i == "RUN")
    for script in ("scripts/install-deps", "scripts/build"):
        if script not in build_runs:
            problems.append(f"Dockerfile: the build stage does not RUN {script} (as CI does)")
    check_dependency_layer(build, problems)

    runtime_runs = " ".join(a for i, a in runtime if i == "RUN")
    if not re.search(r"install-deps\s+--runtime", runtime_runs):
        problems.append("Dockerfile: the runtime stage does not run install-deps --runtime")
    copied = []
    for instruction, arguments in runtime:
        if instruction == "COPY" and "--from=" in arguments:
            words = [w for w in arguments.split() if not w.startswith("--")]
            copied += [os.path.basename(w) for w in words[:-1]]
            if build_name and f"--from={build_name}" not in arguments:
                problems.append(f"Dockerfile: COPY {arguments} is not from the build stage")
    if sorted(copied) != ["mlpctl", "mlpd"]:
        problems.append(f"Dockerfile: the runtime stage copies {copied} from the build stage; "
                        "expected exactly mlpd and mlpctl")

    users = [a for i, a in runtime if i == "USER"]
    if not users or users[-1].split(":")[0] in ("root", "0"):
        problems.append(f"Dockerfile: the runtime stage runs as {users[-1] if users else 'root'}")
    elif not re.fullmatch(r"(\d+):\1", users[-1]):
        problems.append(f"Dockerfile: USER {users[-1]}; expected a numeric uid:gid, both the same "
                        "(Kubernetes runAsNonRoot, runAsUser and runAsGroup match it)")
    elif not all(re.search(rf"useradd\b[^&;]*--{kind} {users[-1].split(':')[0]}\b",
                           runtime_runs) for kind in ("uid", "gid")):
        problems.append(f"Dockerfile: no user is created with uid and gid "
                        f"{users[-1].split(':')[0]} (useradd --uid N --gid N)")
    volumes = " ".join(a for i, a in runtime if i == "VOLUME")
    if "/data" not in volumes:
        problems.append("Dockerfile: /data is not a VOLUME")

    entrypoints = [exec_form(a) for i, a in runtime if i == "ENTRYPOINT"]
    if not entrypoints or os.path.basename(entrypoints[-1][0]) != "mlpd":
        problems.append("Dockerfile: ENTRYPOINT does not start mlpd")
        return
    entrypoint = entrypoints[-1]
    listen = flag(entrypoint, "listen") or ""
    if not listen.startswith("0.0.0.0:"):
        problems.append(f"Dockerfile: --listen={listen}; the container must listen on 0.0.0.0")
    if flag(entrypoint, "data_dir") != "/data":
        problems.append(f"Dockerfile: --data-dir={flag(entrypoint, 'data_dir')}; expected /data")
    port = listen.rpartition(":")[2]
    exposed = " ".join(a for i, a in runtime if i == "EXPOSE").split()
    if port not in [e.split("/")[0] for e in exposed]:
        problems.append(f"Dockerfile: EXPOSE {exposed} misses the --listen port {port}")
    drain = flag(entrypoint, "drain_seconds")
    if drain is None or float(drain) >= DOCKER_STOP_DEFAULT_SECONDS:
        problems.append(f"Dockerfile: --drain-seconds={drain}; it must be under docker stop's "
                        f"{DOCKER_STOP_DEFAULT_SECONDS} s so the final snapshots fit")
    # The check must dial the port of mlpd's own --listen flag, which `docker run` arguments
    # can change: deploy/image/mlpd-health reads it from mlpd's command line.
    healthchecks = [a for i, a in runtime if i == "HEALTHCHECK"]
    if not healthchecks or not re.search(r"CMD\W+mlpd-health\b", healthchecks[-1]):
        problems.append(f"Dockerfile: HEALTHCHECK {healthchecks} does not run mlpd-health")
    elif re.search(r"\d+\.\d+\.\d+\.\d+:\d+|--server", healthchecks[-1]):
        problems.append(f"Dockerfile: HEALTHCHECK hard-codes an address: {healthchecks[-1]}")
    copies = " ".join(a for i, a in runtime if i == "COPY")
    if "deploy/image/mlpd-health" not in copies:
        problems.append("Dockerfile: the runtime stage does not COPY deploy/image/mlpd-health")

    ignore_path = os.path.join(root, ".dockerignore")
    ignored = []
    if os.path.exists(ignore_path):
        ignored = [line.strip() for line in open(ignore_path)
                   if line.strip() and not line.startswith("#")]
    for needed in (".git", "build-*", "data"):
        if needed not in ignored:
            problems.append(f".dockerignore does not exclude {needed}")


def check_dependency_layer(build, problems):
    """The build stage installs only the compiler's packages unconditionally, before any ARG
    (an ARG above it makes every change of its value reinstall all packages); the test
    packages come only when MLPD_RUN_TESTS=1."""
    installs = [n for n, (i, a) in enumerate(build) if i == "RUN" and "install-deps" in a]
    if not installs:
        return
    first = installs[0]
    arguments = [a.split("=")[0] for i, a in build[:first] if i == "ARG"]
    if arguments:
        problems.append(f"Dockerfile: ARG {' '.join(arguments)} precedes the dependency layer, "
                        "so changing it reinstalls every package")
    for n in installs:
        text = build[n][1]
        if n == first and not re.search(r"install-deps\s+--build\b", text):
            problems.append(f"Dockerfile: the dependency layer `RUN {text}` is not "
                            "`install-deps --build`: it installs test-only packages")
        elif n != first and not re.search(r"if \[ \"?\$MLPD_RUN_TESTS\"? = \"?1\"? \]", text):
            problems.append(f"Dockerfile: `RUN {text}` installs test-only packages even when "
                            "MLPD_RUN_TESTS is not 1")


def runtime_packages(root, problems):
    path = os.path.join(root, "scripts", "install-deps")
    match = re.search(r"^runtime_packages=\(([^)]*)\)", open(path).read(), re.MULTILINE)
    if not match:
        problems.append("scripts/install-deps: no runtime_packages=(...) line")
        return []
    return match.group(1).split()


def installed_packages():
    """Installed package -> the names it depends on (Depends and Pre-Depends, every
    alternative), read in one dpkg-query call."""
    listing = run(["dpkg-query", "-W", "-f=${Package}\t${Status}\t${Depends}, ${Pre-Depends}\n"])
    packages = {}
    for line in listing.stdout.splitlines():
        name, status, depends = (line.split("\t") + ["", ""])[:3]
        if not status.endswith(" installed"):
            continue
        names = set()
        for clause in depends.split(","):
            for alternative in clause.split("|"):
                dependency = re.sub(r"\(.*?\)|\[.*?\]", "", alternative).strip().split(":")[0]
                if dependency:
                    names.add(dependency)
        packages[name] = names
    return packages


def package_exists(package, installed):
    if package in installed:
        return True
    shown = run(["apt-cache", "show", "--no-all-versions", package])
    return shown.returncode == 0 and "Package:" in shown.stdout


def closure(roots, installed):
    """Package -> the root it was reached from, following installed Depends/Pre-Depends."""
    reached = {root: root for root in roots}
    stack = list(roots)
    while stack:
        current = stack.pop()
        for dependency in installed.get(current, ()):
            if dependency not in reached:
                reached[dependency] = reached[current]
                stack.append(dependency)
    return reached


def path_spellings(library):
    """The library's path, its real path, and their merged-/usr twins (dpkg knows one)."""
    spellings = [library, os.path.realpath(library)]
    for path in list(spellings):
        if path.startswith("/usr/lib/"):
            spellings.append(path[len("/usr"):])
        elif path.startswith("/lib/"):
            spellings.append("/usr" + path)
    return spellings


def owning_packages(libraries):
    """Library -> its package, with one `dpkg -S` call for all of them."""
    spellings = {library: path_spellings(library) for library in libraries}
    every_path = sorted({p for paths in spellings.values() for p in paths})
    owner_of_path = {}
    for line in run(["dpkg", "-S"] + every_path).stdout.splitlines():
        packages, _, path = line.partition(": ")
        owner_of_path[path.strip()] = packages.split(",")[0].split(":")[0].strip()
    owners = {}
    for library, paths in spellings.items():
        owners[library] = next((owner_of_path[p] for p in paths if p in owner_of_path), None)
    return owners


def check_libraries(root, binaries, problems):
    packages = runtime_packages(root, problems)
    installed = installed_packages()
    for package in packages:
        if not package_exists(package, installed):
            problems.append(f"runtime package {package} exists neither installed nor in apt")
    provided = closure(packages, installed)
    libraries = {}
    for binary in binaries:
        result = run(["ldd", binary])
        if result.returncode != 0:
            problems.append(f"ldd {binary} failed: {result.stderr.strip()}")
            continue
        for line in result.stdout.splitlines():
            line = line.strip()
            if "not found" in line:
                problems.append(f"{binary}: {line}")
            match = re.match(r"(\S+) => (/\S+)", line) or re.match(r"(/\S+) \(", line)
            if match:
                libraries[match.group(match.lastindex)] = os.path.basename(binary)
    print(f"{len(libraries)} shared libraries, runtime packages: {' '.join(packages)}")
    owners = owning_packages(libraries)
    for library in sorted(libraries):
        package = owners[library]
        if package is None:
            problems.append(f"{library} (loaded by {libraries[library]}) belongs to no package")
        elif package not in provided:
            problems.append(f"{library} comes from {package}, which runtime_packages neither "
                            "lists nor pulls in")
        else:
            how = "listed" if provided[package] == package else f"via {provided[package]}"
            print(f"  {os.path.basename(library):36} {package:28} {how}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--root", required=True)
    parser.add_argument("--dockerfile-only", action="store_true",
                        help="skip the shared-library coverage check")
    parser.add_argument("binaries", nargs="*")
    arguments = parser.parse_args()
    problems = []
    check_dockerfile(arguments.root, problems)
    if not arguments.dockerfile_only:
        check_libraries(arguments.root, arguments.binaries, problems)
    for problem in problems:
        print(f"FAIL {problem}")
    print(f"check_image: {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
