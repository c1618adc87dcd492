"""Python stubs of the mlpd.v1 API generated at run time, for end-to-end tests that speak the
raw API (job_client.py, scale_out.sh) rather than the mlpd package.

Needs Debian's python3-grpcio, python3-protobuf and protobuf-compiler-grpc.

    model_pb2, mlpd_pb2, mlpd_pb2_grpc = load_stubs(folder)  # nothing is kept after `folder`
"""
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def load_stubs(folder):
    """Generates mlpd_pb2 / mlpd_pb2_grpc from the .proto files into `folder` and imports them."""
    proto_dir = os.path.join(ROOT, "proto")
    subprocess.run(
        ["protoc", f"-I{proto_dir}", f"--python_out={folder}", f"--grpc_python_out={folder}",
         "--plugin=protoc-gen-grpc_python=/usr/bin/grpc_python_plugin",
         "mlpd/v1/model.proto", "mlpd/v1/mlpd.proto"],
        check=True, cwd=proto_dir)
    sys.path.insert(0, folder)
    from mlpd.v1 import model_pb2, mlpd_pb2, mlpd_pb2_grpc  # noqa: E402 (generated just now)
    return model_pb2, mlpd_pb2, mlpd_pb2_grpc
