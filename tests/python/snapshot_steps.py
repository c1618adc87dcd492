#!/usr/bin/python3
"""Prints the step count of every session snapshot in an mlpd data dir, as JSON.

Reads DATA_DIR/sessions/*.ckpt independently of mlpd: checks the 32-byte header documented in
server/session_store.h (magic, version, kind, length, both CRC-32C checksums), then parses the
payload as mlpd.v1.Checkpoint with the Python module protoc generated from proto/ (its folder is
the second argument). Exit status 1, naming the file, when a snapshot is damaged.

usage: snapshot_steps.py DATA_DIR PROTO_PYTHON_DIR   ->   {"session-a": 120, ...}
"""
import glob
import json
import os
import struct
import sys


def crc32c(data):
    crc = 0xFFFFFFFF
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 if crc & 1 else 0)
    return crc ^ 0xFFFFFFFF


def main():
    data_dir, proto_dir = sys.argv[1], sys.argv[2]
    sys.path.insert(0, proto_dir)
    from mlpd.v1 import model_pb2

    steps = {}
    for path in sorted(glob.glob(os.path.join(data_dir, "sessions", "*.ckpt"))):
        with open(path, "rb") as f:
            contents = f.read()
        name = os.path.basename(path)[: -len(".ckpt")]
        if len(contents) < 32:
            sys.exit("snapshot_steps: %s is %d bytes, shorter than the header" % (path, len(contents)))
        magic, version, kind, _, length, payload_crc, header_crc = struct.unpack(
            "<4sIIIQII", contents[:32])
        payload = contents[32:]
        problems = []
        if magic != b"MLPD":
            problems.append("magic %r" % magic)
        if version != 1 or kind != 1:
            problems.append("version %d kind %d" % (version, kind))
        if header_crc != crc32c(contents[:28]):
            problems.append("header checksum")
        if length != len(payload):
            problems.append("length %d, payload %d bytes" % (length, len(payload)))
        elif payload_crc != crc32c(payload):
            problems.append("payload checksum")
        if problems:
            sys.exit("snapshot_steps: %s is damaged: %s" % (path, ", ".join(problems)))
        checkpoint = model_pb2.Checkpoint()
        checkpoint.ParseFromString(payload)
        steps[name] = checkpoint.step_count
    print(json.dumps(steps, sort_keys=True))


if __name__ == "__main__":
    main()
