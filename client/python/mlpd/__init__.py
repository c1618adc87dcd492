"""mlpd: the Python client of the mlpd service, which trains multi-layer perceptrons.

    import mlpd, numpy as np
    c = mlpd.Client("127.0.0.1:50051")
    c.create_session("xor", input_size=2, layers=[(8, "tanh"), (1, "identity")],
                     loss="mse", optimizer="adam", learning_rate=0.05, seed=7)
    x = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], np.float32)
    y = np.array([0, 1, 1, 0], np.float32)
    print([c.train_step("xor", x, y) for _ in range(300)][-1], c.predict("xor", x))

The generated stubs live in mlpd.v1 (built from the service's .proto files at install time);
everything else here speaks plain Python, numpy and the enums of mlpd.spec.
"""
from mlpd.client import Client, DEFAULT_CHUNK_BYTES, DEFAULT_MAX_MESSAGE_BYTES
from mlpd.errors import (Aborted, AlreadyExists, Cancelled, DeadlineExceeded, Error,
                         FailedPrecondition, Internal, InvalidArgument, NotFound,
                         PermissionDenied, ResourceExhausted, Unauthenticated, Unavailable,
                         Unimplemented)
from mlpd.results import (DatasetInfo, Evaluation, HistoryPoint, Job, ServerInfo, ServerLimits,
                          SessionInfo, StepResult, TrainProgress, TrainSummary)
from mlpd.spec import Activation, Init, Layer, Loss, ModelSpec, Optimizer, Reduction

__version__ = "0.1.0"
