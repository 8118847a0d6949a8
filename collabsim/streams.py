"""Random numbers per case and per purpose: a draw added to one mechanism never shifts another's.

Every stochastic decision about a case takes its uniform number from a
counter-based generator: the number is a hash (SplitMix64) of the case's key,
the purpose of the draw, the case's step and the occurrence of that decision
within the step. Two scenarios run with the same seed therefore give the same
case the same draw for the same decision, however many other draws either of
them made (common random numbers that stay in step through reworks,
re-referrals and refusals).
"""

from __future__ import annotations

from enum import IntEnum

__all__ = ["Purpose", "uniform"]

_MASK = (1 << 64) - 1
_PURPOSE = 0x9E3779B97F4A7C15
_STEP = 0xD1B54A32D192ED03
_OCCURRENCE = 0xABC98388FB8FAC03


class Purpose(IntEnum):
    """What a draw decides."""

    PLAN = 1
    FIRST_CONTACT = 2
    CHOICE = 3
    BYPASS = 4
    MISCOMMUNICATION = 5
    MISHAP = 6
    DELAY = 7
    EGO = 8
    EGO_OUTCOME = 9
    HOLD = 10
    REINTAKE = 11
    REINTAKE_DURATION = 12
    DUPLICATION = 13
    DUPLICATION_DURATION = 14
    DURATION = 15
    REWORK = 16
    LAG = 17
    REPORT = 18
    RECORD = 19
    ATTRITION = 20
    WITHDRAWAL = 21
    REPEAT = 22
    REPEAT_AFTER = 23
    ADOPTION = 24
    BACKGROUND = 25
    ATTENDANCE = 26
    CONFERENCE = 27


def uniform(key: int, purpose: int, step: int = 0, occurrence: int = 0) -> float:
    """A uniform number in [0, 1) for one decision.

    Args:
        key: the case's 64-bit key.
        purpose: what the draw decides (:class:`Purpose`).
        step: the case's step (plan index) the decision belongs to.
        occurrence: which occurrence of the decision within the step (an
            attempt after rework, a referral sent again).
    """
    x = (key + purpose * _PURPOSE + step * _STEP + occurrence * _OCCURRENCE) & _MASK
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & _MASK
    return ((x ^ (x >> 31)) >> 11) * 1.1102230246251565e-16
