"""What mlpd answers, as plain dataclasses (no protobuf types leak out of the package).

A value the server has not got yet is None: SessionInfo.last_loss before the first step,
Evaluation.error_rate when the data is not classification, TrainProgress.eval without an
evaluation dataset.
"""
import dataclasses
from typing import Optional

from mlpd.spec import ModelSpec


@dataclasses.dataclass(frozen=True)
class SessionInfo:
    """SessionInfo describes a session; `spec` has the server's defaults filled in."""

    name: str
    spec: ModelSpec
    parameter_count: int
    step_count: int
    samples_seen: int
    last_loss: Optional[float]
    create_time_unix_ms: int
    update_time_unix_ms: int


@dataclasses.dataclass(frozen=True)
class DatasetInfo:
    """DatasetInfo describes an uploaded dataset (target_size is 0 when it has labels)."""

    name: str
    rows: int
    input_size: int
    target_size: int
    has_labels: bool
    bytes: int
    create_time_unix_ms: int


@dataclasses.dataclass(frozen=True)
class StepResult:
    """StepResult of train_step: the batch's loss before the update, the step count after."""

    loss: float
    step: int


@dataclasses.dataclass(frozen=True)
class Evaluation:
    """Evaluation: loss with the session's loss and reduction; error_rate for classification.

    count is the rows evaluated.
    """

    loss: float
    error_rate: Optional[float]
    count: int


@dataclasses.dataclass(frozen=True)
class TrainProgress:
    """TrainProgress is one report while train() runs."""

    epoch: int
    step: int
    steps_done: int
    steps_total: int
    loss: float
    samples_per_second: float
    eval: Optional[Evaluation]


@dataclasses.dataclass(frozen=True)
class TrainSummary:
    """TrainSummary is the last event of train()."""

    steps: int
    epochs: int
    step: int
    last_loss: float
    seconds: float
    eval: Optional[Evaluation]


@dataclasses.dataclass(frozen=True)
class Job:
    """Job: a training run the server owns. state is "QUEUED", "RUNNING", "SUCCEEDED",
    "FAILED" or "CANCELLED"; error names the cause of a failed or cancelled job."""

    id: str
    session: str
    dataset: str
    state: str
    done: bool
    steps_done: int
    steps_total: int
    error: Optional[str]


@dataclasses.dataclass(frozen=True)
class HistoryPoint:
    """HistoryPoint: one point of a session's learning curve (eval when it was evaluated)."""

    step: int
    time_unix_ms: int
    train_loss: float
    samples_per_second: float
    eval: Optional[Evaluation]


@dataclasses.dataclass(frozen=True)
class ServerLimits:
    """ServerLimits: the limits the server enforces (its flags); 0 is "no limit" where the
    flag says so."""

    max_message_bytes: int
    max_session_params: int
    max_sessions: int
    max_sessions_bytes: int
    max_datasets: int
    max_datasets_bytes: int
    max_call_activation_bytes: int
    max_queue: int
    max_trains: int


@dataclasses.dataclass(frozen=True)
class ServerInfo:
    """ServerInfo: the server's version, API and build, its limits and its features (sorted
    names such as "expected_step", "jobs", "data_dir")."""

    version: str
    api: str
    build: str
    limits: ServerLimits
    features: tuple
    start_time_unix_ms: int
