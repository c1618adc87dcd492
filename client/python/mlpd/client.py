"""Client: one gRPC channel to an mlpd server, one method per call of the mlpd.v1 API.

    client = mlpd.Client("127.0.0.1:50051")
    client.create_session("xor", input_size=2, layers=[(8, "tanh"), (1, "identity")],
                          loss="mse", optimizer="adam", learning_rate=0.05, seed=7)
    client.train_step("xor", x, y)          # numpy arrays: x [N, 2], y [N, 1]
    outputs = client.predict("xor", x)      # numpy float32 [N, 1]

Every method blocks and raises an mlpd.Error subclass when the server refuses (see errors.py).
Arrays travel as their bytes (wire_arrays.py), never as Python lists. Session-scoped calls carry
the routing header `x-mlpd-session`, so a proxy in front of several servers sends every call of
a session to the server that holds it. Calls naming a dataset carry routing_session= when given,
else the dataset's name, so they find it again; train(..., upload_from=(x, y)) and
place_dataset() put a dataset beside the session that trains on it.
"""
import os

import grpc
import numpy as np

from mlpd import convert, errors, results, spec, wire_arrays
from mlpd.v1 import mlpd_pb2, mlpd_pb2_grpc

# DEFAULT_MAX_MESSAGE_BYTES matches the server's default --max-message-mb (64).
DEFAULT_MAX_MESSAGE_BYTES = 64 << 20
# DEFAULT_CHUNK_BYTES bounds one upload or predict message: far below any sane message limit,
# large enough that the per-message cost stays small next to the copy.
DEFAULT_CHUNK_BYTES = 4 << 20
SESSION_HEADER = "x-mlpd-session"
# The timeout of a call that passes none: the Client's.
_CLIENT_DEFAULT = object()


def _read_pem(option, path):
    try:
        with open(path, "rb") as file:
            return file.read()
    except OSError as error:
        raise ValueError(f"{option} is {path!r}: {error.strerror}") from None


def _channel(target, tls_ca_file, tls_cert_file, tls_key_file, tls_server_name, options):
    """A plaintext channel, or TLS (mutual with a client certificate), as mlpctl's flags."""
    if bool(tls_cert_file) != bool(tls_key_file):
        raise ValueError(f"tls_cert_file is {tls_cert_file!r} and tls_key_file is "
                         f"{tls_key_file!r}; a client certificate needs both or neither")
    if not tls_ca_file:
        if tls_cert_file or tls_server_name:
            raise ValueError("tls_cert_file, tls_key_file and tls_server_name need tls_ca_file "
                             "(the CA that signed the server's certificate)")
        return grpc.insecure_channel(target, options=options)
    credentials = grpc.ssl_channel_credentials(
        root_certificates=_read_pem("tls_ca_file", tls_ca_file),
        private_key=_read_pem("tls_key_file", tls_key_file) if tls_key_file else None,
        certificate_chain=_read_pem("tls_cert_file", tls_cert_file) if tls_cert_file else None)
    if tls_server_name:
        options = options + [("grpc.ssl_target_name_override", tls_server_name)]
    return grpc.secure_channel(target, credentials, options=options)


