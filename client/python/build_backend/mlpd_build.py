"""The PEP 517 build backend of the mlpd package: stubs from the .proto files, then a wheel.

pip runs it for `pip install client/python`. It needs only the standard library, protoc and
gRPC's Python plugin (Debian: protobuf-compiler, protobuf-compiler-grpc), so pip's isolated
build environment needs nothing from an index. The stubs are generated into the wheel, never
into the source tree: they always match the .proto files of the checkout (or of the sdist,
which carries a copy).

PROTOC and GRPC_PYTHON_PLUGIN override where the two tools are found.
"""
import base64
import glob
import hashlib
import io
import os
import shutil
import subprocess
import tarfile
import tempfile
import tomllib
import zipfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PACKAGE = "mlpd"
# Fixed entry times make two builds of the same sources byte-identical.
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)


def _project():
    with open(os.path.join(ROOT, "pyproject.toml"), "rb") as file:
        return tomllib.load(file)["project"]


def _proto_root():
    """proto/ of the sdist, else the repository's proto/ two levels up."""
    for candidate in (os.path.join(ROOT, "proto"), os.path.join(ROOT, "..", "..", "proto")):
        if glob.glob(os.path.join(candidate, PACKAGE, "v1", "*.proto")):
            return os.path.normpath(candidate)
    raise RuntimeError(f"no {PACKAGE}/v1/*.proto beside {ROOT} (build from the repository's "
                       f"client/python or from an sdist)")


def _tool(variable, name, package):
    path = os.environ.get(variable) or shutil.which(name)
    if not path:
        raise RuntimeError(f"{name} not found: install Debian's {package} (or set {variable})")
    return path


def _generate_stubs(out_dir):
    """Runs protoc on every .proto of the API into out_dir; returns {wheel path: bytes}."""
    proto_root = _proto_root()
    protos = sorted(os.path.relpath(path, proto_root) for path in
                    glob.glob(os.path.join(proto_root, PACKAGE, "v1", "*.proto")))
    protoc = _tool("PROTOC", "protoc", "protobuf-compiler")
    plugin = _tool("GRPC_PYTHON_PLUGIN", "grpc_python_plugin", "protobuf-compiler-grpc")
    subprocess.run([protoc, f"-I{proto_root}", f"--python_out={out_dir}", f"--pyi_out={out_dir}",
                    f"--grpc_python_out={out_dir}", f"--plugin=protoc-gen-grpc_python={plugin}",
                    *protos], check=True)
    files = {f"{PACKAGE}/v1/__init__.py": b'"""Generated from the mlpd.v1 .proto files."""\n'}
    for path in sorted(glob.glob(os.path.join(out_dir, PACKAGE, "v1", "*.py*"))):
        with open(path, "rb") as file:
            files[f"{PACKAGE}/v1/{os.path.basename(path)}"] = file.read()
    return files


def _sources():
    """{wheel path: bytes} of the hand-written modules."""
    files = {}
    for path in sorted(glob.glob(os.path.join(ROOT, PACKAGE, "*.py"))):
        with open(path, "rb") as file:
            files[f"{PACKAGE}/{os.path.basename(path)}"] = file.read()
    return files


def _dist_info_name(project):
    return f"{project['name']}-{project['version']}.dist-info"


def _metadata(project):
    lines = ["Metadata-Version: 2.1", f"Name: {project['name']}",
             f"Version: {project['version']}", f"Summary: {project['description']}",
             f"Requires-Python: {project['requires-python']}"]
    lines += [f"Requires-Dist: {requirement}" for requirement in project["dependencies"]]
    lines.append("Description-Content-Type: text/markdown")
    with open(os.path.join(ROOT, project["readme"]), encoding="utf-8") as file:
        readme = file.read()
    return ("\n".join(lines) + "\n\n" + readme).encode()


_WHEEL = b"Wheel-Version: 1.0\nGenerator: mlpd_build\nRoot-Is-Purelib: true\nTag: py3-none-any\n"


def _dist_info(project):
    info = _dist_info_name(project)
    return {f"{info}/METADATA": _metadata(project), f"{info}/WHEEL": _WHEEL}


def _record_line(path, data):
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{path},sha256={digest},{len(data)}"


def get_requires_for_build_wheel(config_settings=None):
    return []


def get_requires_for_build_sdist(config_settings=None):
    return []


def prepare_metadata_for_build_wheel(metadata_directory, config_settings=None):
    project = _project()
    for path, data in _dist_info(project).items():
        target = os.path.join(metadata_directory, path)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        with open(target, "wb") as file:
            file.write(data)
    return _dist_info_name(project)


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    project = _project()
    with tempfile.TemporaryDirectory() as generated:
        files = {**_sources(), **_generate_stubs(generated), **_dist_info(project)}
    record = f"{_dist_info_name(project)}/RECORD"
    lines = [_record_line(path, data) for path, data in files.items()] + [f"{record},,"]
    files[record] = ("\n".join(lines) + "\n").encode()
    name = f"{project['name']}-{project['version']}-py3-none-any.whl"
    with zipfile.ZipFile(os.path.join(wheel_directory, name), "w", zipfile.ZIP_DEFLATED) as wheel:
        for path, data in files.items():
            entry = zipfile.ZipInfo(path, _ZIP_TIME)
            entry.external_attr = 0o644 << 16
            entry.compress_type = zipfile.ZIP_DEFLATED
            wheel.writestr(entry, data)
    return name


def build_sdist(sdist_directory, config_settings=None):
    """The package's sources with a copy of the .proto files, buildable anywhere."""
    project = _project()
    base = f"{project['name']}-{project['version']}"
    proto_root = _proto_root()
    members = {f"{base}/{name}": os.path.join(ROOT, name)
               for name in ("pyproject.toml", project["readme"], "build_backend/mlpd_build.py")}
    members.update({f"{base}/{path}": os.path.join(ROOT, path) for path in _sources()})
    for path in glob.glob(os.path.join(proto_root, PACKAGE, "v1", "*.proto")):
        members[f"{base}/proto/{os.path.relpath(path, proto_root)}"] = path
    name = f"{base}.tar.gz"
    with tarfile.open(os.path.join(sdist_directory, name), "w:gz") as sdist:
        for archive_path, source in sorted(members.items()):
            with open(source, "rb") as file:
                data = file.read()
            entry = tarfile.TarInfo(archive_path)
            entry.size = len(data)
            entry.mode = 0o644
            sdist.addfile(entry, io.BytesIO(data))
        info = tarfile.TarInfo(f"{base}/PKG-INFO")
        metadata = _metadata(project)
        info.size = len(metadata)
        info.mode = 0o644
        sdist.addfile(info, io.BytesIO(metadata))
    return name
