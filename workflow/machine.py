"""One shared ``transitions`` machine per workflow definition, bound to a row per request.

The row (anything with a ``status`` attribute) is wrapped in a small model
object whose ``state`` property reads and writes that column; the wrapper is
added to the shared machine for one action and removed again. A transition
returns a :class:`Change`; storing it (the audit row) is the application's job.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Protocol

from transitions import EventData, MachineError
from transitions.extensions import HierarchicalMachine
from transitions.extensions.nesting import NestedState


class _DottedState(NestedState):
    # "drafting.in_review": names may then contain underscores.
    separator = "."


class _Machine(HierarchicalMachine):
    state_cls = _DottedState


class HasStatus(Protocol):
    status: str


@dataclass(frozen=True)
class GuardResult:
    """Whether a guard holds and, when it does not, why (in the user's language)."""

    ok: bool
    reasons: tuple[str, ...] = ()


Guard = Callable[[], GuardResult]


@dataclass(frozen=True)
class Change:
    trigger: str
    source: str
    dest: str
    role: str


@dataclass(frozen=True)
class Option:
    """A trigger the user's role may fire from the current state, and whether it may now."""

    trigger: str
    label: str
    allowed: bool
    reasons: tuple[str, ...] = ()


class WorkflowError(Exception):
    pass


class WrongState(WorkflowError):
    """The trigger cannot fire from the current state (someone else moved it, or a replay)."""


class NotYourRole(WorkflowError):
    def __init__(self, roles: tuple[str, ...]) -> None:
        super().__init__(f"only {', '.join(roles)} may do this")
        self.roles = roles


class Refused(WorkflowError):
    """A guard does not hold; ``reasons`` say which rule fails."""

    def __init__(self, reasons: tuple[str, ...]) -> None:
        super().__init__("; ".join(reasons))
        self.reasons = reasons


@dataclass(frozen=True)
class TransitionSpec:
    trigger: str
    sources: tuple[str, ...]
    dest: str
    roles: tuple[str, ...]
    guards: tuple[str, ...]
    label: str


@dataclass
class Bound:
    """The model ``transitions`` drives: one row, the actor's role, the guards' answers."""

    workflow: Workflow
    row: HasStatus
    role: str
    guards: Mapping[str, Guard]
    changes: list[Change] = field(default_factory=list)
    _source: str = ""

    @property
    def state(self) -> str:
        return self.row.status

    @state.setter
    def state(self, value: str) -> None:
        self.row.status = value

    def options(self) -> list[Option]:
        """The triggers this role may fire from here, each with whether its guards hold now."""
        options = []
        for trigger in self.workflow.triggers_from(self.state):
            spec = self.workflow.spec(trigger)
            if self.role not in spec.roles:
                continue
            reasons = self._reasons(spec)
            options.append(Option(trigger, spec.label, not reasons, reasons))
        return options

    def fire(self, trigger: str) -> Change:
        """Fire ``trigger`` or raise WrongState, NotYourRole or Refused; never half-applied."""
        if trigger not in self.workflow.triggers_from(self.state):
            raise WrongState(f"{trigger!r} cannot fire from {self.state!r}")
        spec = self.workflow.spec(trigger)
        if self.role not in spec.roles:
            raise NotYourRole(spec.roles)
        reasons = self._reasons(spec)
        if reasons:
            raise Refused(reasons)
        before = len(self.changes)
        self._source = self.state
        try:
            fired = getattr(self, trigger)()
        except MachineError as exc:
            raise WrongState(str(exc)) from None
        if not fired or len(self.changes) != before + 1:
            raise Refused(self._reasons(spec) or ("refused",))
        return self.changes[-1]

    def _reasons(self, spec: TransitionSpec) -> tuple[str, ...]:
        reasons: list[str] = []
        for name in spec.guards:
            result = self.guards[name]()
            if not result.ok:
                reasons.extend(result.reasons or (name,))
        return tuple(reasons)

    # --- callbacks the machine calls (no side effects beyond this object) ---------

    def _condition(self, event: EventData) -> bool:
        spec = self.workflow.spec(event.event.name)
        return self.role in spec.roles and not self._reasons(spec)

    def _record(self, event: EventData) -> None:
        # The state before the transition, not the (possibly parent) source it matched.
        self.changes.append(Change(event.event.name, self._source, self.state, self.role))


class Workflow:
    """A workflow definition compiled once into a shared machine."""

    def __init__(self, definition: Mapping[str, Any]) -> None:
        self.name: str = definition["name"]
        self.version: int = definition["version"]
        self.initial: str = definition["initial"]
        self.labels: dict[str, str] = {}
        self.phases: list[tuple[str, list[str]]] = []
        states = [self._state(s, "") for s in definition["states"]]
        self._specs: dict[str, TransitionSpec] = {}
        transitions = []
        for t in definition["transitions"]:
            spec = TransitionSpec(
                t["trigger"],
                tuple(t["source"]),
                t["dest"],
                tuple(t["roles"]),
                tuple(t["guards"]),
                t["label"],
            )
            if spec.trigger in self._specs:
                raise ValueError(f"trigger {spec.trigger!r} is defined twice")
            for state in (*spec.sources, spec.dest):
                if state not in self.labels:
                    raise ValueError(f"transition {spec.trigger!r} names unknown state {state!r}")
            self._specs[spec.trigger] = spec
            transitions.append(
                {
                    "trigger": spec.trigger,
                    "source": list(spec.sources),
                    "dest": spec.dest,
                    "conditions": "_condition",
                }
            )
        self._machine = _Machine(
            model=None,
            states=states,
            transitions=transitions,
            initial=None,
            auto_transitions=False,
            send_event=True,
            after_state_change="_record",
        )
        self._lock = threading.RLock()

    def _state(self, data: Mapping[str, Any], parent: str) -> dict[str, Any]:
        path = f"{parent}.{data['name']}" if parent else data["name"]
        self.labels[path] = data["label"]
        children = [self._state(c, path) for c in data.get("children", [])]
        if not parent:
            self.phases.append((path, [f"{path}.{c['name']}" for c in data.get("children", [])]))
        state: dict[str, Any] = {"name": data["name"]}
        if children:
            state["children"] = children
            state["initial"] = children[0]["name"]
        return state

    @property
    def guard_names(self) -> set[str]:
        return {g for spec in self._specs.values() for g in spec.guards}

    @property
    def triggers(self) -> list[str]:
        return list(self._specs)

    def spec(self, trigger: str) -> TransitionSpec:
        return self._specs[trigger]

    def triggers_from(self, state: str) -> list[str]:
        return [t for t in self._machine.get_triggers(state) if t in self._specs]

    def phase_of(self, state: str) -> str:
        return state.split(".", 1)[0]

    @contextmanager
    def bind(self, row: HasStatus, role: str, guards: Mapping[str, Guard]) -> Iterator[Bound]:
        """Bind ``row`` to the shared machine for one action, as ``role``."""
        missing = self.guard_names - set(guards)
        if missing:
            raise ValueError(f"guards not supplied: {', '.join(sorted(missing))}")
        if row.status not in self.labels:
            raise ValueError(f"unknown state {row.status!r} for {self.name} v{self.version}")
        bound = Bound(self, row, role, guards)
        with self._lock:  # the shared machine's model list is not thread-safe
            self._machine.add_model(bound, initial=row.status)
            try:
                yield bound
            finally:
                self._machine.remove_model(bound)
