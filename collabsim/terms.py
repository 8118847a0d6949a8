"""The domain's words for the model's names: barriers, case types, risks, agencies, outputs.

A scenario names things with short keys (``task_duplication``, ``police_ppa``,
``safe_house``); people read them in their own terms, in English or in the
Indonesian the agencies use (duplikasi tugas, Unit PPA Polres, rumah aman).
:func:`term` gives the label of a key in the language in use, or the key
itself when the scenario names something this list does not know.
``docs/glossary.md`` maps each to SIMFONI-PPA's and the service standards' terms.
"""

from __future__ import annotations

from collabsim.i18n import N_, Translator, translator

__all__ = ["TERMS", "term"]

TERMS: dict[str, str] = {
    # the seven barriers of the study (hambatan kolaborasi)
    "miscommunication": N_("miscommunication"),
    "task_duplication": N_("task duplication"),
    "missing_reports": N_("no routine reporting"),
    "sectoral_ego": N_("sectoral ego"),
    "sop": N_("SOPs not integrated"),
    "facility_distrust": N_("doubt in other agencies' facilities"),
    "resources": N_("short resources"),
    # violence types
    "sexual": N_("sexual violence"),
    "physical": N_("physical violence"),
    "psychological": N_("psychological violence"),
    "neglect": N_("neglect"),
    "exploitation": N_("exploitation and trafficking"),
    # risk levels
    "high": N_("high risk"),
    "medium": N_("medium risk"),
    "low": N_("low risk"),
    # entry channels
    "complaint_post": N_("complaint post"),
    "walk_in": N_("walk-in"),
    "messaging": N_("hotline or messaging"),
    "school": N_("school"),
    "kpai": N_("KPAI"),
    # agencies
    "hub": N_("UPT PPPA (case managers)"),
    "hub_psychology": N_("UPT PPPA psychologists"),
    "hub_legal": N_("UPT PPPA legal advisers"),
    "police_ppa": N_("police Unit PPA"),
    "hospital": N_("hospital"),
    "puskesmas": N_("puskesmas"),
    "safe_house": N_("safe house"),
    "rpsa": N_("RPSA child shelter"),
    "legal_aid": N_("legal aid (LBH)"),
    # services
    "complaint": N_("complaint"),
    "detection": N_("detection at school"),
    "kpai_complaint": N_("complaint to KPAI"),
    "intake": N_("intake"),
    "assessment": N_("assessment"),
    "health": N_("medical care and visum"),
    "police": N_("police investigation"),
    "shelter": N_("shelter"),
    "psychology": N_("psychological support"),
    "legal": N_("legal accompaniment"),
    "mediation": N_("mediation"),
    "reintegration": N_("reintegration"),
    "closure": N_("closure"),
    # agency sectors
    "pppa": N_("women's and children's protection"),
    "social": N_("social affairs"),
    "education": N_("education"),
    "civil_society": N_("civil society"),
    "oversight": N_("oversight"),
    # outputs (summary keys)
    "cases_arrived": N_("cases reported (after warm-up)"),
    "cases_closed": N_("closed"),
    "cases_open": N_("open"),
    "cases_stalled": N_("stalled"),
    "cases_dropped": N_("ended unfinished (lost to follow-up)"),
    "cases_withdrawn": N_("police reports withdrawn (cabut laporan)"),
    "repeat_reports": N_("repeat reports"),
    "open_share": N_("share of the cohort still open at the end"),
    "handling_days_median": N_("handling time, median (days, Kaplan-Meier)"),
    "handling_days_p90": N_("handling time, p90 (days, Kaplan-Meier)"),
    "first_service_days_median": N_("time to first care service, median (days)"),
    "days_to_stay_median": N_("time to a safe-house place, median (days)"),
    "days_to_exam_median": N_("time to the medico-legal examination, median (days)"),
    "follow_up_within_norm_share": N_("share followed up within the norm"),
    "stay_within_norm_share": N_("share of safe-house stays within the norm"),
    "staff_hours_per_case": N_("staff-hours per case"),
    "referrals_lost": N_("referrals lost"),
    "referrals_misrouted": N_("referrals misrouted"),
    "duplicated_staff_hours": N_("duplicated staff-hours"),
    "interviews_per_child": N_("interviews per child"),
    "bypasses": N_("bypasses (facility distrust)"),
    "cases_recorded": N_("cases recorded in the case system"),
    "conference_settled": N_("held-up cases settled by case conferences"),
    "engagement_end": N_("principled engagement (end)"),
    "motivation_end": N_("shared motivation (end)"),
    "capacity_end": N_("capacity for joint action (end)"),
    # --- experiments (explore, allocate, mix, calibrate): outputs and targets they show ---
    "handling_days_mean_closed": N_("handling time of closed cases, mean (days)"),
    "response_within_norm_share.high": N_("share of high-risk cases responded to within the norm"),
    "response_within_norm_share.medium": N_(
        "share of medium-risk cases responded to within the norm"
    ),
    "response_within_norm_share.low": N_("share of low-risk cases responded to within the norm"),
    "cost_per_year": N_("cost a year (rupiah)"),
    "cost_per_day_saved": N_("extra cost per child-day of handling time saved (rupiah)"),
    "cost_per_interview_avoided": N_("extra cost per interview spared (rupiah)"),
    "cases_per_year": N_("child victims handled a year"),
    "sexual_share": N_("share of sexual violence"),
    "police_share": N_("share of cases reaching the police"),
    "health_share": N_("share of cases with health services"),
    "safe_house_share": N_("share of cases referred to a safe house"),
    "mediation_share": N_("share of cases with mediation"),
    "psychology_per_victim": N_("psychological services per victim"),
    "legal_per_victim": N_("legal consultations per victim"),
    "city_order": N_("order of the cities by cases"),
    # --- end of the experiments' block ---
    # --- the app's block ---
    "response_within_norm_share": N_("share responded to within the norm"),
    # --- end of the app's block ---
}
"""Scenario key -> English label (the message id of its translations)."""


def term(key: str, t: Translator | None = None) -> str:
    """The label of a key in the language in use (or of ``t``); an unknown key as it is."""
    label = TERMS.get(key)
    if label is None:
        return key
    return (t or translator()).marked(label)
