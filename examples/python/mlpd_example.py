#!/usr/bin/python3
"""A Python client of mlpd: learns XOR on the server, then predicts and cleans up.

It trains three ways: steps with the batch in the request, a Train call that streams progress,
and a detached job (start_training answers at once; watch_job follows the job, and could
re-attach from another process, since the server owns the job).

Uses the mlpd package (client/python): install it first, into a virtual environment that sees
Debian's python3-grpcio, python3-protobuf and python3-numpy (see client/python/README.md):

    python3 -m venv --system-site-packages venv && venv/bin/pip install --no-index client/python
    venv/bin/python examples/python/mlpd_example.py [--server 127.0.0.1:50051] [--name py-xor]

Exits 0 when the trained network classifies the four XOR points correctly.
"""
import argparse
import os
import sys

import numpy as np

import mlpd


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--server", default=os.environ.get("MLPD_SERVER", "127.0.0.1:50051"))
    parser.add_argument("--name", default="py-xor", help="session and dataset name")
    args = parser.parse_args()

    client = mlpd.Client(args.server, token=os.environ.get("MLPD_TOKEN"), timeout=30)
    info = client.server_info()
    print(f"server: mlpd {info.version}, API {info.api}, features: {' '.join(info.features)}")
    info = client.create_session(args.name, input_size=2, layers=[(8, "tanh"), (1, "identity")],
                                 loss="mse", reduction="mean", optimizer="adam",
                                 learning_rate=0.05, init="xavier", seed=7)
    print(f"created {info.name}: {info.parameter_count} parameters")

    x = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], np.float32)
    y = np.array([[0], [1], [1], [0]], np.float32)
    try:
        # A few steps with the batch in the request; expected_step makes each safe to retry.
        for step in range(20):
            result = client.train_step(args.name, x, y, expected_step=step)
        print(f"step {result.step} loss {result.loss:.4f}")
        # ...then epochs over an uploaded dataset, streaming progress.
        dataset = f"{args.name}-data"
        client.upload_dataset(dataset, x, y, routing_session=args.name)
        for event in client.train(args.name, dataset, epochs=400, report_every_steps=100,
                                  timeout=120):
            if isinstance(event, mlpd.TrainProgress):
                print(f"  step {event.step} loss {event.loss:.5f}")
            else:
                print(f"trained {event.steps} steps, last loss {event.last_loss:.5f}")
        # ...then a detached job: the server owns the run, which outlives this connection.
        # Anyone who knows its id may watch it (the stream starts with the job's state and ends
        # with its summary, or raises its error) or cancel it.
        job = client.start_training(args.name, dataset, epochs=100, report_every_steps=50)
        print(f"started job {job.id} ({job.state})")
        for event in client.watch_job(job.id, session=args.name, timeout=120):
            if isinstance(event, mlpd.Job):
                print(f"  watching {event.id}: {event.state}")
            elif isinstance(event, mlpd.TrainProgress):
                print(f"  step {event.step} loss {event.loss:.5f}")
            else:
                print(f"job {job.id} done: {event.steps} steps, last loss {event.last_loss:.5f}")
        job = client.get_job(job.id, session=args.name)
        if job.state != "SUCCEEDED":
            print(f"job {job.id} ended {job.state}: {job.error}", file=sys.stderr)
            return 1
        history = client.get_history(args.name)
        print(f"history: {len(history)} points, loss {history[0].train_loss:.4f} at step "
              f"{history[0].step} -> {history[-1].train_loss:.4f} at step {history[-1].step}")
        client.delete_dataset(dataset, routing_session=args.name)

        outputs = client.predict(args.name, x)[:, 0]
        print("predictions:", " ".join(f"{v:.3f}" for v in outputs))
        wrong = [i for i in range(len(x)) if (outputs[i] > 0.5) != (y[i, 0] > 0.5)]
    finally:
        client.delete_session(args.name)
        print(f"deleted {args.name}")
        client.close()
    if wrong:
        print(f"XOR points misclassified: {wrong}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
