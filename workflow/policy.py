"""Who may do what, and in which state: the one table every route asks.

Each action names the kind of target it applies to and, for every role a
person can hold towards such a target, the states of the target in which that
role may do it (``ANY``: whatever the state). The proposal's states come from
the workflow definition beside this file, so a state says what it allows:
editing in the states before signing, signing off in ``final.signing_off``,
nothing but reading (and reopening, a workflow trigger) once signed.

The application decides which roles a person holds towards a target
(``proposals/policy.py``); the table only says what each role may do. No HTTP
and no database here.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from workflow.definitions import N_, PROPOSAL_V1, READ_ONLY_STATES, SIGNING_STATES

ANY: frozenset[str] = frozenset({"*"})


def _leaves(definition: Mapping[str, object], phase: str) -> frozenset[str]:
    for state in definition["states"]:  # type: ignore[attr-defined]
        if state["name"] == phase:
            children = state.get("children") or []
            if not children:
                return frozenset({phase})
            return frozenset(f"{phase}.{child['name']}" for child in children)
    raise KeyError(phase)


def _phases(*names: str) -> frozenset[str]:
    return frozenset().union(*(_leaves(PROPOSAL_V1, name) for name in names))


#: Proposal states by what they allow.
FORMING = _phases("idea", "partnership")
DRAFTING = _phases("drafting")
SIGNING = SIGNING_STATES
SIGNED = _phases("final") - SIGNING
ALL_PROPOSAL_STATES = _phases(
    *(s["name"] for s in PROPOSAL_V1["states"])  # type: ignore[index]
)
#: Read-only: nothing is edited until the coordinator reopens the proposal.
READ_ONLY = READ_ONLY_STATES
#: Texts, budgets and the consortium change while the proposal is open.
OPEN = ALL_PROPOSAL_STATES - READ_ONLY
#: The structure of the application (sections, their order and writers) is fixed at sign-off.
STRUCTURE = FORMING | DRAFTING
#: Comments are welcome until the application has gone to the funder.
DISCUSSION = OPEN | SIGNED

#: The roles a person can hold towards a target, and what each means.
ROLES: dict[str, str] = {
    "anyone": N_("everybody, signed in or not"),
    "user": N_("anyone signed in"),
    "admin": N_("a platform administrator"),
    "member": N_("a member of the organisation"),
    "org_admin": N_("an administrator of the organisation"),
    "addressee": N_("the person an e-mailed invitation was sent to"),
    "idea_owner": N_("a member of the organisation that posted the idea"),
    "other_member": N_("a member of another organisation"),
    "coordinator": N_("the lead partner's coordinator"),
    "writer": N_("a member of a partner organisation"),
    "mentor": N_("a mentor following the proposal"),
    "viewer": N_("someone invited to read the proposal"),
    "invitee": N_("a member of an organisation invited to the consortium"),
    "partner_member": N_("a member of this partner organisation"),
    "partner_admin": N_("an administrator of this partner organisation"),
    "partner_organisation": N_("a member of this invited or active partner's organisation"),
    "section_writer": N_("a member of the partner the section is assigned to"),
}

#: The kinds of target, and the states they can be in (None: targets without states).
TARGETS: dict[str, frozenset[str] | None] = {
    "site": None,
    "organisation": None,
    "organisation_invitation": None,
    "idea": frozenset({"open", "closed"}),
    "proposal": ALL_PROPOSAL_STATES,
    "proposal_invitation": ALL_PROPOSAL_STATES,
    "partner": ALL_PROPOSAL_STATES,
    "section": ALL_PROPOSAL_STATES,
    "comment": ALL_PROPOSAL_STATES,
    "review_round": ALL_PROPOSAL_STATES,
}


@dataclass(frozen=True)
class Rule:
    """Who may do an action on one kind of target: role -> the states it may act in.

    ``refusal`` says why someone whose role allows the action may not do it in
    the target's current state (shown instead of a bare "not allowed").
    """

    target: str
    grants: Mapping[str, frozenset[str]]
    refusal: str = ""

    def allows(self, roles: Iterable[str], state: str | None) -> bool:
        return any(
            role in self.grants and (self.grants[role] == ANY or state in self.grants[role])
            for role in roles
        )

    def roles_in(self, state: str | None) -> frozenset[str]:
        """The roles that may do this in ``state``."""
        return frozenset(r for r, s in self.grants.items() if s == ANY or state in s)


def _rule(
    target: str, roles: Iterable[str], states: frozenset[str] = ANY, refusal: str = ""
) -> Rule:
    return Rule(target, {role: states for role in roles}, refusal)


READ_ONLY_REFUSAL = N_(
    "The proposal is signed and read-only: the coordinator can reopen it for editing."
)
STRUCTURE_REFUSAL = N_(
    "Sections are assigned, added and ordered before sign-off: the coordinator can reopen "
    "the proposal for editing."
)
FORMING_REFUSAL = N_(
    "Partners are invited while the partnership is formed. Reopen the partnership to invite more."
)
LAPSED_REFUSAL = N_("This invitation has lapsed: the partnership was formed without it.")
DRAFTING_REFUSAL = N_("Reviews take place while the proposal is being drafted.")


READERS = ("coordinator", "writer", "mentor", "viewer")

POLICY: dict[str, Rule] = {
    # --- the site, accounts and administration ---------------------------------------
    "public": _rule("site", ["anyone"]),  # home, calls, sign up, in and out, language
    "use_engage": _rule("site", ["user"]),  # own account, lists, new records, notifications
    "admin": _rule("site", ["admin"]),
    # --- organisations ------------------------------------------------------------------
    "view_organisation": _rule("organisation", ["user"]),
    "see_members": _rule("organisation", ["member", "admin"]),
    "edit_organisation": _rule("organisation", ["org_admin", "admin"]),
    "manage_members": _rule("organisation", ["org_admin", "admin"]),
    "leave_organisation": _rule("organisation", ["member"]),
    "join_organisation": _rule("organisation_invitation", ["addressee"]),
    # --- ideas ---------------------------------------------------------------------------
    "view_idea": Rule("idea", {"idea_owner": ANY, "user": frozenset({"open"})}),
    "edit_idea": _rule("idea", ["idea_owner"]),
    "express_interest": _rule("idea", ["other_member"], frozenset({"open"})),
    "start_proposal_from_idea": _rule("idea", ["idea_owner"]),
    # --- the proposal and its consortium ---------------------------------------------------
    "view_proposal": _rule("proposal", READERS),
    # The workflow says which triggers; mentors return drafts through their review round.
    "fire_transition": _rule("proposal", ["coordinator"]),
    "invite_partner": _rule("proposal", ["coordinator"], FORMING, FORMING_REFUSAL),
    "join_by_link": _rule("proposal_invitation", ["addressee"], FORMING, LAPSED_REFUSAL),
    # The answer itself is taken once, while the partner is invited; a second press is told so.
    "answer_invitation": _rule("partner", ["partner_organisation"], FORMING, LAPSED_REFUSAL),
    "hand_over_lead": _rule("partner", ["coordinator"], OPEN, READ_ONLY_REFUSAL),
    "withdraw_partner": _rule("partner", ["coordinator", "partner_admin"], OPEN, READ_ONLY_REFUSAL),
    "set_contact": _rule("partner", ["coordinator", "partner_admin"], OPEN, READ_ONLY_REFUSAL),
    # For the call's rules: a partner new to the programme; the application's language and stage.
    "mark_newcomer": _rule("partner", ["coordinator"], OPEN, READ_ONLY_REFUSAL),
    "set_application": _rule("proposal", ["coordinator"], OPEN, READ_ONLY_REFUSAL),
    # The plan: milestones back from the deadline; section due dates set from it.
    "plan_proposal": _rule("proposal", ["coordinator"], OPEN, READ_ONLY_REFUSAL),
    "plan_due_dates": _rule("proposal", ["coordinator"], STRUCTURE, STRUCTURE_REFUSAL),
    # --- sections -----------------------------------------------------------------------------
    "manage_sections": _rule("proposal", ["coordinator"], STRUCTURE, STRUCTURE_REFUSAL),
    "assign_section": _rule("section", ["coordinator"], STRUCTURE, STRUCTURE_REFUSAL),
    "edit_text": _rule("section", ["coordinator", "section_writer"], OPEN, READ_ONLY_REFUSAL),
    "comment": _rule(
        "section", ["coordinator", "writer", "mentor"], DISCUSSION, N_("Comments are closed.")
    ),
    "resolve_comment": _rule(
        "comment", ["coordinator", "writer", "mentor"], DISCUSSION, N_("Comments are closed.")
    ),
    # --- budget -------------------------------------------------------------------------------
    "edit_budget": _rule("partner", ["coordinator", "partner_member"], OPEN, READ_ONLY_REFUSAL),
    "upload_workbook": _rule("proposal", ["coordinator", "writer"], OPEN, READ_ONLY_REFUSAL),
    # --- annexes: uploading is editing, so not once the proposal is signed -------------------
    "view_annex": _rule("proposal", READERS),  # a partner's own file: see proposals.domain.annexes
    "upload_annex": _rule("proposal", ["coordinator", "writer"], OPEN, READ_ONLY_REFUSAL),
    # A partner's files, among them its signed declaration (also while signing off).
    "upload_partner_annex": _rule(
        "partner", ["coordinator", "partner_member"], OPEN, READ_ONLY_REFUSAL
    ),
    # --- review ---------------------------------------------------------------------------------
    "add_mentor": _rule("proposal", ["coordinator"], OPEN, READ_ONLY_REFUSAL),
    "request_review": _rule("proposal", ["coordinator"], DRAFTING, DRAFTING_REFUSAL),
    "cancel_review": _rule("review_round", ["coordinator"], OPEN, READ_ONLY_REFUSAL),
    "give_verdict": _rule("review_round", ["mentor"], DRAFTING, DRAFTING_REFUSAL),
    # --- final stage ----------------------------------------------------------------------------
    "sign_off": _rule(
        "partner",
        ["partner_member"],
        SIGNING,
        N_("Sign-offs are collected once the coordinator moves to sign-off."),
    ),
    "export": _rule("proposal", ["coordinator"]),
    "export_declaration": _rule("partner", ["coordinator", "partner_member"]),
    # Edits made in Word come back; each accepted section also needs "edit_text".
    "import_word": _rule("proposal", ["coordinator", "writer"], OPEN, READ_ONLY_REFUSAL),
    "record_submission": _rule(
        "proposal",
        ["coordinator"],
        SIGNED,
        N_("The proposal must be signed before the submission is recorded."),
    ),
}


#: Actions after which someone may hold other roles (or a proposal is in another state):
#: open live editors check their access again at once, not at their next periodic check.
CHANGES_ACCESS = frozenset(
    {
        "admin",
        "manage_members",
        "leave_organisation",
        "join_organisation",
        "fire_transition",
        "join_by_link",
        "answer_invitation",
        "hand_over_lead",
        "withdraw_partner",
        "assign_section",
        "manage_sections",
        "add_mentor",
        "cancel_review",
        "give_verdict",
        "sign_off",
        "record_submission",
    }
)


def _check(policy: Mapping[str, Rule]) -> None:
    assert FORMING | DRAFTING | SIGNING == OPEN, "every open state is forming, drafting or signing"
    for action, rule in policy.items():
        assert rule.target in TARGETS, (action, rule.target)
        for role, states in rule.grants.items():
            assert role in ROLES, (action, role)
            known = TARGETS[rule.target]
            assert states == ANY or (known is not None and states <= known), (action, role)


_check(POLICY)
assert POLICY.keys() >= CHANGES_ACCESS, CHANGES_ACCESS - POLICY.keys()
