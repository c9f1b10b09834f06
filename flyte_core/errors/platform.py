"""``flyte.errors`` classes for situations that belong to a Flyte platform or to special hardware.

Flyte 2 programs name them in ``except`` clauses, so they exist here with Flyte 2's hierarchy and
constructors. Which of them flyte-core raises itself, and when, is listed in docs/compat.md; the
rest are raised by nothing here, and code that catches them keeps working.
"""

from __future__ import annotations

from flyte_core.errors.core import BaseRuntimeError, ErrorKind, RuntimeSystemError, RuntimeUserError

# --- GPU faults ------------------------------------------------------------------------------------

#: Error codes a backend puts on a failure it blames on a GPU or NVSwitch fault; a failure with one
#: of these codes is raised as a :class:`GPUFaultError`.
GPU_FAULT_CODES: tuple[str, ...] = (
    "GpuXidError", "GpuFallenOffBus", "GpuEccUncorrectable", "GpuRowRemapPending", "GpuNvlinkError", "GpuGspError",
)


class GPUFaultError(BaseRuntimeError):
    """A task failed because of a GPU or NVSwitch fault on its node (base of the user and system kinds).

    The fault attributes are None when the backend did not report them.
    """

    def __init__(
        self,
        code: str,
        kind: ErrorKind,
        message: str,
        worker: str | None = None,
        *,
        fault_kind: str | None = None,
        fault_code: int | None = None,
        fault_name: str | None = None,
        severity: str | None = None,
        gpu_uuid: str | None = None,
        gpu_index: int | None = None,
        node: str | None = None,
        pci_bus_id: str | None = None,
        process: str | None = None,
    ) -> None:
        # Called by name: the subclasses also inherit from RuntimeUserError/RuntimeSystemError,
        # whose initialisers take no ``kind``.
        BaseRuntimeError.__init__(self, code, kind, message, worker)
        self.fault_kind = fault_kind
        self.fault_code = fault_code
        self.fault_name = fault_name
        self.severity = severity
        self.gpu_uuid = gpu_uuid
        self.gpu_index = gpu_index
        self.node = node
        self.pci_bus_id = pci_bus_id
        self.process = process

    @property
    def xid(self) -> int | None:
        """The NVIDIA Xid of the fault (None for an NVSwitch SXid or when unknown)."""
        return self.fault_code if self.fault_kind == "xid" else None

    @property
    def sxid(self) -> int | None:
        """The NVSwitch SXid of the fault (None for a GPU Xid or when unknown)."""
        return self.fault_code if self.fault_kind == "sxid" else None


class GPUFaultUserError(GPUFaultError, RuntimeUserError):
    """A GPU fault the task's own code caused (an illegal memory access, say)."""

    def __init__(self, code: str, message: str, worker: str | None = None, **fault: object) -> None:
        GPUFaultError.__init__(self, code, "user", message, worker, **fault)  # type: ignore[arg-type]


class GPUFaultSystemError(GPUFaultError, RuntimeSystemError):
    """A GPU fault of the hardware (an uncorrectable ECC error, a GPU gone from the bus)."""

    def __init__(self, code: str, message: str, worker: str | None = None, **fault: object) -> None:
        GPUFaultError.__init__(self, code, "system", message, worker, **fault)  # type: ignore[arg-type]


# --- Apple Silicon ---------------------------------------------------------------------------------


class AppleSiliconError(RuntimeUserError):
    """Base of the errors of ``Resources(gpu="AppleSilicon")``; ``recoverable`` says whether a retry can help."""

    code_name = "APPLE_SILICON_ERROR"
    recoverable = True

    def __init__(self, message: str, worker: str | None = None) -> None:
        super().__init__(self.code_name, message, worker)


class AppleSiliconNotAvailableError(AppleSiliconError):
    """``gpu="AppleSilicon"`` was asked for where no Apple Silicon GPU can be given to the task: any backend
    here but the in-process and process backends on an arm64 Mac."""

    code_name = "APPLE_SILICON_NOT_AVAILABLE"
    recoverable = False


