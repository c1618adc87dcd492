"""Predict of a [rows, cols] float32 batch from Python (the mlpd package) vs the C++ client.

Starts a real mlpd on a free loopback port, creates one session, then times in alternating
rounds, each against the same server and session:
  cpp        the C++ client library's PredictRows (mlpd-client-predict-timing)
  package    mlpd.Client.predict: the array's bytes framed by hand, outputs viewed by numpy
  parsed     the generated stub with x parsed from hand-framed bytes (Tensor.FromString),
             outputs copied out of the protobuf container
  lists      the generated stub with x passed as a Python list (what the package avoids)
and prints each one's median over its rounds' medians and its ratio to cpp (target for the
package: <= 1.3). Run with the Python that has the package installed:

  VENV/bin/python bench/python_client_predict.py [--rows 1000] [--cols 784] [--hidden 0]
      [--seconds 2] [--rounds 3] [--mlpd build/server/mlpd]
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


def time_calls(call, min_seconds, min_runs=10, warmup=5):
    """Median seconds of single calls, as bench/timing.h's TimeCalls times them."""
    for _ in range(warmup):
        call()
    times = []
    start = time.perf_counter()
    while True:
        before = time.perf_counter()
        call()
        after = time.perf_counter()
        times.append(after - before)
        if len(times) >= min_runs and after - start >= min_seconds:
            return statistics.median(times)


def start_server(binary, folder):
    process = subprocess.Popen([os.path.abspath(binary), "--listen", "127.0.0.1:0", "--data-dir", "",
                                "--checkpoint-interval", "0"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                               cwd=folder)
    for line in process.stderr:
        found = re.search(r"serving on \S+ \(port (\d+)\)", line)
        if found:
            return process, f"127.0.0.1:{found.group(1)}"
    raise RuntimeError(f"mlpd exited {process.wait()} before serving")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1000)
    parser.add_argument("--cols", type=int, default=784)
    parser.add_argument("--hidden", type=int, default=0, help="units of a relu hidden layer")
    parser.add_argument("--seconds", type=float, default=2.0, help="per timing")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--mlpd", default=os.path.join(ROOT, "build", "server", "mlpd"))
    parser.add_argument("--timer", default=os.path.join(ROOT, "build", "bench",
                                                        "mlpd-client-predict-timing"))
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as folder:
        server, address = start_server(args.mlpd, folder)
        try:
            rows = time_rows(args, address)
        finally:
            server.terminate()
            server.wait()
    for name, median in rows.items():
        ratio = median / rows["cpp"]
        if args.json:
            print(json.dumps({"benchmark": "python_client_predict", "row": name,
                              "rows": args.rows, "cols": args.cols,
                              "median_ms": round(median * 1e3, 3), "vs_cpp": round(ratio, 3)}))
        else:
            target = "  (target <= 1.3)" if name == "package" else ""
            print(f"{name:8s} median {median * 1e3:8.2f} ms  vs cpp {ratio:6.2f}{target}")


def time_rows(args, address):
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

    # The three routes compute the same outputs.
    expected = client.predict("bench", x)
    for route in (parsed, lists):
        np.testing.assert_array_equal(route().reshape(expected.shape), expected)

    medians = {"cpp": [], "package": [], "parsed": [], "lists": []}
    for _ in range(args.rounds):
        timer = subprocess.run([args.timer, address, "bench", str(args.rows), str(args.cols),
                                str(args.seconds)], check=True, capture_output=True, text=True)
        medians["cpp"].append(json.loads(timer.stdout)["median_seconds"])
        medians["package"].append(
            time_calls(lambda: client.predict("bench", x), args.seconds))
        medians["parsed"].append(time_calls(parsed, args.seconds))
        medians["lists"].append(time_calls(lists, args.seconds / 4, min_runs=3, warmup=1))
    client.close()
    return {name: statistics.median(values) for name, values in medians.items()}


if __name__ == "__main__":
    main()
