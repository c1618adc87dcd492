"""Numpy arrays to and from the packed repeated fields of mlpd.v1, without Python lists.

A packed `repeated float` is a length-delimited field whose payload is the little-endian
float32 values back to back, so an array's bytes are its wire form: encoding writes a field
header before them and decoding views them with numpy. Going through a protobuf repeated
container instead costs one Python object per element (about 100x slower for 784,000 values).

Field numbers come from the generated descriptors, so nothing here repeats the .proto.
"""
import numpy as np

from mlpd.v1 import mlpd_pb2

_LENGTH_DELIMITED = 2
_VARINT = 0
_FIXED64 = 1
_FIXED32 = 5
_LITTLE_FLOAT32 = np.dtype("<f4")
# Up to this many values (or payload bytes), varints are coded in a Python loop.
_FEW = 16


def field_number(message_class, field_name):
    """The number of `field_name` in a generated message class."""
    return message_class.DESCRIPTOR.fields_by_name[field_name].number


_TENSOR_SHAPE = field_number(mlpd_pb2.Tensor, "shape")
_TENSOR_DATA = field_number(mlpd_pb2.Tensor, "data")
_BATCH_X = field_number(mlpd_pb2.Batch, "x")
_BATCH_TARGETS = field_number(mlpd_pb2.Batch, "targets")
_BATCH_LABELS = field_number(mlpd_pb2.Batch, "labels")
_PREDICTION_OUTPUTS = field_number(mlpd_pb2.PredictResponse, "outputs")
_PREDICTION_CLASSES = field_number(mlpd_pb2.PredictResponse, "classes")


def _varint(value):
    """The varint bytes of a non-negative Python int."""
    out = bytearray()
    while True:
        low = value & 0x7F
        value >>= 7
        if value:
            out.append(low | 0x80)
        else:
            out.append(low)
            return bytes(out)


def varints(values):
    """The packed varint payload of an integer array, as int32/int64 fields encode it.

    Negative values take ten bytes (two's complement over 64 bits), as protobuf writes them.
    """
    wide = np.ascontiguousarray(values, dtype=np.int64).view(np.uint64).ravel()
    if wide.size <= _FEW:  # A shape: a loop costs less than the array operations below.
        return b"".join(_varint(int(value)) for value in wide)
    if int(wide.max()) < 0x80:  # The common case: class labels below 128.
        return wide.astype(np.uint8).tobytes()
    groups = np.empty((wide.size, 10), dtype=np.uint8)
    lengths = np.ones(wide.size, dtype=np.int64)
    rest = wide.copy()
    for index in range(10):
        groups[:, index] = (rest & np.uint64(0x7F)).astype(np.uint8)
        rest >>= np.uint64(7)
        more = rest != 0
        groups[more, index] |= 0x80
        lengths += more
    keep = np.arange(10) < lengths[:, None]
    return groups[keep].tobytes()


def field(number, parts):
    """A length-delimited field around `parts` (bytes-like objects), as a list of parts.

    The payload is not copied here; b"".join over the whole message copies it once.
    """
    size = sum(memoryview(part).nbytes for part in parts)
    return [_varint(number << 3 | _LENGTH_DELIMITED), _varint(size), *parts]


def tensor(array, what):
    """The parts of a Tensor message holding `array` (any real dtype, cast to float32)."""
    array = np.asarray(array)
    if array.dtype.kind not in "fiub":
        raise TypeError(f"{what} must be a numeric array, got dtype {array.dtype}")
    array = np.ascontiguousarray(array, dtype=_LITTLE_FLOAT32)
    parts = []
    if array.ndim:
        parts += field(_TENSOR_SHAPE, [varints(np.array(array.shape, dtype=np.int64))])
    if array.size:
        parts += field(_TENSOR_DATA, [memoryview(array).cast("B")])
    return parts


def check_batch(x, y):
    """(x, y) as arrays the wire takes, or ValueError/TypeError saying what is wrong.

    x is [N, in]; y is float targets [N, out] (a 1-D float y is one target per row) or
    integer class labels [N].
    """
    x = np.asarray(x)
    y = np.asarray(y)
    if x.ndim != 2:
        raise ValueError(f"x must be 2-D [rows, features], got shape {x.shape}")
    if x.dtype.kind not in "fiub":
        raise TypeError(f"x must be a numeric array, got dtype {x.dtype}")
    if y.dtype.kind in "iu":
        if y.ndim != 1:
            raise ValueError(f"integer y (class labels) must be 1-D [rows], got shape {y.shape}")
        if y.size and (y.min() < np.iinfo(np.int32).min or y.max() > np.iinfo(np.int32).max):
            raise ValueError("class labels in y must fit in int32")
    elif y.dtype.kind in "fb":
        if y.ndim == 1:
            y = y.reshape(-1, 1)
        if y.ndim != 2:
            raise ValueError(f"float y (targets) must be [rows, outputs], got shape {y.shape}")
    else:
        raise TypeError(f"y must be float targets or integer labels, got dtype {y.dtype}")
    if y.shape[0] != x.shape[0]:
        raise ValueError(f"x has {x.shape[0]} rows and y has {y.shape[0]}")
    return x, y