class AppleSiliconHostExecFailedError(AppleSiliconError):
    """An Apple Silicon workload could not be started on the Mac."""

    code_name = "APPLE_SILICON_HOST_EXEC_FAILED"
    recoverable = False


class AppleSiliconDaemonStartFailedError(AppleSiliconError):
    """The host-side daemon serving an Apple Silicon workload did not start."""

    code_name = "APPLE_SILICON_DAEMON_START_FAILED"
    recoverable = False


class AppleSiliconDaemonOOMError(AppleSiliconError):
    """The host process of an Apple Silicon workload ran out of memory."""

    code_name = "APPLE_SILICON_DAEMON_OOM"


class AppleSiliconModelNotFoundError(AppleSiliconError):
    """The model an Apple Silicon workload asked for could not be found or loaded."""

    code_name = "APPLE_SILICON_MODEL_NOT_FOUND"
    recoverable = False


class AppleSiliconBridgeUnreachableError(AppleSiliconError):
    """A container could not reach the host's Apple Silicon bridge."""

    code_name = "APPLE_SILICON_BRIDGE_UNREACHABLE"


#: Each Apple Silicon error code with the class raised for it.
APPLE_SILICON_ERRORS_BY_CODE: dict[str, type[AppleSiliconError]] = {
    cls.code_name: cls
    for cls in (AppleSiliconNotAvailableError, AppleSiliconHostExecFailedError, AppleSiliconDaemonStartFailedError,
                AppleSiliconDaemonOOMError, AppleSiliconModelNotFoundError, AppleSiliconBridgeUnreachableError)
}


# --- control-plane features --------------------------------------------------------------------------


class UnionRpcError(RuntimeSystemError):
    """A call to a Flyte control plane failed (there is none here, so nothing raises it)."""


class SlowDownError(RuntimeUserError):
    """A control plane asked the client to slow down."""

    def __init__(self, message: str) -> None:
        super().__init__("SlowDownError", message)


class ResourceExhaustedError(SlowDownError):
    """A control plane refused a request for lack of capacity."""


class RemoteTaskNotFoundError(RuntimeUserError):
    """A remote task reference (``flyte.remote.Task.get``) named no deployed task."""

    CODE = "RemoteTaskNotFound"

    def __init__(self, message: str) -> None:
        super().__init__(self.CODE, message)


class RemoteTaskUsageError(RuntimeUserError):
    """A remote task reference was used in a way it does not support."""

    CODE = "RemoteTaskUsage"

    def __init__(self, message: str) -> None:
        super().__init__(self.CODE, message)


class DeploymentError(RuntimeUserError):
    """Deploying environments to a control plane failed."""

    def __init__(self, message: str) -> None:
        super().__init__("DeploymentError", message)


class ParameterMaterializationError(RuntimeUserError):
    """An app parameter could not be turned into the value the app reads."""

    def __init__(self, message: str) -> None:
        super().__init__("ParameterMaterializationError", message)


class ConditionTimedoutError(RuntimeUserError):
    """A condition (``flyte.new_condition``) was not signalled in time."""

    def __init__(self, message: str) -> None:
        super().__init__("ConditionTimedoutError", message)


class ConditionAlreadyExistsError(RuntimeUserError):
    """A condition with that name already exists in the run."""

    def __init__(self, message: str) -> None:
        super().__init__("ConditionAlreadyExistsError", message)


class ConditionFailedError(RuntimeUserError):
    """A condition was signalled as failed."""

    def __init__(self, message: str) -> None:
        super().__init__("ConditionFailedError", message)


class ConditionNotFoundError(RuntimeUserError):
    """No condition has that name."""

    def __init__(self, message: str) -> None:
        super().__init__("ConditionNotFoundError", message)


def platform_error(code: str, kind: str, message: str, worker: str | None) -> BaseRuntimeError | None:
    """The error for a recorded failure whose ``code`` is a GPU fault or an Apple Silicon code (a backend
    reporting such a failure records that code); None for any other code."""
    if code in GPU_FAULT_CODES:
        cls = GPUFaultSystemError if kind == "system" else GPUFaultUserError
        return cls(code, message, worker)
    apple = APPLE_SILICON_ERRORS_BY_CODE.get(code)
    return apple(message, worker) if apple is not None else None
