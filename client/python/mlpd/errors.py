"""The exceptions of the mlpd client: one class per gRPC status code the server answers with.

Every failed call raises a subclass of `mlpd.Error`, which carries the gRPC code and the
server's message (which names the field and the expected and received values):

    try:
        client.predict("digits", x)
    except mlpd.NotFound:
        ...                      # no such session
    except mlpd.Error as error:
        print(error.code.name, error.message)
"""
import grpc


class Error(Exception):
    """Error is the base of every exception a call raises; `code` is a grpc.StatusCode."""

    code = grpc.StatusCode.UNKNOWN

    def __init__(self, message, code=None):
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code

    def __str__(self):
        return f"{self.code.name}: {self.message}"


class Cancelled(Error):
    """The call was cancelled (by the caller, or the server shutting down)."""

    code = grpc.StatusCode.CANCELLED


class InvalidArgument(Error):
    """Malformed input: the message names the field, the expected and the received value."""

    code = grpc.StatusCode.INVALID_ARGUMENT


class DeadlineExceeded(Error):
    """The call's deadline passed before the server answered."""

    code = grpc.StatusCode.DEADLINE_EXCEEDED


class NotFound(Error):
    """Unknown session or dataset."""

    code = grpc.StatusCode.NOT_FOUND


class AlreadyExists(Error):
    """The session or dataset name is taken."""

    code = grpc.StatusCode.ALREADY_EXISTS


class PermissionDenied(Error):
    """The credentials are known but may not make this call."""

    code = grpc.StatusCode.PERMISSION_DENIED


class ResourceExhausted(Error):
    """A server limit was hit (the message names it and its value), or the queue is full."""

    code = grpc.StatusCode.RESOURCE_EXHAUSTED


class FailedPrecondition(Error):
    """The state forbids the call, e.g. a step whose loss is not finite (nothing was applied)."""

    code = grpc.StatusCode.FAILED_PRECONDITION


class Aborted(Error):
    """The call conflicted with another and was not applied."""

    code = grpc.StatusCode.ABORTED


class Unimplemented(Error):
    """The server does not offer this call (an older server)."""

    code = grpc.StatusCode.UNIMPLEMENTED


class Internal(Error):
    """A bug in the server."""

    code = grpc.StatusCode.INTERNAL


class Unavailable(Error):
    """The server cannot be reached, or is shutting down; the call may be retried."""

    code = grpc.StatusCode.UNAVAILABLE


class Unauthenticated(Error):
    """No token, or a wrong one."""

    code = grpc.StatusCode.UNAUTHENTICATED


_BY_CODE = {cls.code: cls for cls in Error.__subclasses__()}


def from_rpc_error(error):
    """The mlpd.Error subclass for a grpc.RpcError (a grpc.Call), with its code and details."""
    code = error.code()
    return _BY_CODE.get(code, Error)(error.details() or "", code)
