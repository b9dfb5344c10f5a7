"""The proposal's lifecycle as data (DESIGN.md, "The lifecycle").

A definition names its states (nested one level: ``phase.step``), its
transitions (trigger, sources, destination, who may fire it, which guards
must hold) and the labels people read. The guards are names: the
application supplies what each one checks (e.g. the call's partnership
rules), so this package needs neither HTTP nor a database.

Change a definition by adding a new version beside the old one: a proposal
keeps the version it started with.
"""

from __future__ import annotations

from typing import Any


def N_(message: str) -> str:
    """Mark a label for translation; the application translates it when shown."""
    return message


PROPOSAL_V1: dict[str, Any] = {
    "name": "proposal",
    "version": 1,
    "initial": "idea",
    "states": [
        {"name": "idea", "label": N_("Idea")},
        {
            "name": "partnership",
            "label": N_("Partnership"),
            "children": [
                {"name": "inviting", "label": N_("Inviting partners")},
                {"name": "confirmed", "label": N_("Partnership confirmed")},
            ],
        },
        {
            "name": "drafting",
            "label": N_("Drafting"),
            "children": [
                {"name": "writing", "label": N_("Writing")},
                {"name": "in_review", "label": N_("In review")},
                {"name": "revising", "label": N_("Revising")},
            ],
        },
        {
            "name": "final",
            "label": N_("Final"),
            "children": [
                {"name": "signing_off", "label": N_("Signing off")},
                {"name": "signed", "label": N_("Signed")},
            ],
        },
        {"name": "submitted", "label": N_("Submitted")},
        {"name": "funded", "label": N_("Funded")},
        {"name": "not_funded", "label": N_("Not funded")},
        {"name": "withdrawn", "label": N_("Withdrawn")},
    ],
    "transitions": [
        {
            "trigger": "start",
            "source": ["idea"],
            "dest": "partnership.inviting",
            "roles": ["coordinator"],
            "guards": [],
            "label": N_("Start the partnership"),
        },
        {
            "trigger": "confirm_partnership",
            "source": ["partnership.inviting"],
            "dest": "partnership.confirmed",
            "roles": ["coordinator"],
            "guards": ["partnership_rules", "no_open_invitations"],
            "label": N_("Confirm the partnership"),
        },
        {
            "trigger": "reopen_partnership",
            "source": ["partnership.confirmed"],
            "dest": "partnership.inviting",
            "roles": ["coordinator"],
            "guards": [],
            "label": N_("Invite more partners"),
        },
        {
            "trigger": "start_drafting",
            "source": ["partnership"],
            "dest": "drafting.writing",
            "roles": ["coordinator"],
            "guards": ["partnership_rules"],
            "label": N_("Start drafting"),
        },
        {
            "trigger": "request_review",
            "source": ["drafting.writing", "drafting.revising"],
            "dest": "drafting.in_review",
            "roles": ["coordinator"],
            "guards": [],
            "label": N_("Request review"),
        },
        {
            "trigger": "return_for_revision",
            "source": ["drafting.in_review"],
            "dest": "drafting.revising",
            "roles": ["mentor", "coordinator"],
            "guards": [],
            "label": N_("Return to the writers"),
        },
        {
            "trigger": "finalise",
            "source": ["drafting"],
            "dest": "final.signing_off",
            "roles": ["coordinator"],
            "guards": ["partnership_rules"],
            "label": N_("Move to sign-off"),
        },
        {
            "trigger": "reopen",
            "source": ["final"],
            "dest": "drafting.revising",
            "roles": ["coordinator"],
            "guards": [],
            "label": N_("Reopen for editing"),
        },
        {
            "trigger": "mark_signed",
            "source": ["final.signing_off"],
            "dest": "final.signed",
            "roles": ["coordinator"],
            "guards": ["submission_rules", "sign_offs"],
            "label": N_("Mark as signed"),
        },
        {
            "trigger": "submit",
            "source": ["final.signed"],
            "dest": "submitted",
            "roles": ["coordinator"],
            # Checked again: what was signed must still be what is submitted.
            "guards": ["submission_rules", "sign_offs"],
            "label": N_("Record the submission"),
        },
        {
            "trigger": "record_funded",
            "source": ["submitted"],
            "dest": "funded",
            "roles": ["coordinator"],
            "guards": [],
            "label": N_("Record: funded"),
        },
        {
            "trigger": "record_not_funded",
            "source": ["submitted"],
            "dest": "not_funded",
            "roles": ["coordinator"],
            "guards": [],
            "label": N_("Record: not funded"),
        },
        {
            "trigger": "withdraw",
            "source": ["idea", "partnership", "drafting", "final"],
            "dest": "withdrawn",
            "roles": ["coordinator"],
            "guards": [],
            "label": N_("Withdraw the proposal"),
        },
    ],
}

SECTION_V1: dict[str, Any] = {
    "name": "section",
    "version": 1,
    "initial": "unassigned",
    "states": [
        {"name": "unassigned", "label": N_("Not assigned")},
        {"name": "assigned", "label": N_("Assigned")},
        {"name": "drafting", "label": N_("Being written")},
        {"name": "ready", "label": N_("Ready for review")},
        {"name": "changes_requested", "label": N_("Changes requested")},
        {"name": "approved", "label": N_("Approved")},
    ],
    "transitions": [
        {
            "trigger": "assign",
            "source": ["unassigned"],
            "dest": "assigned",
            "roles": ["coordinator"],
            "guards": [],
            "label": N_("Assign"),
        },
        {
            "trigger": "start_writing",
            "source": ["unassigned", "assigned"],
            "dest": "drafting",
            "roles": ["coordinator", "writer"],
            "guards": [],
            "label": N_("Start writing"),
        },
        {
            "trigger": "mark_ready",
            "source": ["drafting", "changes_requested"],
            "dest": "ready",
            "roles": ["coordinator", "writer"],
            "guards": ["has_text"],
            "label": N_("Mark as ready"),
        },
        {
            "trigger": "request_changes",
            "source": ["ready"],
            "dest": "changes_requested",
            "roles": ["coordinator", "mentor"],
            "guards": [],
            "label": N_("Request changes"),
        },
        {
            "trigger": "approve",
            "source": ["ready"],
            "dest": "approved",
            "roles": ["coordinator", "mentor"],
            "guards": [],
            "label": N_("Approve"),
        },
        {
            # An edit to a section that was ready or approved reopens it.
            "trigger": "reopen",
            "source": ["ready", "approved"],
            "dest": "drafting",
            "roles": ["coordinator", "writer"],
            "guards": [],
            "label": N_("Reopen"),
        },
    ],
}

SECTION_DEFINITIONS: dict[int, dict[str, Any]] = {1: SECTION_V1}

#: Proposal states in which texts and budgets are read-only (until the coordinator reopens).
READ_ONLY_STATES = frozenset({"final.signed", "submitted", "funded", "not_funded", "withdrawn"})
#: Proposal states in which partners sign off.
SIGNING_STATES = frozenset({"final.signing_off"})

#: Every version ever used, so that no proposal is stranded by a change.
PROPOSAL_DEFINITIONS: dict[int, dict[str, Any]] = {1: PROPOSAL_V1}
PROPOSAL_CURRENT = 1
