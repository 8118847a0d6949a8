"""The seven barriers the study found, each a named, switchable mechanism.

Every mechanism reads the collaboration state (trust ``T``, understanding
``U``, perceived readiness ``R``), takes its uniform draws from the case's own
random stream (so that two scenarios compared with the same seed see the same
draws), and counts what it does in :attr:`Barriers.events`. Each is off when
its ``intensity`` in the scenario is 0.
"""

from __future__ import annotations

import math
from collections import Counter
from typing import Literal

from collabsim.dynamics import CollaborationState
from collabsim.scenario import Barriers as BarrierParams

__all__ = ["Barriers", "EgoDecision", "Misroute"]

Misroute = Literal["late", "misrouted", "lost"] | None
EgoDecision = Literal["hold", "refuse"] | None


class Barriers:
    """The barrier mechanisms of one model run.

    Attributes:
        events: counts per barrier (the keys of the scenario's ``barriers``
            section) and per kind of event (``referrals_lost``, ...).
    """

    def __init__(
        self, params: BarrierParams, state: CollaborationState, shared_case_system: bool
    ) -> None:
        """Bind the parameters to the collaboration state."""
        self.p = params
        self.state = state
        self.shared_case_system = shared_case_system
        self.events: Counter[str] = Counter()

    def miscommunication(self, i: int, j: int, base_rate: float, u: float, v: float) -> Misroute:
        """Barrier 1, miscommunication between actors.

        Finding: referrals go astray between agencies. Assumption: the chance
        is ``intensity * channel_rate * (1 - U[i, j])`` (a poorer channel and
        less mutual understanding make it likelier); the outcome is late,
        misrouted (sent to the wrong agency and bounced back) or lost until
        the case manager's next follow-up, in the scenario's shares.

        Args:
            i: referring agency.
            j: receiving agency.
            base_rate: the channel's miscommunication rate.
            u: uniform draw for whether it happens.
            v: uniform draw for which outcome.
        """
        p = self.p.miscommunication
        if u >= p.intensity * base_rate * (1.0 - self.state.U[i, j]):
            return None
        self.events["miscommunication"] += 1
        if v < p.late_share:
            self.events["referrals_late"] += 1
            return "late"
        if v < p.late_share + p.misrouted_share:
            self.events["referrals_misrouted"] += 1
            return "misrouted"
        self.events["referrals_lost"] += 1
        return "lost"

    def task_duplication(self, i: int | None, j: int, already_assessed: bool, u: float) -> bool:
        """Barrier 2, duplication of tasks.

        Finding: a receiving agency may repeat work already done. Assumption:
        an agency receiving an assessed case repeats the assessment (staff
        time, and the child interviewed again) with chance
        ``intensity * (1 - T[j, i])``: it redoes what it does not trust.
        """
        if i is None or not already_assessed:
            return False
        if u >= self.p.task_duplication.intensity * (1.0 - self.state.T[j, i]):
            return False
        self.events["task_duplication"] += 1
        return True

    def missing_report(self, discipline: float, u: float) -> bool:
        """Barrier 3, no routine reporting.

        Finding: agencies do not report case status routinely. Assumption: a
        completed service goes unreported with chance
        ``intensity * (1 - reporting_discipline)``, never with a shared case
        information system (reports are automatic); the case manager then
        learns of it only at the next periodic follow-up, and a case whose
        registration goes unreported is missing from the recorded statistics.
        """
        if self.shared_case_system:
            return False
        if u >= self.p.missing_reports.intensity * (1.0 - discipline):
            return False
        self.events["missing_reports"] += 1
        return True

    def sectoral_ego(self, i: int, j: int, ego: float, u: float, v: float) -> EgoDecision:
        """Barrier 4, sectoral ego.

        Finding: agencies put their own sector first. Assumption: a referral
        from another sector is held (delayed) or refused with chance
        ``intensity * ego_j * (1 - T[j, i])``, refused in ``refuse_share``.
        """
        p = self.p.sectoral_ego
        if u >= p.intensity * ego * (1.0 - self.state.T[j, i]):
            return None
        self.events["sectoral_ego"] += 1
        if v < p.refuse_share:
            self.events["referrals_refused"] += 1
            return "refuse"
        self.events["referrals_held"] += 1
        return "hold"

    def sop_reintake(self, first_visit: bool, formal_link: bool, u: float) -> bool:
        """Barrier 5, collaboration SOPs that are not integrated.

        Finding: each agency runs its own procedure. Assumption: an agency
        taking over a case for the first time runs its own intake (staff time,
        and the child retells the story) with chance ``intensity`` (one minus
        SOP integration), halved on a link with a formal SOP.
        """
        if not first_visit:
            return False
        chance = self.p.sop.intensity * (0.5 if formal_link else 1.0)
        if u >= chance:
            return False
        self.events["sop"] += 1
        return True

    def facility_bypass(self, i: int, j: int, u: float) -> bool:
        """Barrier 6, doubt that other actors' facilities are ready.

        Finding: some actors are not convinced other actors' facilities are
        ready. Assumption: referrer i passes over provider j with chance
        ``intensity * (1 - R[i, j])``, where ``R`` is i's belief in j's
        readiness, learnt from the services it sees; the work goes elsewhere.
        """
        if u >= self.p.facility_distrust.intensity * (1.0 - self.state.R[i, j]):
            return False
        self.events["facility_distrust"] += 1
        return True

    def effective_staff(self, staff: int) -> int:
        """Barrier 7a, resources short in quantity: posts left vacant.

        Assumption: ``vacancy_rate * intensity`` of each agency's posts are
        unfilled (at least one person stays on duty).
        """
        p = self.p.resources
        filled = max(1, math.floor(staff * (1.0 - p.intensity * p.vacancy_rate) + 0.5))
        self.events["resources_vacant_posts"] += staff - filled
        return filled

    def rework(self, skill: float, u: float) -> bool:
        """Barrier 7b, resources short in quality: work not done right first time.

        Assumption: a service must be redone with chance
        ``intensity * (1 - skill)`` (Campello et al.: raising the chance a
        case is completed cuts waits more than working faster).
        """
        if u >= self.p.resources.intensity * (1.0 - skill):
            return False
        self.events["resources"] += 1
        return True
