"""Predict of a [rows, cols] float32 batch from Python (the mlpd package) vs the C++ client.

Starts a real mlpd on a free loopback port, creates one session, then times single calls of
each route in interleaved blocks against the same server and session:
  cpp        the C++ client library's PredictRows (mlpd-client-predict-timing, driven by blocks
             over its stdin)
  package    mlpd.Client.predict: the array's bytes framed by hand, outputs read by numpy
  parsed     the generated stub with x parsed from hand-framed bytes (Tensor.FromString),
             outputs copied out of the protobuf container
  lists      the generated stub with x passed as a Python list (what the package avoids)
Blocks alternate every few calls, so the load of this shared machine, which drifts within
seconds, weighs on every route alike. Prints each route's median call and its ratio to cpp's
(target for the package: <= 1.3). Run with the Python that has the package installed:

  VENV/bin/python bench/python_client_predict.py [--rows 1000] [--cols 784] [--hidden 0]
      [--blocks 30] [--calls 20] [--mlpd build/server/mlpd]
      [--timer build/bench/mlpd-client-predict-timing] [--json]
"""
import argparse
import json
import os
import re
import statistics
import subprocess
import tempfile
import time

import numpy as np

import mlpd
from mlpd import wire_arrays
from mlpd.v1 import mlpd_pb2, mlpd_pb2_grpc

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def start_server(binary, folder):
    """A real mlpd keeping nothing on disk; returns (process, "127.0.0.1:port")."""
    # No HTTP port: the default 127.0.0.1:9464 may be taken by another mlpd on this machine.
    process = subprocess.Popen([os.path.abspath(binary), "--listen", "127.0.0.1:0",
                                "--data-dir", "", "--http-listen", ""],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                               cwd=folder)
    for line in process.stderr:
        found = re.search(r"serving on \S+ \(port (\d+)\)", line)
        if found:
            return process, f"127.0.0.1:{found.group(1)}"
    raise RuntimeError(f"mlpd exited {process.wait()} before serving")


def timed(call, count):
    """Seconds of each of `count` calls."""
    times = []
    for _ in range(count):
        before = time.perf_counter()
        call()
        times.append(time.perf_counter() - before)
    return times


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1000)
    parser.add_argument("--cols", type=int, default=784)
    parser.add_argument("--hidden", type=int, default=0, help="units of a relu hidden layer")
    parser.add_argument("--blocks", type=int, default=30, help="rounds of blocks")
    parser.add_argument("--calls", type=int, default=20,
                        help="calls per block of cpp and package (parsed: a tenth, lists: 1)")
    parser.add_argument("--mlpd", default=os.path.join(ROOT, "build", "server", "mlpd"))
    parser.add_argument("--timer", default=os.path.join(ROOT, "build", "bench",
                                                        "mlpd-client-predict-timing"))
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as folder:
        server, address = start_server(args.mlpd, folder)
        try:
            medians = time_routes(args, address)
        finally:
            server.terminate()
            server.wait()
    for name, median in medians.items():
        ratio = median / medians["cpp"]
        if args.json:
            print(json.dumps({"benchmark": "python_client_predict", "row": name,
                              "rows": args.rows, "cols": args.cols, "hidden": args.hidden,
                              "median_ms": round(median * 1e3, 3), "vs_cpp": round(ratio, 3)}))
        else:
            target = "  (target <= 1.3)" if name == "package" else ""
            print(f"{name:8s} median {median * 1e3:8.2f} ms  vs cpp {ratio:6.2f}{target}")


def time_routes(args, address):
    """{route: median seconds of its calls}, the routes' blocks interleaved."""
    layers = ([(args.hidden, "relu")] if args.hidden else []) + [(10, "identity")]
    client = mlpd.Client(address)
    client.create_session("bench", input_size=args.cols, layers=layers, loss="cross_entropy",
                          optimizer="sgd", learning_rate=0.1, seed=1)
    x = np.random.default_rng(1).normal(size=(args.rows, args.cols)).astype(np.float32)
    stub = mlpd_pb2_grpc.MlpdStub(client._channel)

    def parsed():
        tensor = mlpd_pb2.Tensor.FromString(b"".join(wire_arrays.tensor(x, "x")))
        response = stub.Predict(mlpd_pb2.PredictRequest(name="bench", x=tensor))
        return np.array(response.outputs.data, dtype=np.float32)

    def lists():
        request = mlpd_pb2.PredictRequest(name="bench")
        request.x.shape.extend(x.shape)
        request.x.data.extend(x.ravel().tolist())
        return np.array(stub.Predict(request).outputs.data, dtype=np.float32)

    # The three Python routes compute the same outputs.
    expected = client.predict("bench", x)
    for route in (parsed, lists):
        np.testing.assert_array_equal(route().reshape(expected.shape), expected)

    timer = subprocess.Popen([args.timer, address, "bench", str(args.rows), str(args.cols)],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)

    def cpp(count):
        timer.stdin.write(f"{count}\n")
        timer.stdin.flush()
        line = timer.stdout.readline()
        if not line:
            raise RuntimeError(f"the C++ timer exited {timer.wait()}")
        return [float(value) for value in line.split()]

    routes = {"cpp": cpp,
              "package": lambda count: timed(lambda: client.predict("bench", x), count),
              "parsed": lambda count: timed(parsed, count),
              "lists": lambda count: timed(lists, count)}
    counts = {"cpp": args.calls, "package": args.calls, "parsed": max(1, args.calls // 10),
              "lists": 1}
    times = {name: [] for name in routes}
    try:
        for block in range(args.blocks + 1):
            for name, route in routes.items():
                block_times = route(counts[name])
                if block:  # The first block warms every route up.
                    times[name] += block_times
    finally:
        timer.stdin.close()
        timer.wait()
        client.close()
    return {name: statistics.median(values) for name, values in times.items()}


if __name__ == "__main__":
    main()
