#!/usr/bin/python3
"""Training-job calls for the end-to-end tests, over Debian's python3-grpcio.

  job_client.py STUBS SERVER start SESSION DATASET EPOCHS BATCH SEED  -> prints the job id
  job_client.py STUBS SERVER get ID                                   -> prints the job as JSON
  job_client.py STUBS SERVER watch ID      -> follows the job to its end, prints its final state
  job_client.py STUBS SERVER history NAME  -> prints the curve's steps, one per line
  job_client.py STUBS SERVER kill-at ID STEPS PID [FOLDER]
      -> polls the job every few ms and sends SIGKILL to PID once it has applied STEPS steps;
         fails when the job ends first. With FOLDER, the kill then waits (up to 5 s) until a
         temporary file (".tmp-" in its name) is in FOLDER: a write under way there.

STUBS is a folder for the generated Python stubs.
"""
import os
import signal
import sys
import time


def load_stubs(folder):
    """The API's stubs, generated into `folder` (generated_stubs.py, beside this file)."""
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from generated_stubs import load_stubs as generate  # noqa: E402 (found through the path above)
    _, mlpd_pb2, mlpd_pb2_grpc = generate(folder)
    return mlpd_pb2, mlpd_pb2_grpc


def wait_for_temporary_file(folder, deadline):
    """Returns once `folder` holds a file being written (".tmp-" in its name) or at `deadline`."""
    while time.monotonic() < deadline:
        if any(".tmp-" in name for name in os.listdir(folder)):
            return
        time.sleep(0.0002)


def main():
    folder, server, command, *args = sys.argv[1:]
    pb, pb_grpc = load_stubs(folder)
    import grpc
    from google.protobuf import json_format

    stub = pb_grpc.MlpdStub(grpc.insecure_channel(server))
    if command == "start":
        session, dataset, epochs, batch, seed = args
        job = stub.StartTraining(pb.TrainRequest(
            name=session, dataset=dataset, epochs=int(epochs), batch_size=int(batch),
            shuffle=True, seed=int(seed), report_every_steps=50), timeout=10)
        print(job.id)
    elif command == "get":
        job = stub.GetJob(pb.GetJobRequest(id=args[0]), timeout=10)
        print(json_format.MessageToJson(job, preserving_proto_field_name=True, indent=None))
    elif command == "watch":
        try:
            for event in stub.WatchJob(pb.WatchJobRequest(id=args[0])):
                pass
        except grpc.RpcError as error:
            print(f"watch ended {error.code().name}: {error.details()}", file=sys.stderr)
        job = stub.GetJob(pb.GetJobRequest(id=args[0]), timeout=10)
        print(pb.JobState.Name(job.state))
    elif command == "kill-at":
        job_id, steps, pid = args[0], int(args[1]), int(args[2])
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            job = stub.GetJob(pb.GetJobRequest(id=job_id), timeout=10)
            if job.done:
                sys.exit(f"job {job_id} ended ({pb.JobState.Name(job.state)}) before step {steps}")
            if job.steps_done >= steps:
                if len(args) > 3:
                    wait_for_temporary_file(args[3], time.monotonic() + 5)
                os.kill(pid, signal.SIGKILL)
                print(job.steps_done)
                return
            time.sleep(0.005)
        sys.exit(f"job {job_id} did not reach step {steps} in 300 s")
    elif command == "history":
        response = stub.GetHistory(pb.GetHistoryRequest(name=args[0]), timeout=10)
        for point in response.points:
            print(point.step)
    else:
        sys.exit(f"unknown command {command}")


if __name__ == "__main__":
    main()
