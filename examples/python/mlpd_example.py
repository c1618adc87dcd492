#!/usr/bin/python3
"""A Python client of mlpd: learns XOR on the server, then predicts and cleans up.

It trains three ways: steps with the batch in the request, a Train call that streams progress,
and a detached job (StartTraining answers at once; WatchJob follows the job, and could be
re-attached from another process, since the server owns the job).

Needs Debian's python3-grpcio, python3-protobuf and protobuf-compiler-grpc. The stubs are
generated from proto/ into a temporary folder at start (nothing generated is kept), so the
example always matches the API it runs against.

Usage: examples/python/mlpd_example.py [--server 127.0.0.1:50051] [--name py-xor]
Exits 0 when the trained network classifies the four XOR points correctly.
"""
import argparse
import os
import subprocess
import sys
import tempfile

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


def tensor(pb, rows):
    return pb.Tensor(shape=[len(rows), len(rows[0])], data=[v for row in rows for v in row])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--server", default=os.environ.get("MLPD_SERVER", "127.0.0.1:50051"))
    parser.add_argument("--name", default="py-xor", help="session and dataset name")
    args = parser.parse_args()

    import grpc

    with tempfile.TemporaryDirectory() as folder:
        model_pb2, pb, pb_grpc = load_stubs(folder)
        channel = grpc.insecure_channel(args.server)
        stub = pb_grpc.MlpdStub(channel)
        # The routing header keeps every call of one session on the same server behind a proxy.
        meta = [("x-mlpd-session", args.name)]
        token = os.environ.get("MLPD_TOKEN")
        if token:
            meta.append(("authorization", f"Bearer {token}"))

        spec = model_pb2.ModelSpec(
            input_size=2,
            layers=[model_pb2.LayerSpec(units=8, activation=model_pb2.ACTIVATION_TANH),
                    model_pb2.LayerSpec(units=1, activation=model_pb2.ACTIVATION_IDENTITY)],
            loss=model_pb2.LossSpec(kind=model_pb2.LOSS_KIND_MSE,
                                    reduction=model_pb2.REDUCTION_MEAN),
            optimizer=model_pb2.OptimizerSpec(kind=model_pb2.OPTIMIZER_KIND_ADAM, learning_rate=0.05),
            init=model_pb2.InitSpec(kind=model_pb2.INIT_KIND_XAVIER, seed=7))
        info = stub.CreateSession(pb.CreateSessionRequest(name=args.name, spec=spec),
                                  metadata=meta, timeout=30)
        print(f"created {info.name}: {info.parameter_count} parameters")

        x = [[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]]
        t = [[0.0], [1.0], [1.0], [0.0]]
        batch = pb.Batch(x=tensor(pb, x), targets=tensor(pb, t))
        try:
            # A few steps with the batch in the request...
            for _ in range(20):
                step = stub.TrainStep(pb.TrainStepRequest(name=args.name, batch=batch),
                                      metadata=meta, timeout=30)
            print(f"step {step.step} loss {step.loss:.4f}")
            # ...then epochs over an uploaded dataset, streaming progress. total_rows lets
            # the server refuse a stream that ends early.
            dataset = f"{args.name}-data"
            stub.UploadDataset(iter([pb.UploadDatasetRequest(name=dataset, rows=batch,
                                                             total_rows=len(x))]),
                               metadata=meta, timeout=30)
            request = pb.TrainRequest(name=args.name, dataset=dataset, epochs=400,
                                      report_every_steps=100)
            for event in stub.Train(request, metadata=meta, timeout=120):
                if event.HasField("progress"):
                    print(f"  step {event.progress.step} loss {event.progress.loss:.5f}")
                elif event.HasField("summary"):
                    print(f"trained {event.summary.steps} steps, last loss "
                          f"{event.summary.last_loss:.5f}")
            # ...then a detached job: the server owns the run, which outlives this connection.
            # Anyone who knows its id may watch it (the stream starts with the job's state and
            # ends with its summary, or with its error as the call's status) or cancel it.
            job = stub.StartTraining(
                pb.TrainRequest(name=args.name, dataset=dataset, epochs=100,
                                report_every_steps=50),
                metadata=meta, timeout=30)
            print(f"started job {job.id} ({pb.JobState.Name(job.state)})")
            for event in stub.WatchJob(pb.WatchJobRequest(id=job.id), metadata=meta,
                                       timeout=120):
                if event.HasField("job"):
                    print(f"  watching {event.job.id}: {pb.JobState.Name(event.job.state)}")
                elif event.HasField("progress"):
                    print(f"  step {event.progress.step} loss {event.progress.loss:.5f}")
                else:
                    print(f"job {job.id} done: {event.summary.steps} steps, last loss "
                          f"{event.summary.last_loss:.5f}")
            job = stub.GetJob(pb.GetJobRequest(id=job.id), metadata=meta, timeout=30)
            if job.state != pb.JOB_STATE_SUCCEEDED:
                print(f"job {job.id} ended {pb.JobState.Name(job.state)}", file=sys.stderr)
                return 1
            history = stub.GetHistory(pb.GetHistoryRequest(name=args.name), metadata=meta,
                                      timeout=30)
            print(f"history: {len(history.points)} points, loss "
                  f"{history.points[0].train_loss:.4f} at step {history.points[0].step} -> "
                  f"{history.points[-1].train_loss:.4f} at step {history.points[-1].step}")
            stub.DeleteDataset(pb.DeleteDatasetRequest(name=dataset), metadata=meta, timeout=30)

            prediction = stub.Predict(pb.PredictRequest(name=args.name, x=tensor(pb, x)),
                                      metadata=meta, timeout=30)
            outputs = list(prediction.outputs.data)
            print("predictions:", " ".join(f"{v:.3f}" for v in outputs))
            wrong = [i for i, (v, row) in enumerate(zip(outputs, t)) if (v > 0.5) != (row[0] > 0.5)]
        finally:
            stub.DeleteSession(pb.DeleteSessionRequest(name=args.name), metadata=meta, timeout=30)
            print(f"deleted {args.name}")
        if wrong:
            print(f"XOR points misclassified: {wrong}", file=sys.stderr)
            return 1
        return 0


if __name__ == "__main__":
    sys.exit(main())
