"""State machines of Engage (the proposal's lifecycle) kept as data, built with ``transitions``.

No HTTP and no database here: ``proposals/`` imports ``workflow/``, never the
other way round. A transition returns a :class:`~workflow.machine.Change`;
``proposals/actions.py`` stores it as an audit row.
"""

from functools import cache

from workflow.definitions import (
    PROPOSAL_CURRENT,
    PROPOSAL_DEFINITIONS,
    READ_ONLY_STATES,
    SECTION_DEFINITIONS,
    SIGNING_STATES,
)
from workflow.machine import (
    Bound,
    Change,
    GuardResult,
    NotYourRole,
    Option,
    Refused,
    Workflow,
    WorkflowError,
    WrongState,
)


@cache
def proposal_workflow(version: int = PROPOSAL_CURRENT) -> Workflow:
    """The proposal workflow of ``version``, compiled once per process."""
    return Workflow(PROPOSAL_DEFINITIONS[version])


@cache
def section_workflow(version: int = 1) -> Workflow:
    """The section workflow of ``version``, compiled once per process."""
    return Workflow(SECTION_DEFINITIONS[version])


__all__ = [
    "READ_ONLY_STATES",
    "SIGNING_STATES",
    "Bound",
    "Change",
    "GuardResult",
    "NotYourRole",
    "Option",
    "Refused",
    "Workflow",
    "WorkflowError",
    "WrongState",
    "proposal_workflow",
    "section_workflow",
]
