"""The proposal workflow under random triggers fired by random people (hypothesis, stateful).

After every step: exactly one lead; a transition happened only if its role and
guards allowed it; audit rows match transitions one to one; a submitted
proposal moves only by its allowed triggers.
"""

from __future__ import annotations

import contextlib
import itertools

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from proposals.calls import library
from proposals.domain import actions, consortium
from proposals.models import Membership, Organisation, Partner, Proposal, StatusChange, User
from proposals.policy import proposal_role
from workflow import NotYourRole, Refused, WrongState, proposal_workflow

WORKFLOW = proposal_workflow()
AFTER_SUBMISSION = {"submitted", "funded", "not_funded"}
ALLOWED_FROM_SUBMITTED = {"record_funded", "record_not_funded"}

PROFILE = """
id: stateful-test
version: 1
funder: Test
programme: Test
title: A call for the stateful test
languages: [en]
currency: EUR
sections:
  - {key: summary, title: Summary, required: false}
budget:
  categories: [{key: staff, title: Staff}]
partnership:
  partners: {min: 2}
  countries: {eligible: [PL, NO, LT]}
  donor_state_partner: {countries: [NO], required: true}
"""
COUNTRIES = ("PL", "NO", "LT", "DE")
PEOPLE = ("coordinator", "writer", "outsider", "mentor")
_serial = itertools.count()


class ProposalLifecycle(RuleBasedStateMachine):
    session: Session

    @initialize()
    def start(self) -> None:
        n = next(_serial)
        self.users: dict[str, User] = {}
        self.orgs: dict[str, Organisation] = {}
        for country in COUNTRIES:
            org = Organisation(name=f"Org {country} {n}", country=country, city="X")
            user = User(
                email=f"{country.lower()}{n}@example.org", name=f"User {country}", password_hash="x"
            )
            self.session.add_all([org, user, Membership(user=user, organisation=org)])
            self.orgs[country], self.users[country] = org, user
        self.session.flush()
        for user in self.users.values():
            self.session.refresh(user)
        profile = library.get(self.session, "stateful-test")
        self.proposal = consortium.start_proposal(
            self.session, self.users["PL"], profile, self.orgs["PL"], "Stateful", "ST"
        )
        self.transitions = 1  # "start"

    def _person(self, who: str) -> User:
        if who == "coordinator":
            access = next(a for a in self.proposal.access if a.role == "coordinator")
            return access.user
        if who == "writer":
            actives = [
                p for p in self.proposal.partners if p.status == "active" and p.role != "lead"
            ]
            member = actives[0].organisation.country if actives else "DE"
            return self.users[member]
        if who == "mentor":
            return self.users["LT"]
        return self.users["DE"]

    @rule(trigger=st.sampled_from(WORKFLOW.triggers), who=st.sampled_from(PEOPLE))
    def fire(self, trigger: str, who: str) -> None:
        user = self._person(who)
        before = self.proposal.status
        role = proposal_role(user, self.proposal) or ""
        spec = WORKFLOW.spec(trigger)
        guards = actions.guards(self.session, self.proposal)
        allowed = (
            trigger in WORKFLOW.triggers_from(before)
            and role in spec.roles
            and all(guards[g]().ok for g in spec.guards)
        )
        try:
            change = actions.fire(self.session, self.proposal, user, trigger, before)
        except (WrongState, NotYourRole, Refused):
            assert not allowed, f"{trigger} by {role} from {before} was refused but allowed"
            assert self.proposal.status == before
            return
        assert allowed, f"{trigger} by {role} from {before} happened without its guard"
        assert change.source == before and change.dest == self.proposal.status
        if before in AFTER_SUBMISSION:
            assert trigger in ALLOWED_FROM_SUBMITTED
        self.transitions += 1

    @rule(country=st.sampled_from(COUNTRIES[1:]), role=st.sampled_from(["partner", "associated"]))
    def invite(self, country: str, role: str) -> None:
        with contextlib.suppress(consortium.ConsortiumError):
            consortium.invite_organisation(
                self.session, self._person("coordinator"), self.proposal, self.orgs[country], role
            )

    @rule(country=st.sampled_from(COUNTRIES[1:]), accept=st.booleans())
    def answer(self, country: str, accept: bool) -> None:
        partner = next(
            (
                p
                for p in self.proposal.partners
                if p.organisation.country == country and p.status == "invited"
            ),
            None,
        )
        if partner is not None:
            consortium.answer(self.session, self.users[country], partner, accept)

    @rule(country=st.sampled_from(COUNTRIES))
    def hand_over(self, country: str) -> None:
        partner = (
            next(p for p in self.proposal.partners if p.organisation.country == country)
            if any(p.organisation.country == country for p in self.proposal.partners)
            else None
        )
        if partner is None:
            return
        with contextlib.suppress(consortium.ConsortiumError):
            consortium.hand_over_lead(
                self.session, self._person("coordinator"), self.proposal, partner
            )

    @rule(country=st.sampled_from(COUNTRIES))
    def withdraw(self, country: str) -> None:
        partner = next(
            (
                p
                for p in self.proposal.partners
                if p.organisation.country == country and p.status == "active"
            ),
            None,
        )
        if partner is None:
            return
        try:
            consortium.withdraw_partner(self.session, self.users[country], partner)
        except consortium.ConsortiumError:
            assert partner.role == "lead"

    @invariant()
    def exactly_one_lead(self) -> None:
        leads = self.session.scalar(
            select(func.count())
            .select_from(Partner)
            .where(Partner.proposal_id == self.proposal.id, Partner.role == "lead")
        )
        assert leads == 1

    @invariant()
    def audit_matches_transitions(self) -> None:
        audited = self.session.scalar(
            select(func.count())
            .select_from(StatusChange)
            .where(
                StatusChange.proposal_id == self.proposal.id,
                StatusChange.trigger.in_(WORKFLOW.triggers),
            )
        )
        assert audited == self.transitions
        assert self.session.get(Proposal, self.proposal.id).status == self.proposal.status


def test_random_triggers_by_random_people_keep_the_invariants(db, settings) -> None:
    library.store(db, PROFILE)
    db.commit()

    class Lifecycle(ProposalLifecycle):
        session = db

    Lifecycle.TestCase.settings = settings_for_ci
    Lifecycle.TestCase().runTest()


settings_for_ci = settings(
    max_examples=40,
    stateful_step_count=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
