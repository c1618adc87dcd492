#!/usr/bin/env bash
# The Python package (client/python): installed with pip into a fresh virtual environment that
# sees Debian's grpcio, protobuf and numpy, as its README says, then its tests
# (tests/python/mlpd_package_test.py) run against real mlpd servers they start themselves;
# then the sdist, unpacked away from the repository, installs too.
set -euo pipefail
: "${MLPD_BIN:?MLPD_BIN must name the mlpd binary}"
: "${MLPD_SOURCE_DIR:?MLPD_SOURCE_DIR must name the source tree}"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

/usr/bin/python3 -m venv --system-site-packages "$work/venv"
# --no-index: the install must need nothing from PyPI; the stubs come from proto/ at build time.
PIP_DISABLE_PIP_VERSION_CHECK=1 "$work/venv/bin/pip" install --quiet --no-index --no-cache-dir \
  "$MLPD_SOURCE_DIR/client/python"
# Nothing generated lands in the source tree.
if [ -e "$MLPD_SOURCE_DIR/client/python/mlpd/v1" ]; then
  echo "FAIL: the install wrote client/python/mlpd/v1 into the source tree" >&2
  exit 1
fi
cd "$MLPD_SOURCE_DIR/tests/python"
export MLPD_BIN
"$work/venv/bin/python" -m unittest -v mlpd_package_test

# The sdist carries the .proto files, so it builds away from the repository too.
cd "$work"
"$work/venv/bin/python" -c 'import sys; sys.path.insert(0, sys.argv[1])
import mlpd_build; print(mlpd_build.build_sdist(sys.argv[2]))' \
  "$MLPD_SOURCE_DIR/client/python/build_backend" "$work" >"$work/sdist-name"
mkdir "$work/elsewhere"
tar -xzf "$work/$(cat "$work/sdist-name")" -C "$work/elsewhere"
PIP_DISABLE_PIP_VERSION_CHECK=1 "$work/venv/bin/pip" install --quiet --no-index --no-cache-dir \
  --force-reinstall --no-deps "$work/elsewhere/"mlpd-*
"$work/venv/bin/python" -c 'import mlpd, mlpd.v1.mlpd_pb2 as pb
assert "Predict" in pb.DESCRIPTOR.services_by_name["Mlpd"].methods_by_name
assert "/elsewhere/" not in mlpd.__file__, mlpd.__file__
print("sdist install: mlpd", mlpd.__version__)'
