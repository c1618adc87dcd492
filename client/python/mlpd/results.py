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
