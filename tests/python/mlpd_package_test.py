"""Tests of the mlpd Python package (client/python) against the real mlpd binary.

Run by tests/e2e/python_package.sh, which installs the package into a fresh virtual
environment first: `python -m unittest mlpd_package_test` with MLPD_BIN naming the server.
Each server starts on a free loopback port; a test waits for its "serving on ... (port N)" line,
never for a fixed time.
"""
import os
import re
import subprocess
import sys
import tempfile
import threading
import unittest

import grpc
import numpy as np

import mlpd
from mlpd import convert, wire_arrays
from mlpd.v1 import mlpd_pb2, model_pb2

MLPD_BIN = os.environ.get("MLPD_BIN", "")
XOR_X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float32)
XOR_Y = np.array([[0], [1], [1], [0]], dtype=np.float32)


class Server:
    """A real mlpd on 127.0.0.1 with a free port and its own data dir; stop() ends it."""

    def __init__(self, *flags):
        self.folder = tempfile.TemporaryDirectory()
        self.log = []
        self.process = subprocess.Popen(
            # No HTTP port: the default 127.0.0.1:9464 would collide between servers.
            [MLPD_BIN, "--listen", "127.0.0.1:0", "--data-dir",
             os.path.join(self.folder.name, "data"), "--threads", "1", "--http-listen", "",
             *flags],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        port = None
        for line in self.process.stderr:  # Ends when mlpd exits.
            self.log.append(line)
            found = re.search(r"serving on \S+ \(port (\d+)\)", line)
            if found:
                port = int(found.group(1))
                break
        if port is None:
            self.process.wait()
            raise RuntimeError(f"mlpd exited {self.process.returncode}: {''.join(self.log)}")
        self.address = f"127.0.0.1:{port}"
        # Keep reading the log so the server never blocks on a full pipe.
        self.reader = threading.Thread(target=lambda: self.log.extend(self.process.stderr))
        self.reader.start()

    def stop(self):
        self.process.terminate()
        self.process.wait(timeout=60)
        self.reader.join()
        self.folder.cleanup()


def forward(checkpoint, x):
    """The network of a NATIVE export run in numpy: x(l) = sigma(w(l) x(l-1) + b(l))."""
    activations = {model_pb2.ACTIVATION_IDENTITY: lambda s: s,
                   model_pb2.ACTIVATION_RELU: lambda s: np.maximum(s, 0),
                   model_pb2.ACTIVATION_TANH: np.tanh,
                   model_pb2.ACTIVATION_SIGMOID: lambda s: 1 / (1 + np.exp(-s))}
    parameters = np.array(checkpoint.parameters, dtype=np.float64)
    width, offset, out = checkpoint.spec.input_size, 0, x.astype(np.float64)
    for layer in checkpoint.spec.layers:
        w = parameters[offset:offset + layer.units * width].reshape(layer.units, width)
        offset += layer.units * width
        b = parameters[offset:offset + layer.units]
        offset += layer.units
        out = activations[layer.activation](out @ w.T + b)
        width = layer.units
    if checkpoint.spec.loss.kind == model_pb2.LOSS_KIND_CROSS_ENTROPY:
        out = np.exp(out - out.max(axis=1, keepdims=True))
        out /= out.sum(axis=1, keepdims=True)
    return out


class WireArraysTest(unittest.TestCase):
    """The hand-built fields are byte for byte what protobuf writes, and read back exactly."""

    def test_tensor_bytes_equal_protobuf_serialization(self):
        x = np.random.default_rng(1).normal(size=(7, 5)).astype(np.float32)
        x[0, 0], x[1, 1] = np.inf, -0.0
        slow = mlpd_pb2.Tensor(shape=x.shape, data=x.ravel().tolist()).SerializeToString()
        self.assertEqual(b"".join(wire_arrays.tensor(x, "x")), slow)

    def test_batch_with_labels_equals_protobuf_serialization(self):
        edges = [0, 127, 128, 2**31 - 1, -1, -(2**31)]
        random = np.random.default_rng(4).integers(-(2**31), 2**31, size=200).tolist()
        # A few labels take the loop; many take the array code, with and without big values.
        for labels in (edges, edges + random, list(range(100)), list(range(120, 140))):
            labels = np.array(labels, dtype=np.int64)
            x = np.arange(2 * labels.size, dtype=np.float64).reshape(-1, 2)  # Cast to float32.
            slow = mlpd_pb2.Batch(x=mlpd_pb2.Tensor(shape=x.shape, data=x.ravel().tolist()),
                                  labels=labels.tolist()).SerializeToString()
            self.assertEqual(b"".join(wire_arrays.batch(x, labels)), slow)
            decoded = wire_arrays.decode_varints(wire_arrays.varints(labels))
            np.testing.assert_array_equal(decoded.astype(np.int32), labels)

    def test_batch_with_targets_equals_protobuf_serialization(self):
        x = np.ones((2, 3), dtype=np.float32)
        y = np.array([0.5, -2.0], dtype=np.float32)  # 1-D: one target per row.
        slow = mlpd_pb2.Batch(x=mlpd_pb2.Tensor(shape=[2, 3], data=[1.0] * 6),
                              targets=mlpd_pb2.Tensor(shape=[2, 1], data=[0.5, -2.0]))
        self.assertEqual(b"".join(wire_arrays.batch(x, y)), slow.SerializeToString())

    def test_prediction_decodes_packed_and_unpacked(self):
        outputs = np.array([[0.25, -1.5], [3.0, 1e-30]], dtype=np.float32)
        response = mlpd_pb2.PredictResponse(
            outputs=mlpd_pb2.Tensor(shape=[2, 2], data=outputs.ravel().tolist()),
            classes=[0, 300])
        decoded, classes = wire_arrays.decode_prediction(response.SerializeToString())
        np.testing.assert_array_equal(decoded, outputs)
        np.testing.assert_array_equal(classes, [0, 300])
        self.assertTrue(decoded.flags.writeable)
        # The same message with every repeated field unpacked, which parsers must accept.
        unpacked_tensor = b"\x08\x02\x08\x02" + b"".join(
            b"\x15" + value.tobytes() for value in outputs.ravel())
        unpacked = (b"\x0a" + bytes([len(unpacked_tensor)]) + unpacked_tensor +
                    b"\x10\x00\x10\xac\x02")
        self.assertEqual(mlpd_pb2.PredictResponse.FromString(unpacked), response)
        decoded, classes = wire_arrays.decode_prediction(unpacked)
        np.testing.assert_array_equal(decoded, outputs)
        np.testing.assert_array_equal(classes, [0, 300])

    def test_bad_arrays_are_refused_before_sending(self):
        with self.assertRaisesRegex(ValueError, "x must be 2-D"):
            wire_arrays.batch(np.zeros(3), np.zeros(3))
        with self.assertRaisesRegex(ValueError, "x has 3 rows and y has 2"):
            wire_arrays.batch(np.zeros((3, 1)), np.zeros(2))
        with self.assertRaisesRegex(ValueError, "labels"):
            wire_arrays.batch(np.zeros((2, 1)), np.zeros((2, 2), dtype=np.int32))


class ChoicesTest(unittest.TestCase):
    """Plain strings and enums map to the wire's prefixed values and back."""

    def test_strings_and_enums_are_the_same_choice(self):
        self.assertIs(mlpd.Activation("relu"), mlpd.Activation.RELU)
        self.assertIs(mlpd.Activation("RELU"), mlpd.Activation.RELU)
        self.assertEqual(convert.to_wire(model_pb2.Activation, mlpd.Activation.RELU),
                         model_pb2.ACTIVATION_RELU)
        with self.assertRaisesRegex(ValueError, "loss is 'msee', expected one of: mse, "):
            mlpd.ModelSpec(input_size=1, layers=[(1, "identity")], loss="msee",
                           optimizer="sgd", learning_rate=0.1)

    def test_every_choice_maps_to_its_prefixed_wire_value_and_back(self):
        for kind, enum_type in ((mlpd.Activation, model_pb2.Activation),
                                (mlpd.Loss, model_pb2.LossKind),
                                (mlpd.Reduction, model_pb2.Reduction),
                                (mlpd.Optimizer, model_pb2.OptimizerKind),
                                (mlpd.Init, model_pb2.InitKind)):
            for member in kind:
                number = convert.to_wire(enum_type, member)
                self.assertNotEqual(number, 0)
                self.assertIs(convert.from_wire(enum_type, kind, number), member)
        self.assertEqual(convert.to_wire(model_pb2.LossKind, mlpd.Loss.CROSS_ENTROPY),
                         model_pb2.LOSS_KIND_CROSS_ENTROPY)
        self.assertIsNone(convert.from_wire(model_pb2.LossKind, mlpd.Loss, 0))
        self.assertIsNone(convert.from_wire(model_pb2.LossKind, mlpd.Loss, 99))

    def test_zero_hyperparameters_are_sent_and_none_is_left_unset(self):
        spec = mlpd.ModelSpec(input_size=1, layers=[(1, "identity")], loss="mse",
                              optimizer="adam", learning_rate=0.1, beta1=0.0)
        wire = convert.spec_to_wire(spec).optimizer
        self.assertTrue(wire.HasField("beta1"))
        self.assertEqual(wire.beta1, 0.0)
        self.assertFalse(wire.HasField("beta2"))
        self.assertFalse(wire.HasField("momentum"))


class RecordingHandler(grpc.GenericRpcHandler):
    """Answers every unary or client-streaming call with an empty message, noting its metadata."""

    def __init__(self):
        self.calls = []

    def service(self, details):
        method = details.method.rsplit("/", 1)[-1]
        self.calls.append((method, dict(details.invocation_metadata)))
        if method == "UploadDataset":
            return grpc.stream_unary_rpc_method_handler(lambda chunks, context: b"")
        return grpc.unary_unary_rpc_method_handler(lambda request, context: b"")


class MetadataTest(unittest.TestCase):
    """The token goes with every call; the routing header with every session-scoped call."""

    def setUp(self):
        from concurrent import futures
        self.handler = RecordingHandler()
        self.fake = grpc.server(futures.ThreadPoolExecutor(max_workers=2),
                                handlers=[self.handler])
        port = self.fake.add_insecure_port("127.0.0.1:0")
        self.fake.start()
        self.addCleanup(self.fake.stop, None)
        self.client = mlpd.Client(f"127.0.0.1:{port}", token="secret", timeout=10)
        self.addCleanup(self.client.close)

    def test_headers_of_session_and_dataset_calls(self):
        self.client.predict("s1", XOR_X)
        self.client.train_step("s1", XOR_X, XOR_Y)
        self.client.get_dataset("d1")
        self.client.get_dataset("d1", routing_session="s2")
        self.client.upload_dataset("d2", XOR_X, XOR_Y, routing_session="s3")
        self.client.delete_dataset("d2")
        routes = [(method, metadata.get("x-mlpd-session"))
                  for method, metadata in self.handler.calls]
        # Dataset calls without routing_session route by the dataset's own name.
        self.assertEqual(routes, [("Predict", "s1"), ("TrainStep", "s1"), ("GetDataset", "d1"),
                                  ("GetDataset", "s2"), ("UploadDataset", "s3"),
                                  ("DeleteDataset", "d2")])
        self.assertTrue(all(metadata.get("authorization") == "Bearer secret"
                            for _, metadata in self.handler.calls))


class MissingDatasetHandler(RecordingHandler):
    """A server without datasets: GetDataset is NOT_FOUND; Train streams nothing."""

    def service(self, details):
        handler = super().service(details)
        method = self.calls[-1][0]
        if method == "GetDataset":
            return grpc.unary_unary_rpc_method_handler(
                lambda request, context: context.abort(grpc.StatusCode.NOT_FOUND, "no dataset"))
        if method == "Train":
            return grpc.unary_stream_rpc_method_handler(lambda request, context: iter(()))
        return handler


class PlacementRoutingTest(unittest.TestCase):
    """Every call that places a dataset for a training is routed by the session."""

    def test_train_with_upload_from_looks_up_uploads_and_trains_on_the_session_server(self):
        from concurrent import futures
        handler = MissingDatasetHandler()
        fake = grpc.server(futures.ThreadPoolExecutor(max_workers=2), handlers=[handler])
        port = fake.add_insecure_port("127.0.0.1:0")
        fake.start()
        self.addCleanup(fake.stop, None)
        client = mlpd.Client(f"127.0.0.1:{port}", timeout=10)
        self.addCleanup(client.close)
        self.assertEqual(list(client.train("s1", "d1", 1, upload_from=(XOR_X, XOR_Y))), [])
        self.assertEqual([(method, metadata.get("x-mlpd-session"))
                          for method, metadata in handler.calls],
                         [("GetDataset", "s1"), ("UploadDataset", "s1"), ("Train", "s1")])


class ServerTestCase(unittest.TestCase):
    server_flags = ()

    @classmethod
    def setUpClass(cls):
        cls.server = Server(*cls.server_flags)

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()

    def setUp(self):
        self.client = mlpd.Client(self.server.address, timeout=30)
        self.addCleanup(self.client.close)

    def create_xor(self, name, **overrides):
        fields = dict(input_size=2, layers=[(8, "tanh"), (1, "identity")], loss="mse",
                      optimizer="adam", learning_rate=0.05, seed=7)
        fields.update(overrides)
        info = self.client.create_session(name, **fields)
        self.addCleanup(self._delete_quietly, self.client.delete_session, name)
        return info

    def upload(self, name, x, y, client=None):
        info = (client or self.client).upload_dataset(name, x, y)
        self.addCleanup(self._delete_quietly, self.client.delete_dataset, name)
        return info

    @staticmethod
    def _delete_quietly(delete, name):
        try:
            delete(name)
        except mlpd.NotFound:
            pass


class SessionsTest(ServerTestCase):

    def test_create_reports_the_spec_with_defaults_as_choices(self):
        info = self.create_xor("spec", reduction=mlpd.Reduction.SUM)
        self.assertEqual(info.name, "spec")
        self.assertEqual(info.parameter_count, 2 * 8 + 8 + 8 + 1)
        self.assertEqual(info.step_count, 0)
        self.assertIsNone(info.last_loss)
        self.assertEqual(info.spec.layers, (mlpd.Layer(8, mlpd.Activation.TANH),
                                            mlpd.Layer(1, mlpd.Activation.IDENTITY)))
        self.assertIs(info.spec.loss, mlpd.Loss.MSE)
        self.assertIs(info.spec.reduction, mlpd.Reduction.SUM)
        self.assertIs(info.spec.optimizer, mlpd.Optimizer.ADAM)
        self.assertIs(info.spec.init, mlpd.Init.XAVIER)
        self.assertAlmostEqual(info.spec.beta1, 0.9, places=6)  # The server's default.
        self.assertEqual(self.client.get_session("spec"), info)

    def test_zero_beta1_is_kept_not_read_as_the_default(self):
        info = self.create_xor("beta-zero", beta1=0.0)
        self.assertEqual(info.spec.beta1, 0.0)
        self.assertAlmostEqual(info.spec.beta2, 0.999, places=6)
        self.assertIsNone(info.spec.momentum)

    def test_list_get_delete_and_their_errors(self):
        self.create_xor("listed-b")
        self.create_xor("listed-a")
        names = [info.name for info in self.client.list_sessions()]
        self.assertEqual([n for n in names if n.startswith("listed-")], ["listed-a", "listed-b"])
        with self.assertRaises(mlpd.AlreadyExists) as caught:
            self.create_xor("listed-a")
        self.assertEqual(caught.exception.code, grpc.StatusCode.ALREADY_EXISTS)
        self.assertIn("listed-a", caught.exception.message)
        self.client.delete_session("listed-a")
        with self.assertRaises(mlpd.NotFound) as caught:
            self.client.get_session("listed-a")
        self.assertIsInstance(caught.exception, mlpd.Error)
        self.assertIn("listed-a", str(caught.exception))
        self.assertTrue(str(caught.exception).startswith("NOT_FOUND: "))

    def test_bad_spec_is_invalid_argument_naming_the_field(self):
        with self.assertRaises(mlpd.InvalidArgument) as caught:
            self.client.create_session("bad", input_size=2, layers=[(1, "identity")],
                                       loss="mse", optimizer="sgd", learning_rate=-1.0)
        self.assertEqual(caught.exception.code, grpc.StatusCode.INVALID_ARGUMENT)
        self.assertIn("learning_rate", caught.exception.message)


class ComputeTest(ServerTestCase):

    def test_train_step_learns_xor_and_predict_matches_the_exported_weights(self):
        self.create_xor("xor")
        losses = [self.client.train_step("xor", XOR_X, XOR_Y) for _ in range(300)]
        self.assertEqual([result.step for result in losses], list(range(1, 301)))
        self.assertLess(losses[-1].loss, losses[0].loss / 10)
        outputs = self.client.predict("xor", XOR_X)
        self.assertEqual((outputs.dtype, outputs.shape), (np.float32, (4, 1)))
        np.testing.assert_array_equal(outputs > 0.5, XOR_Y > 0.5)
        checkpoint = model_pb2.Checkpoint.FromString(self.client.export_native("xor"))
        np.testing.assert_allclose(outputs, forward(checkpoint, XOR_X), rtol=1e-4, atol=1e-5)
        info = self.client.get_session("xor")
        self.assertEqual((info.step_count, info.samples_seen), (300, 1200))
        self.assertAlmostEqual(info.last_loss, losses[-1].loss, places=6)

    def test_predict_of_many_rows_in_several_calls_keeps_row_order(self):
        client = mlpd.Client(self.server.address, chunk_bytes=4 * 784 * 10)  # 10 rows a call.
        self.addCleanup(client.close)
        client.create_session("wide", input_size=784, layers=[(16, "relu"), (10, "identity")],
                              loss="cross_entropy", optimizer="sgd", learning_rate=0.1,
                              init="normal", init_scale=0.05, seed=3)
        self.addCleanup(client.delete_session, "wide")
        x = np.random.default_rng(5).normal(size=(95, 784)).astype(np.float32)
        probabilities = client.predict("wide", x)
        self.assertEqual(probabilities.shape, (95, 10))
        checkpoint = model_pb2.Checkpoint.FromString(client.export_native("wide"))
        np.testing.assert_allclose(probabilities, forward(checkpoint, x), rtol=1e-4, atol=1e-6)
        np.testing.assert_array_equal(client.predict_classes("wide", x),
                                      probabilities.argmax(axis=1))

    def test_labels_train_and_evaluate_inline(self):
        rng = np.random.default_rng(11)
        x = rng.normal(size=(64, 3)).astype(np.float32)
        labels = (x[:, 0] > 0).astype(np.int64) + (x[:, 1] > 0)  # Classes 0, 1, 2.
        self.client.create_session("labels", input_size=3, layers=[(3, "identity")],
                                   loss="cross_entropy", optimizer="sgd", learning_rate=0.5,
                                   seed=1)
        self.addCleanup(self.client.delete_session, "labels")
        before = self.client.evaluate("labels", x=x, y=labels)
        for _ in range(50):
            self.client.train_step("labels", x, labels)
        after = self.client.evaluate("labels", x=x, y=labels)
        self.assertEqual(after.count, 64)
        self.assertLess(after.loss, before.loss)
        self.assertLess(after.error_rate, 0.25)
        wrong = np.mean(self.client.predict_classes("labels", x) != labels)
        self.assertAlmostEqual(after.error_rate, wrong, places=6)

    def test_wrong_width_is_invalid_argument_naming_both_sizes(self):
        self.create_xor("width")
        with self.assertRaises(mlpd.InvalidArgument) as caught:
            self.client.predict("width", np.zeros((2, 3), dtype=np.float32))
        self.assertIn("3", caught.exception.message)
        self.assertIn("2", caught.exception.message)
        with self.assertRaises(mlpd.NotFound):
            self.client.train_step("no-such-session", XOR_X, XOR_Y)
        self.assertEqual(self.client.get_session("width").step_count, 0)

    def test_expected_step_makes_a_retried_step_apply_once(self):
        self.create_xor("retry")
        self.assertEqual(self.client.train_step("retry", XOR_X, XOR_Y, expected_step=0).step, 1)
        with self.assertRaises(mlpd.Aborted) as caught:
            self.client.train_step("retry", XOR_X, XOR_Y, expected_step=0)
        self.assertIn("expected_step is 0, the session's step count is 1", caught.exception.message)
        self.assertEqual(self.client.get_session("retry").step_count, 1)
        self.assertEqual(self.client.train_step("retry", XOR_X, XOR_Y, expected_step=1).step, 2)


class DatasetsAndTrainingTest(ServerTestCase):

    def test_upload_in_chunks_then_train_with_progress_and_summary(self):
        client = mlpd.Client(self.server.address, chunk_bytes=4 * 3 * 10)  # 10 rows a chunk.
        self.addCleanup(client.close)
        x = np.tile(XOR_X, (25, 1))  # 100 rows.
        y = np.tile(XOR_Y, (25, 1))
        info = self.upload("xor-rows", x, y, client)
        self.assertEqual((info.name, info.rows, info.input_size, info.target_size,
                          info.has_labels), ("xor-rows", 100, 2, 1, False))
        self.assertEqual(self.client.get_dataset("xor-rows"), info)
        self.assertIn(info, self.client.list_datasets())
        # The uploaded rows are the sent rows: evaluating either gives the same loss.
        self.create_xor("trained")
        on_dataset = self.client.evaluate("trained", "xor-rows")
        inline = self.client.evaluate("trained", x=x, y=y)
        self.assertEqual(on_dataset.count, 100)
        self.assertAlmostEqual(on_dataset.loss, inline.loss, places=5)

        events = list(self.client.train("trained", "xor-rows", epochs=40, batch_size=20,
                                        shuffle=True, seed=2, eval_dataset="xor-rows",
                                        report_every_steps=50))
        progress, summary = events[:-1], events[-1]
        self.assertIsInstance(summary, mlpd.TrainSummary)
        self.assertEqual([p.steps_done for p in progress], [50, 100, 150, 200])
        self.assertTrue(all(isinstance(p, mlpd.TrainProgress) and p.steps_total == 200
                            for p in progress))
        self.assertEqual((summary.steps, summary.epochs, summary.step), (200, 40, 200))
        self.assertIsNotNone(summary.eval)
        self.assertLess(summary.eval.loss, on_dataset.loss / 10)
        self.assertEqual(self.client.get_session("trained").step_count, 200)

    def test_labels_dataset_and_deletion(self):
        labels = np.array([0, 1, 1, 0] * 3, dtype=np.int32)
        info = self.upload("xor-labels", np.tile(XOR_X, (3, 1)), labels)
        self.assertEqual((info.rows, info.target_size, info.has_labels), (12, 0, True))
        self.client.delete_dataset("xor-labels")
        with self.assertRaises(mlpd.NotFound):
            self.client.get_dataset("xor-labels")

    def test_closing_the_train_generator_cancels_the_training(self):
        self.create_xor("cancelled")
        self.upload("cancel-rows", XOR_X, XOR_Y)
        events = self.client.train("cancelled", "cancel-rows", epochs=10**9, batch_size=1,
                                   report_every_steps=1)
        first = next(events)
        self.assertEqual(first.steps_total, 4 * 10**9)
        events.close()
        # Each Train mini-batch queues the next behind whatever the session has queued, so two
        # steps in a row are one apart only once the training has stopped; while it runs, at
        # least one of its mini-batches comes between them.
        previous = self.client.train_step("cancelled", XOR_X, XOR_Y).step
        for _ in range(200):
            step = self.client.train_step("cancelled", XOR_X, XOR_Y).step
            if step == previous + 1:
                break
            previous = step
        self.assertEqual(step, previous + 1, "training went on after the generator closed")
        self.assertEqual(self.client.get_session("cancelled").step_count, step)

    def test_train_uploads_its_data_only_when_the_server_lacks_the_dataset(self):
        self.create_xor("placed")
        x, y = np.tile(XOR_X, (5, 1)), np.tile(XOR_Y, (5, 1))
        events = list(self.client.train("placed", "placed-rows", epochs=2, batch_size=10,
                                        upload_from=(x, y)))
        self.assertEqual(events[-1].steps, 4)
        self.assertEqual(self.client.get_dataset("placed-rows").rows, 20)
        # The server has it now: other rows under the name are not sent, its copy trains.
        info, uploaded = self.client.place_dataset("placed", "placed-rows", XOR_X, XOR_Y)
        self.assertEqual((info.rows, uploaded), (20, False))
        events = list(self.client.train("placed", "placed-rows", epochs=1, batch_size=10,
                                        upload_from=(XOR_X, XOR_Y)))
        self.assertEqual(events[-1].steps, 2)
        self.assertEqual(self.client.get_dataset("placed-rows").rows, 20)

    def test_train_on_a_missing_dataset_raises_not_found(self):
        self.create_xor("no-data")
        with self.assertRaises(mlpd.NotFound) as caught:
            list(self.client.train("no-data", "missing-rows", epochs=1))
        self.assertIn("missing-rows", caught.exception.message)

    def test_a_detached_job_is_watched_to_its_summary_and_leaves_a_history(self):
        self.create_xor("job-xor")
        self.upload("job-xor-rows", XOR_X, XOR_Y)
        job = self.client.start_training("job-xor", "job-xor-rows", epochs=40,
                                         report_every_steps=20)
        self.assertEqual((job.session, job.dataset, job.steps_total), ("job-xor", "job-xor-rows",
                                                                       40))
        events = list(self.client.watch_job(job.id, session="job-xor", timeout=60))
        self.assertIsInstance(events[0], mlpd.Job)
        self.assertEqual(events[0].id, job.id)
        self.assertIsInstance(events[-1], mlpd.TrainSummary)
        self.assertEqual((events[-1].steps, events[-1].step), (40, 40))
        finished = self.client.get_job(job.id, session="job-xor")
        self.assertEqual((finished.state, finished.done, finished.steps_done, finished.error),
                         ("SUCCEEDED", True, 40, None))
        history = self.client.get_history("job-xor")
        self.assertEqual(history[-1].step, 40)
        self.assertTrue(all(a.step < b.step for a, b in zip(history, history[1:])))
        with self.assertRaises(mlpd.NotFound):
            self.client.get_job("job-no-such-id")


class MessageLimitTest(ServerTestCase):
    """Arrays larger than one message travel in several (a server allowing 1 MiB messages)."""

    server_flags = ("--max-message-mb", "1")

    def test_server_info_reports_the_limit_in_force(self):
        info = self.client.server_info()
        self.assertEqual(info.limits.max_message_bytes, 1 << 20)  # --max-message-mb 1.
        self.assertEqual(info.api, "mlpd.v1 1.0")
        self.assertEqual(info.version, mlpd.__version__)
        # The test servers keep a data dir and ask no token.
        self.assertEqual(info.features, ("data_dir", "expected_step", "history", "jobs"))

    def test_upload_and_predict_split_what_one_message_cannot_carry(self):
        x = np.random.default_rng(2).normal(size=(1200, 784)).astype(np.float32)  # 3.6 MiB.
        labels = np.arange(1200) % 10
        whole = mlpd.Client(self.server.address, chunk_bytes=8 << 20)
        self.addCleanup(whole.close)
        with self.assertRaises(mlpd.ResourceExhausted):
            whole.upload_dataset("big", x, labels)
        chunked = mlpd.Client(self.server.address, chunk_bytes=256 << 10)
        self.addCleanup(chunked.close)
        info = self.upload("big", x, labels, chunked)
        self.assertEqual((info.rows, info.input_size, info.has_labels), (1200, 784, True))
        chunked.create_session("big", input_size=784, layers=[(10, "identity")],
                               loss="cross_entropy", optimizer="sgd", learning_rate=0.1)
        self.addCleanup(chunked.delete_session, "big")
        with self.assertRaises(mlpd.ResourceExhausted):
            whole.predict("big", x)
        outputs = chunked.predict("big", x)
        self.assertEqual(outputs.shape, (1200, 10))
        # Rows kept their order across the calls: the dataset's loss is the inline rows' loss.
        mean_log_loss = -np.mean(np.log(outputs[np.arange(1200), labels]))
        self.assertAlmostEqual(chunked.evaluate("big", "big").loss, mean_log_loss, places=4)


    def test_a_model_larger_than_one_message_exports_and_imports_back_exactly(self):
        chunked = mlpd.Client(self.server.address, chunk_bytes=256 << 10)
        self.addCleanup(chunked.close)
        # 318,010 parameters with Adam's two moments: 3.8 MB, over the 1 MiB message limit.
        chunked.create_session("wide-adam", input_size=784, layers=[(400, "tanh"),
                                                                     (10, "identity")],
                               loss="cross_entropy", optimizer="adam", learning_rate=1e-3)
        self.addCleanup(chunked.delete_session, "wide-adam")
        x = np.random.default_rng(3).normal(size=(4, 784)).astype(np.float32)
        chunked.train_step("wide-adam", x, np.arange(4))
        data = chunked.export_native("wide-adam")
        self.assertGreater(len(data), 3 * 4 * 318010)
        imported = chunked.import_native("wide-adam-copy", data)
        self.addCleanup(chunked.delete_session, "wide-adam-copy")
        self.assertEqual((imported.parameter_count, imported.step_count), (318010, 1))
        self.assertEqual(chunked.export_native("wide-adam-copy"), data)


class ModelsTest(ServerTestCase):

    def test_native_export_imports_back_exactly(self):
        self.create_xor("original")
        for _ in range(5):
            self.client.train_step("original", XOR_X, XOR_Y)
        data = self.client.export_native("original")
        imported = self.client.import_native("copy", data)
        self.addCleanup(self.client.delete_session, "copy")
        self.assertEqual((imported.step_count, imported.samples_seen), (5, 20))
        self.assertEqual(imported.spec, self.client.get_session("original").spec)
        np.testing.assert_array_equal(self.client.predict("copy", XOR_X),
                                      self.client.predict("original", XOR_X))
        # Adam's state came along: the next steps are identical too.
        self.assertEqual(self.client.train_step("copy", XOR_X, XOR_Y),
                         self.client.train_step("original", XOR_X, XOR_Y))
        with self.assertRaises(mlpd.InvalidArgument):
            self.client.import_native("garbage", b"\xff\x00 not a checkpoint")

    def test_export_onnx_writes_a_valid_model_of_the_session(self):
        import onnx
        from onnx import numpy_helper
        self.create_xor("onnx")
        with tempfile.TemporaryDirectory() as folder:
            path = os.path.join(folder, "xor.onnx")
            self.client.export_onnx("onnx", path)
            model = onnx.load(path)
        onnx.checker.check_model(model)
        self.assertEqual([i.name for i in model.graph.input], ["x"])
        weights = np.concatenate([numpy_helper.to_array(t).ravel()
                                  for t in model.graph.initializer])
        checkpoint = model_pb2.Checkpoint.FromString(self.client.export_native("onnx"))
        self.assertEqual(sorted(weights.tolist()), sorted(checkpoint.parameters))


class SecurityTest(unittest.TestCase):
    """Token and mutual TLS, with the same options as mlpctl's flags."""

    @classmethod
    def setUpClass(cls):
        cls.pki = tempfile.TemporaryDirectory()
        folder = cls.pki.name

        def openssl(*arguments):
            subprocess.run(["openssl", *arguments], cwd=folder, check=True,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

        newkey = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
        openssl("req", "-x509", *newkey, "-days", "2", "-subj", "/CN=py-ca", "-keyout",
                "ca.key", "-out", "ca.pem")
        for name, extensions in (
                ("server", "subjectAltName=DNS:mlpd.test\nextendedKeyUsage=serverAuth\n"),
                ("client", "extendedKeyUsage=clientAuth\n")):
            openssl("req", "-new", *newkey, "-subj", f"/CN={name}", "-keyout", f"{name}.key",
                    "-out", f"{name}.csr")
            with open(os.path.join(folder, f"{name}.ext"), "w") as file:
                file.write(extensions)
            openssl("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
                    "-CAcreateserial", "-days", "2", "-extfile", f"{name}.ext", "-out",
                    f"{name}.pem")
        with open(os.path.join(folder, "token"), "w") as file:
            file.write("py-token-7\n")
        cls.server = Server("--tls-cert", cls.file("server.pem"), "--tls-key",
                            cls.file("server.key"), "--tls-client-ca", cls.file("ca.pem"),
                            "--auth-token-file", cls.file("token"))

    @classmethod
    def file(cls, name):
        return os.path.join(cls.pki.name, name)

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()
        cls.pki.cleanup()

    def client(self, **options):
        tls = dict(tls_ca_file=self.file("ca.pem"), tls_cert_file=self.file("client.pem"),
                   tls_key_file=self.file("client.key"), tls_server_name="mlpd.test")
        tls.update(options)
        client = mlpd.Client(self.server.address, timeout=10, **tls)
        self.addCleanup(client.close)
        return client

    def test_token_and_client_certificate_are_accepted(self):
        self.assertEqual(self.client(token="py-token-7").list_sessions(), [])

    def test_missing_or_wrong_token_is_unauthenticated(self):
        with self.assertRaises(mlpd.Unauthenticated):
            self.client().list_sessions()
        with self.assertRaises(mlpd.Unauthenticated) as caught:
            self.client(token="wrong").list_sessions()
        self.assertEqual(caught.exception.code, grpc.StatusCode.UNAUTHENTICATED)

    def test_wrong_server_name_or_no_client_certificate_cannot_connect(self):
        with self.assertRaises(mlpd.Unavailable):
            self.client(token="py-token-7", tls_server_name="other.test").list_sessions()
        with self.assertRaises(mlpd.Unavailable):
            self.client(token="py-token-7", tls_cert_file=None,
                        tls_key_file=None).list_sessions()

    def test_inconsistent_tls_options_are_refused_before_connecting(self):
        with self.assertRaisesRegex(ValueError, "needs both or neither"):
            mlpd.Client(self.server.address, tls_ca_file=self.file("ca.pem"),
                        tls_cert_file=self.file("client.pem"))
        with self.assertRaisesRegex(ValueError, "need tls_ca_file"):
            mlpd.Client(self.server.address, tls_server_name="mlpd.test")
        with self.assertRaisesRegex(ValueError, "tls_ca_file is '/no/such.pem'"):
            mlpd.Client(self.server.address, tls_ca_file="/no/such.pem")


if __name__ == "__main__":
    if not MLPD_BIN:
        sys.exit("MLPD_BIN must name the mlpd binary")
    unittest.main()