class Client:
    """Client of one mlpd server. Thread-safe; close() it (or use `with`) when done.

    target: "host:port" or "unix:/path/to/socket". token: sent as "authorization: Bearer".
    tls_ca_file: PEM of the CA that signed the server's certificate (TLS; plaintext without);
    tls_cert_file and tls_key_file: a client certificate for mutual TLS; tls_server_name:
    the name checked against the server's certificate. timeout: seconds each call may take
    unless it says otherwise (None: no deadline); train() has none by default.
    """

    def __init__(self, target="127.0.0.1:50051", *, token=None, tls_ca_file=None,
                 tls_cert_file=None, tls_key_file=None, tls_server_name=None, timeout=60.0,
                 max_message_bytes=DEFAULT_MAX_MESSAGE_BYTES, chunk_bytes=DEFAULT_CHUNK_BYTES):
        if max_message_bytes <= 0:
            raise ValueError(f"max_message_bytes is {max_message_bytes}, expected > 0")
        if chunk_bytes <= 0:
            raise ValueError(f"chunk_bytes is {chunk_bytes}, expected > 0")
        options = [("grpc.max_send_message_length", max_message_bytes),
                   ("grpc.max_receive_message_length", max_message_bytes)]
        self._channel = _channel(target, tls_ca_file, tls_cert_file, tls_key_file,
                                 tls_server_name, options)
        self._stub = mlpd_pb2_grpc.MlpdStub(self._channel)
        self._token = token
        self._timeout = timeout
        self._chunk_bytes = chunk_bytes
        # The calls that carry arrays take and give bytes, so the arrays skip protobuf objects.
        service = mlpd_pb2.DESCRIPTOR.services_by_name["Mlpd"]

        def raw(kind, method):
            return kind(f"/{service.full_name}/{method}", request_serializer=None,
                        response_deserializer=None)

        self._train_step = raw(self._channel.unary_unary, "TrainStep")
        self._predict = raw(self._channel.unary_unary, "Predict")
        self._evaluate = raw(self._channel.unary_unary, "Evaluate")
        self._upload = raw(self._channel.stream_unary, "UploadDataset")

    def close(self):
        """Closes the channel; calls in flight are cancelled."""
        self._channel.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()

    # --- plumbing -------------------------------------------------------------------------

    def _metadata(self, routing):
        metadata = []
        if self._token:
            metadata.append(("authorization", f"Bearer {self._token}"))
        if routing:
            metadata.append((SESSION_HEADER, routing))
        return metadata

    def _deadline(self, timeout):
        return self._timeout if timeout is _CLIENT_DEFAULT else timeout

    def _call(self, method, request, routing=None, timeout=_CLIENT_DEFAULT):
        try:
            return method(request, metadata=self._metadata(routing),
                          timeout=self._deadline(timeout))
        except grpc.RpcError as error:
            raise errors.from_rpc_error(error) from None

    # --- the server -----------------------------------------------------------------------

    def server_info(self, *, timeout=_CLIENT_DEFAULT):
        """The server's version, API, build, limits in force and features (a ServerInfo)."""
        return convert.server_info_from_wire(
            self._call(self._stub.GetServerInfo, mlpd_pb2.GetServerInfoRequest(), None, timeout))

    # --- sessions -------------------------------------------------------------------------

    def create_session(self, name, model=None, *, timeout=_CLIENT_DEFAULT, **spec_fields):
        """Creates session `name` from `model` (a ModelSpec) or ModelSpec's keyword arguments:

            create_session("digits", input_size=784, layers=[(256, "relu"), (10, "identity")],
                           loss="cross_entropy", optimizer="adam", learning_rate=1e-3)
        Returns its SessionInfo; AlreadyExists when the name is taken.
        """
        if model is None:
            model = spec.ModelSpec(**spec_fields)
        elif spec_fields:
            raise TypeError("pass either a ModelSpec or its fields, not both")
        request = mlpd_pb2.CreateSessionRequest(name=name, spec=convert.spec_to_wire(model))
        return convert.session_from_wire(
            self._call(self._stub.CreateSession, request, name, timeout))

    def get_session(self, name, *, timeout=_CLIENT_DEFAULT):
        """SessionInfo of session `name`."""
        request = mlpd_pb2.GetSessionRequest(name=name)
        return convert.session_from_wire(
            self._call(self._stub.GetSession, request, name, timeout))

    def list_sessions(self, *, timeout=_CLIENT_DEFAULT):
        """SessionInfo of every session, in name order (all pages)."""
        return [convert.session_from_wire(info) for info in self._pages(
            self._stub.ListSessions, mlpd_pb2.ListSessionsRequest, "sessions", timeout)]

    def delete_session(self, name, *, timeout=_CLIENT_DEFAULT):
        """Deletes session `name`, its queued work and its files."""
        self._call(self._stub.DeleteSession, mlpd_pb2.DeleteSessionRequest(name=name), name,
                   timeout)

    def save_session(self, name, *, timeout=_CLIENT_DEFAULT):
        """Writes a durable snapshot of session `name`; returns the step count it holds."""
        response = self._call(self._stub.SaveSession, mlpd_pb2.SaveSessionRequest(name=name),
                              name, timeout)
        return response.step_count

    def _pages(self, method, request_type, field, timeout):
        items = []
        request = request_type(page_size=1000)
        while True:
            response = self._call(method, request, None, timeout)
            items.extend(getattr(response, field))
            if not response.next_page_token:
                return items
            request.page_token = response.next_page_token

    # --- compute --------------------------------------------------------------------------

    def train_step(self, name, x, y, *, expected_step=None, timeout=_CLIENT_DEFAULT):
        """One optimizer step on the batch x [N, in] with y: float targets [N, out] (or [N]
        for one output) or integer class labels [N]. Returns StepResult(loss, step).

        expected_step: the session's step count you last saw; the step applies only if the
        session is still at that count, else mlpd.Aborted and nothing changes. A retry with the same
        expected_step after a timeout therefore never applies twice."""
        head = mlpd_pb2.TrainStepRequest(name=name)
        if expected_step is not None:
            head.expected_step = expected_step
        request = b"".join([head.SerializeToString(),
                            *wire_arrays.field(_TRAIN_STEP_BATCH, wire_arrays.batch(x, y))])
        response = mlpd_pb2.TrainStepResponse.FromString(
            self._call(self._train_step, request, name, timeout))
        return results.StepResult(loss=response.loss, step=response.step)

    def predict(self, name, x, *, timeout=_CLIENT_DEFAULT):
        """The network's outputs for x [N, in] as a float32 array [N, out] (softmax
        probabilities for cross_entropy sessions)."""
        return self._predict_rows(name, x, timeout)[0]

    def predict_classes(self, name, x, *, timeout=_CLIENT_DEFAULT):
        """The predicted class of each row of x as an int32 array [N]: the argmax of the
        outputs, or +1/-1 for logistic sessions; empty for mse sessions with one output."""
        return self._predict_rows(name, x, timeout)[1]

    def _predict_rows(self, name, x, timeout):
        """(outputs, classes) of x, in calls of at most chunk_bytes of rows each."""
        x = np.asarray(x)
        if x.ndim != 2:
            raise ValueError(f"x must be 2-D [rows, features], got shape {x.shape}")
        rows_per_call = max(1, self._chunk_bytes // max(4 * x.shape[1], 1))
        prefix = mlpd_pb2.PredictRequest(name=name).SerializeToString()
        outputs, classes = [], []
        for begin in range(0, max(x.shape[0], 1), rows_per_call):
            rows = x[begin:begin + rows_per_call]
            request = b"".join([prefix, *wire_arrays.field(_PREDICT_X,
                                                           wire_arrays.tensor(rows, "x"))])
            part = wire_arrays.decode_prediction(
                self._call(self._predict, request, name, timeout))
            outputs.append(part[0])
            classes.append(part[1])
        if len(outputs) == 1:
            return outputs[0], classes[0]
        return np.concatenate(outputs), np.concatenate(classes)

    def evaluate(self, name, dataset=None, *, x=None, y=None, timeout=_CLIENT_DEFAULT):
        """Evaluates session `name` on an uploaded dataset or on the batch x, y (as
        train_step's). Returns Evaluation(loss, error_rate or None, count)."""
        if (dataset is None) == (x is None):
            raise TypeError("evaluate takes a dataset name or x and y, not both")
        if dataset is not None:
            request = mlpd_pb2.EvaluateRequest(name=name, dataset=dataset).SerializeToString()
        else:
            if y is None:
                raise TypeError("evaluate with x needs y")
            request = b"".join([mlpd_pb2.EvaluateRequest(name=name).SerializeToString(),
                                *wire_arrays.field(_EVALUATE_BATCH, wire_arrays.batch(x, y))])
        return convert.evaluation_from_wire(mlpd_pb2.EvalResult.FromString(
            self._call(self._evaluate, request, name, timeout)))

    # --- datasets -------------------------------------------------------------------------

    def upload_dataset(self, name, x, y, *, routing_session=None, timeout=_CLIENT_DEFAULT):
        """Uploads x [N, in] with y (targets or labels, as train_step's) as dataset `name`,
        streamed in chunks of at most chunk_bytes. Returns its DatasetInfo. The stream says
        its row count, so an upload cut short registers nothing."""
        # Checked here: an error raised while gRPC pulls the chunks would only cancel the call.
        x, y = wire_arrays.check_batch(x, y)
        row_bytes = 4 * (x.shape[1] + (y.shape[1] if y.ndim == 2 else 1))
        rows_per_chunk = max(1, self._chunk_bytes // max(row_bytes, 1))

        def chunks():
            # An empty dataset still sends one chunk, so the server names the problem.
            for begin in range(0, max(x.shape[0], 1), rows_per_chunk):
                end = begin + rows_per_chunk
                head = {"name": name, "total_rows": x.shape[0]} if begin == 0 else {}
                yield b"".join([
                    mlpd_pb2.UploadDatasetRequest(**head).SerializeToString(),
                    *wire_arrays.field(_UPLOAD_ROWS, wire_arrays.batch(x[begin:end],
                                                                        y[begin:end]))])

        return convert.dataset_from_wire(mlpd_pb2.DatasetInfo.FromString(
            self._call(self._upload, chunks(), routing_session or name, timeout)))

    def get_dataset(self, name, *, routing_session=None, timeout=_CLIENT_DEFAULT):
        """DatasetInfo of dataset `name`."""
        return convert.dataset_from_wire(
            self._call(self._stub.GetDataset, mlpd_pb2.GetDatasetRequest(name=name),
                       routing_session or name, timeout))

    def list_datasets(self, *, timeout=_CLIENT_DEFAULT):
        """DatasetInfo of every dataset, in name order (all pages)."""
        return [convert.dataset_from_wire(info) for info in self._pages(
            self._stub.ListDatasets, mlpd_pb2.ListDatasetsRequest, "datasets", timeout)]

    def delete_dataset(self, name, *, routing_session=None, timeout=_CLIENT_DEFAULT):
        """Deletes dataset `name` and its files."""
        self._call(self._stub.DeleteDataset, mlpd_pb2.DeleteDatasetRequest(name=name),
                   routing_session or name, timeout)

    def place_dataset(self, session, name, x, y, *, timeout=_CLIENT_DEFAULT):
        """Makes sure the server of `session` holds dataset `name`, uploading x, y there (as
        upload_dataset's) only when it does not. Returns (DatasetInfo, uploaded): the dataset
        as that server holds it, and whether this call uploaded it."""
        try:
            return self.get_dataset(name, routing_session=session, timeout=timeout), False
        except errors.NotFound:
            pass
        try:
            return self.upload_dataset(name, x, y, routing_session=session,
                                       timeout=timeout), True
        except errors.AlreadyExists:  # Another client's upload of it won the race.
            return self.get_dataset(name, routing_session=session, timeout=timeout), False

    # --- training -------------------------------------------------------------------------

    def train(self, name, dataset, epochs, *, batch_size=0, shuffle=False, seed=0,
              eval_dataset=None, report_every_steps=0, upload_from=None, timeout=None):
        """Trains session `name` over an uploaded dataset for `epochs` epochs, yielding a
        TrainProgress per report (every report_every_steps steps, or once per epoch) and the
        TrainSummary last. batch_size 0 is the whole dataset in one batch. With
        upload_from=(x, y), place_dataset() first puts them as `dataset` on the session's
        server unless it has that dataset already.

        Closing the generator early (break, or an exception in the loop) cancels the call:
        the server stops between mini-batches, and steps already applied stay applied.
        """
        request = mlpd_pb2.TrainRequest(
            name=name, dataset=dataset, epochs=epochs, batch_size=batch_size, shuffle=shuffle,
            seed=seed, eval_dataset=eval_dataset or "", report_every_steps=report_every_steps)
        if upload_from is not None:
            self.place_dataset(name, dataset, *upload_from)
        call = self._stub.Train(request, metadata=self._metadata(name), timeout=timeout)
        try:
            for response in call:
                yield convert.train_event_from_wire(response)
        except grpc.RpcError as error:
            raise errors.from_rpc_error(error) from None
        finally:
            call.cancel()  # No effect once the stream has ended.

    def start_training(self, name, dataset, epochs, *, batch_size=0, shuffle=False, seed=0,
                       eval_dataset=None, report_every_steps=0, timeout=_CLIENT_DEFAULT):
        """Starts train()'s run as a job the server owns (it outlives this client) and returns
        its Job at once; follow it with watch_job or get_job."""
        request = mlpd_pb2.TrainRequest(
            name=name, dataset=dataset, epochs=epochs, batch_size=batch_size, shuffle=shuffle,
            seed=seed, eval_dataset=eval_dataset or "", report_every_steps=report_every_steps)
        return convert.job_from_wire(
            self._call(self._stub.StartTraining, request, name, timeout))

    def get_job(self, job_id, *, session=None, timeout=_CLIENT_DEFAULT):
        """The Job `job_id` (session: its session's name, for the routing header)."""
        return convert.job_from_wire(self._call(
            self._stub.GetJob, mlpd_pb2.GetJobRequest(id=job_id), session, timeout))

    def watch_job(self, job_id, *, session=None, timeout=None):
        """Yields the Job's state, then a TrainProgress per report and the TrainSummary last;
        a job that fails or is cancelled raises its error instead of the summary."""
        call = self._stub.WatchJob(mlpd_pb2.WatchJobRequest(id=job_id),
                                   metadata=self._metadata(session), timeout=timeout)
        try:
            for response in call:
                if response.HasField("job"):
                    yield convert.job_from_wire(response.job)
                else:
                    yield convert.train_event_from_wire(response)
        except grpc.RpcError as error:
            raise errors.from_rpc_error(error) from None
        finally:
            call.cancel()  # No effect once the stream has ended.

    def get_history(self, name, *, from_step=0, max_points=0, timeout=_CLIENT_DEFAULT):
        """Session `name`'s learning curve in step order, as HistoryPoints (max_points: at most
        that many, evenly thinned by the server; 0: all)."""
        request = mlpd_pb2.GetHistoryRequest(name=name, from_step=from_step,
                                             max_points=max_points)
        response = self._call(self._stub.GetHistory, request, name, timeout)
        return [convert.history_point_from_wire(point) for point in response.points]

    # --- models ---------------------------------------------------------------------------

    def export_native(self, name, *, timeout=_CLIENT_DEFAULT):
        """Session `name` as NATIVE bytes (a serialized Checkpoint) for import_native."""
        return self._export(name, "NATIVE", timeout)

    def import_native(self, name, data, *, timeout=_CLIENT_DEFAULT):
        """Creates session `name` from export_native's bytes, streamed in chunks of at most
        chunk_bytes (the stream says its length, so one cut short makes nothing); returns its
        SessionInfo."""
        view = memoryview(data).cast("B")
        native = convert.wire_number(mlpd_pb2.ExportFormat, "NATIVE")

        def chunks():
            # Empty data still sends one chunk, so the server names the problem.
            for begin in range(0, max(len(view), 1), self._chunk_bytes):
                head = ({"name": name, "format": native, "total_bytes": len(view)}
                        if begin == 0 else {})
                yield mlpd_pb2.ImportSessionRequest(
                    data=view[begin:begin + self._chunk_bytes].tobytes(), **head)

        return convert.session_from_wire(
            self._call(self._stub.ImportSession, chunks(), name, timeout))

    def export_onnx(self, name, path=None, *, timeout=_CLIENT_DEFAULT):
        """Session `name` as an ONNX model (input "x" [N, in], output "y"): written to `path`
        when given (replacing it whole), else returned as bytes."""
        data = self._export(name, "ONNX", timeout)
        if path is None:
            return data
        partial = f"{os.fspath(path)}.partial"
        with open(partial, "wb") as file:
            file.write(data)
        os.replace(partial, path)
        return None

    def _export(self, name, format_name, timeout):
        """The export's stream of chunks, joined."""
        request = mlpd_pb2.ExportSessionRequest(
            name=name, format=convert.wire_number(mlpd_pb2.ExportFormat, format_name))
        call = self._call(self._stub.ExportSession, request, name, timeout)
        try:
            chunks = [chunk for chunk in call]
        except grpc.RpcError as error:
            raise errors.from_rpc_error(error) from None
        data = b"".join(chunk.data for chunk in chunks)
        if not chunks or len(data) != chunks[0].total_bytes:
            announced = chunks[0].total_bytes if chunks else "nothing"
            raise errors.Internal(f"the export stream ended after {len(data)} bytes in "
                                  f"{len(chunks)} chunks; it announced {announced}")
        return data



_TRAIN_STEP_BATCH = wire_arrays.field_number(mlpd_pb2.TrainStepRequest, "batch")
_PREDICT_X = wire_arrays.field_number(mlpd_pb2.PredictRequest, "x")
_EVALUATE_BATCH = wire_arrays.field_number(mlpd_pb2.EvaluateRequest, "batch")
_UPLOAD_ROWS = wire_arrays.field_number(mlpd_pb2.UploadDatasetRequest, "rows")
