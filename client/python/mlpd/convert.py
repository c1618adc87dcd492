"""The package's types to and from mlpd.v1 messages; the only module that names wire fields.

Enum values are looked up by name in the generated descriptors: a wire value is the member's
name prefixed by its enum type (LossKind's "LOSS_KIND_MSE", as Google's API guidelines ask).
Hyperparameters left None are left unset, so the server applies its default; any other value,
0 included, is sent (those fields have presence on the wire).
"""
import dataclasses
import re

from mlpd import results, spec
from mlpd.v1 import mlpd_pb2, model_pb2


def _type_prefix(enum_type):
    """"LossKind" -> "LOSS_KIND_"."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", enum_type.DESCRIPTOR.name).upper() + "_"


def wire_number(enum_type, bare_name):
    """The number of value `bare_name` ("RELU") in the generated `enum_type` ("ACTIVATION_")."""
    name = _type_prefix(enum_type) + bare_name
    if name not in enum_type.keys():
        raise ValueError(f"{enum_type.DESCRIPTOR.name} has no value {name}")
    return enum_type.Value(name)


def to_wire(enum_type, member):
    """The wire number of `member` (a spec choice) in the generated `enum_type`."""
    return wire_number(enum_type, member.name)


def from_wire(enum_type, kind, number):
    """The `kind` member of wire value `number`; None for UNSPECIFIED or unknown values."""
    try:
        name = enum_type.Name(number)
    except ValueError:
        return None
    prefix = _type_prefix(enum_type)
    if not name.startswith(prefix):
        return None
    return kind.__members__.get(name[len(prefix):])


def _set_optional(message, field_name, value):
    """Sets a field with presence; None leaves it unset (the server's default)."""
    if value is not None:
        setattr(message, field_name, value)


def _get_optional(message, field_name):
    """A field with presence, or None when unset."""
    return getattr(message, field_name) if message.HasField(field_name) else None


def spec_to_wire(model):
    """A model_pb2.ModelSpec from a spec.ModelSpec."""
    wire = model_pb2.ModelSpec(input_size=model.input_size)
    for layer in model.layers:
        wire.layers.add(units=layer.units,
                        activation=to_wire(model_pb2.Activation, layer.activation))
    wire.loss.kind = to_wire(model_pb2.LossKind, model.loss)
    if model.reduction is not None:
        wire.loss.reduction = to_wire(model_pb2.Reduction, model.reduction)
    wire.optimizer.kind = to_wire(model_pb2.OptimizerKind, model.optimizer)
    wire.optimizer.learning_rate = model.learning_rate
    for name in ("momentum", "beta1", "beta2", "epsilon"):
        _set_optional(wire.optimizer, name, getattr(model, name))
    wire.init.kind = to_wire(model_pb2.InitKind, model.init)
    if model.init_scale is not None:
        if model.init_scale == 0:
            raise ValueError("init_scale=0 cannot be sent: the wire reads 0 as 'no scale'; "
                             "pass None for inits that take none")
        wire.init.scale = model.init_scale
    wire.init.seed = model.seed
    return wire


def spec_from_wire(wire):
    """A spec.ModelSpec from a model_pb2.ModelSpec (as the server reports it)."""
    optimizer = wire.optimizer
    return spec.ModelSpec(
        input_size=wire.input_size,
        layers=[spec.Layer(layer.units,
                           from_wire(model_pb2.Activation, spec.Activation, layer.activation))
                for layer in wire.layers],
        loss=from_wire(model_pb2.LossKind, spec.Loss, wire.loss.kind),
        reduction=from_wire(model_pb2.Reduction, spec.Reduction, wire.loss.reduction),
        optimizer=from_wire(model_pb2.OptimizerKind, spec.Optimizer, optimizer.kind),
        learning_rate=optimizer.learning_rate,
        momentum=_get_optional(optimizer, "momentum"),
        beta1=_get_optional(optimizer, "beta1"),
        beta2=_get_optional(optimizer, "beta2"),
        epsilon=_get_optional(optimizer, "epsilon"),
        init=from_wire(model_pb2.InitKind, spec.Init, wire.init.kind),
        init_scale=wire.init.scale or None,
        seed=wire.init.seed)


def session_from_wire(info):
    """A results.SessionInfo from an mlpd_pb2.SessionInfo."""
    return results.SessionInfo(
        name=info.name, spec=spec_from_wire(info.spec), parameter_count=info.parameter_count,
        step_count=info.step_count, samples_seen=info.samples_seen,
        last_loss=_get_optional(info, "last_loss"),
        create_time_unix_ms=info.create_time_unix_ms,
        update_time_unix_ms=info.update_time_unix_ms)


def server_info_from_wire(info):
    """A results.ServerInfo from an mlpd_pb2.ServerInfo."""
    limits = results.ServerLimits(**{field.name: getattr(info.limits, field.name)
                                     for field in dataclasses.fields(results.ServerLimits)})
    return results.ServerInfo(version=info.version, api=info.api, build=info.build,
                              limits=limits, features=tuple(info.features),
                              start_time_unix_ms=info.start_time_unix_ms)


def dataset_from_wire(info):
    """A results.DatasetInfo from an mlpd_pb2.DatasetInfo."""
    return results.DatasetInfo(
        name=info.name, rows=info.rows, input_size=info.input_size,
        target_size=info.target_size, has_labels=info.has_labels, bytes=info.bytes,
        create_time_unix_ms=info.create_time_unix_ms)


def evaluation_from_wire(result):
    """A results.Evaluation from an mlpd_pb2.EvalResult."""
    return results.Evaluation(loss=result.loss, error_rate=_get_optional(result, "error_rate"),
                              count=result.count)


def _train_eval(report):
    """The evaluation carried by a TrainProgress or TrainSummary, or None."""
    return evaluation_from_wire(report.eval) if report.HasField("eval") else None


def job_from_wire(job):
    """A results.Job from an mlpd_pb2.Job."""
    try:
        state = mlpd_pb2.JobState.Name(job.state)[len(_type_prefix(mlpd_pb2.JobState)):]
    except ValueError:  # A state newer than this package: its number.
        state = str(job.state)
    return results.Job(
        id=job.id, session=job.session, dataset=job.dataset, state=state, done=job.done,
        steps_done=job.steps_done, steps_total=job.steps_total,
        error=job.error.message if job.HasField("error") else None)


def history_point_from_wire(point):
    """A results.HistoryPoint from an mlpd_pb2.HistoryPoint."""
    return results.HistoryPoint(
        step=point.step, time_unix_ms=point.time_unix_ms, train_loss=point.train_loss,
        samples_per_second=point.samples_per_second,
        eval=evaluation_from_wire(point.eval) if point.HasField("eval") else None)


def train_event_from_wire(response):
    """A results.TrainProgress or results.TrainSummary from an mlpd_pb2.TrainResponse."""
    if response.HasField("progress"):
        progress = response.progress
        return results.TrainProgress(
            epoch=progress.epoch, step=progress.step, steps_done=progress.steps_done,
            steps_total=progress.steps_total, loss=progress.loss,
            samples_per_second=progress.samples_per_second, eval=_train_eval(progress))
    summary = response.summary
    return results.TrainSummary(
        steps=summary.steps, epochs=summary.epochs, step=summary.step,
        last_loss=summary.last_loss, seconds=summary.seconds, eval=_train_eval(summary))

