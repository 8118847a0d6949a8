"""Case conferences that act: what a conference reviews, and whether it settles a case.

A joint case conference (every ``conference_interval_days``) reviews the
cases held up by a barrier (a referral held or refused out of sectoral ego,
a referral lost or misrouted, a completed service the case manager was not
told of) and the cases waiting in an agency's queue for
``conference_queue_days`` or more. It settles a held-up case by bringing its
next step forward to the conference day (the held referral is admitted, the
refused or lost one sent again, the misrouted one delivered, the manager acts
on what it hears), and re-routes a queued one to another provider the case
manager can reach. It acts on a case when every agency the case waits on
attends, with chance ``conference_action * leadership``. Attendance follows
commitment (:meth:`collabsim.dynamics.CollaborationState.attend`).

Assumption: no source gives how often a conference unblocks a case; the
chance is a scenario parameter with a range.
"""

from __future__ import annotations

import numpy as np

from collabsim.cases import Track
from collabsim.streams import Purpose

__all__ = ["agenda_item", "settles"]


def agenda_item(track: Track, now: float) -> bool:
    """Whether a held-up track is still waiting at the conference (its step lies ahead)."""
    return track.pending is not None and track.pending[0] > now


def settles(
    track: Track,
    parties: tuple[int, ...],
    attends: np.ndarray,
    leadership: float,
    action: float,
    conference: int,
) -> bool:
    """Whether this conference acts on a track on its agenda.

    Args:
        track: a track on the agenda.
        parties: the agencies the track waits on (all must attend).
        attends: who came, by agency.
        leadership: the regime's leadership now.
        action: the chance a conference with every party present acts (at full leadership).
        conference: the conference's number (keys the draw, for common random numbers).
    """
    if not all(attends[a] for a in parties):
        return False
    return track.draw(Purpose.CONFERENCE, conference) < action * leadership