def batch(x, y):
    """The parts of a Batch message of x and y (see check_batch)."""
    x, y = check_batch(x, y)
    parts = field(_BATCH_X, tensor(x, "x"))
    if y.dtype.kind in "iu":
        if y.size:
            parts += field(_BATCH_LABELS, [varints(y)])
    else:
        parts += field(_BATCH_TARGETS, tensor(y, "y"))
    return parts


def _read_varint(buffer, position):
    result = 0
    shift = 0
    while True:
        byte = buffer[position]
        position += 1
        result |= (byte & 0x7F) << shift
        if byte < 0x80:
            return result, position
        shift += 7


def _fields(buffer, start, end):
    """Yields (number, wire type, value start, value end) of each field in buffer[start:end].

    For varints, value start is the decoded value and value end the position after it.
    """
    position = start
    while position < end:
        key, position = _read_varint(buffer, position)
        number, wire_type = key >> 3, key & 7
        if wire_type == _VARINT:
            value, position = _read_varint(buffer, position)
            yield number, wire_type, value, position
        elif wire_type == _LENGTH_DELIMITED:
            size, position = _read_varint(buffer, position)
            yield number, wire_type, position, position + size
            position += size
        elif wire_type == _FIXED32:
            yield number, wire_type, position, position + 4
            position += 4
        elif wire_type == _FIXED64:
            yield number, wire_type, position, position + 8
            position += 8
        else:
            raise ValueError(f"unexpected wire type {wire_type}")


def decode_varints(payload):
    """Decodes a packed varint payload into an int64 array (int32 values sign-extended)."""
    if len(payload) <= _FEW:  # A shape: a loop costs less than the array operations below.
        values, position = [], 0
        while position < len(payload):
            value, position = _read_varint(payload, position)
            values.append(value)
        return np.array(values, dtype=np.uint64).view(np.int64)
    data = np.frombuffer(payload, dtype=np.uint8)
    last = data < 0x80
    if last.all():
        return data.astype(np.int64)
    value_of_byte = np.concatenate(([0], np.cumsum(last)[:-1]))
    starts = np.flatnonzero(np.concatenate(([True], last[:-1])))
    position_in_value = np.arange(data.size) - starts[value_of_byte]
    pieces = (data & 0x7F).astype(np.uint64) << (np.uint64(7) * position_in_value.astype(np.uint64))
    return np.add.reduceat(pieces, starts).view(np.int64)


class _Unpacked(ValueError):
    """A repeated field arrived unpacked (legal protobuf, never written by mlpd's server)."""


def _decode_tensor(buffer, start, end):
    shape = np.zeros(0, dtype=np.int64)
    data = np.zeros(0, dtype=_LITTLE_FLOAT32)
    for number, wire_type, value_start, value_end in _fields(buffer, start, end):
        if wire_type != _LENGTH_DELIMITED:
            if number in (_TENSOR_SHAPE, _TENSOR_DATA):
                raise _Unpacked("tensor")
            continue
        if number == _TENSOR_SHAPE:
            shape = decode_varints(buffer[value_start:value_end])
        elif number == _TENSOR_DATA:
            data = np.frombuffer(buffer, dtype=_LITTLE_FLOAT32,
                                 count=(value_end - value_start) // 4, offset=value_start)
    if shape.size == 0:
        shape = np.array([data.size], dtype=np.int64)
    if int(np.prod(shape)) != data.size:
        raise ValueError(f"tensor of shape {shape.tolist()} carries {data.size} values")
    # A copy: a view of the response bytes would be read-only.
    return data.reshape(shape).astype(np.float32)


def decode_prediction(buffer):
    """(outputs [N, out] float32, classes [N] int32) of a serialized PredictResponse."""
    try:
        return _decode_packed_prediction(memoryview(buffer))
    except _Unpacked:
        response = mlpd_pb2.PredictResponse.FromString(bytes(buffer))
        outputs = np.array(response.outputs.data, dtype=np.float32)
        shape = tuple(response.outputs.shape)
        return outputs.reshape(shape), np.array(response.classes, dtype=np.int32)


def _decode_packed_prediction(buffer):
    outputs = np.zeros((0, 0), dtype=np.float32)
    classes = np.zeros(0, dtype=np.int32)
    for number, wire_type, value_start, value_end in _fields(buffer, 0, len(buffer)):
        if number == _PREDICTION_OUTPUTS and wire_type == _LENGTH_DELIMITED:
            outputs = _decode_tensor(buffer, value_start, value_end)
        elif number == _PREDICTION_CLASSES:
            if wire_type != _LENGTH_DELIMITED:
                raise _Unpacked("classes")
            classes = decode_varints(buffer[value_start:value_end]).astype(np.int32)
    return outputs, classes
