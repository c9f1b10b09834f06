"""The handle ``flyte.run`` returns: a run's name, where to look at it, its phase and outputs."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

from flyte_core.runstore.records import ActionRecord, LogLine, Phase, RunRecord
from flyte_core.types.interface import OUTPUT_NAME, output_fields

if TYPE_CHECKING:
    from flyte_core.run.session import Session
    from flyte_core.task.template import TaskTemplate


class ActionOutputs(tuple[Any, ...]):
    """A run's outputs: a tuple (``outputs()[0]``) whose items are also named ``o0``, ``o1`` ... and, for a
    task that returns a ``NamedTuple``, by its field names (one output per field, as in Flyte 2)."""

    _names: tuple[str, ...]

    def __new__(cls, values: Iterable[Any] = (), names: Sequence[str] | None = None) -> ActionOutputs:
        obj = super().__new__(cls, values)
        obj._names = tuple(names) if names is not None else tuple(f"o{i}" for i in range(len(obj)))
        # In the instance's own namespace, so a field named like a tuple method (count, index) wins.
        obj.__dict__.update(zip(obj._names, obj))
        return obj

    def __getattr__(self, name: str) -> Any:
        if name.startswith("o") and name[1:].isdigit() and int(name[1:]) < len(self):
            return self[int(name[1:])]
        raise AttributeError(name)

    @property
    def named_outputs(self) -> dict[str, Any]:
        """Outputs by name: ``o0``, ``o1`` ..., or a NamedTuple return's field names."""
        return dict(zip(self._names, self))


class Run:
    """A finished (or, with ``wait=False`` backends, running) run, read from the run store.

    ``print(run)`` prints the output of a successful single-output run, as the seed expects.
    """

    def __init__(self, session: Session, name: str, task: TaskTemplate[Any, Any] | None = None,
                 notices: list[str] | None = None) -> None:
        self._session = session
        self._name = name
        self._task = task
        self._outputs: ActionOutputs | None = None
        #: Settings some task used that the backend does not act on (reported once per run).
        self.notices = notices or []

    # --- identity ------------------------------------------------------------------------------

    @property
    def name(self) -> str:
        """The run's name (``flyte runs show NAME``)."""
        return self._name

    @property
    def url(self) -> str:
        """Where to look at the run: its folder in the data store."""
        return self._session.data.url("runs", self._name)

    @property
    def record(self) -> RunRecord:
        """The run's latest record from the run store."""
        rec = self._session.get_run(self._name)
        if rec is None:
            raise LookupError(f"Run '{self._name}' is not in the run store {self._session.runs!r}.")
        return rec

    @property
    def phase(self) -> Phase:
        """The run's phase (``Phase.SUCCEEDED`` ...)."""
        return self.record.phase

    def done(self) -> bool:
        """True once the run is in a terminal phase."""
        return self.phase.is_terminal

    def abort(self, reason: str = "Aborted from the API.") -> None:
        """Abort the run (from any process); its running actions are stopped."""
        self._session.abort(self._name)

    def wait(self, quiet: bool = True) -> Run:
        """Block until the run is done (runs of the built-in backends are done when returned)."""
        self._session.wait_for(self._name)
        return self

    # --- data ----------------------------------------------------------------------------------

    def outputs(self) -> ActionOutputs:
        """The root task's outputs; raises the run's error if it failed."""
        if self._outputs is None:
            rec = self.record
            if rec.phase is not Phase.SUCCEEDED:
                self.raise_for_status()
                raise RuntimeError(f"Run '{self._name}' has no outputs: it is {rec.phase}.")
            lits = rec.outputs or {}
            if self._task is not None:
                iface = self._task.interface
                value = self._session.engine.decode_output(self._task.name, iface, lits,
                                                           self._session.conversion(self._name))
                fields = output_fields(iface.output)
                if iface.output is None:
                    self._outputs = ActionOutputs(())
                elif fields is None:
                    self._outputs = ActionOutputs((value,))
                else:  # a NamedTuple return: one output per field (decode_output unwrapped a single one)
                    self._outputs = ActionOutputs(value if len(fields) > 1 else (value,), fields)
            else:
                self._outputs = ActionOutputs(self._session.decode_untyped(lits.get(OUTPUT_NAME)))
        return self._outputs

    def raise_for_status(self) -> None:
        """Raise the run's error (a ``flyte.errors`` exception) if it failed."""
        rec = self.record
        if rec.error is not None:
            from flyte_core.run.failures import to_exception  # a failed run's error classes: only then

            raise to_exception(rec.error, rec.task)

    def actions(self) -> list[ActionRecord]:
        """Every action of the run, in creation order."""
        return self._session.runs.get_actions(self._name)

    def logs(self, action: str | None = None) -> Iterator[LogLine]:
        """Lines the run's tasks printed or logged (of one action and its children, if given)."""
        for _, line in self._session.runs.get_logs(self._name, action):
            yield line

    def __str__(self) -> str:
        if self.phase is Phase.SUCCEEDED:
            outs = self.outputs()
            if len(outs) == 1:
                return str(outs[0])
            return str(tuple(outs)) if outs else ""
        return repr(self)

    def __repr__(self) -> str:
        return f"Run(name={self._name!r}, phase={self.phase.value!r})"
