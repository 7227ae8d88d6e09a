"""Validated standard wordings: Net Promoter Score, customer satisfaction and customer effort.

Their frames are sound by long use and published validation (Reichheld 2003 for NPS; the ACSI satisfaction item;
Dixon, Freeman & Toman 2010 and the later "made it easy for me" statement for effort), so the frame is not linted:
"would recommend … to a friend or colleague" (or "would you be to mention <the shop>", "If a friend asked where
to buy …, how likely …") is neither hypothetical nor two things at once. What fills the frame
(the store, the order, the request) is still read for loaded, double or unclear words.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class StandardWording:
    metric: str  # nps | csat | ces
    subject: str  # what fills the frame: "this store", "your most recent order", "handle your request"


# Who she would recommend it to: "a friend or colleague", "someone you know", "another learner", "other parents".
_RECIPIENT = (
    r"(?:(?:a|an|your|any) )?(?:friends?|colleagues?|family(?: members?)?|relatives?|mates?|people you know|"
    r"someone(?: you know)?|somebody(?: you know)?|anyone(?: you know)?|others|"
    r"(?:another|other|a fellow|fellow) [\w-]+)"
)
# The referral put as a scene, not as a plan of ours: "If a friend asked where to buy baby clothes, …".
_REFERRAL_SCENE = (
    r"(?:(?:if|when) (?:a |an |your )?(?:friends?|colleagues?|someone|somebody|anyone|relatives?|family members?|"
    r"neighbou?rs?|mates?)(?: you know)? (?:asked|asks|wanted|wants|needed|needs|was looking|were looking|is looking)"
    r"[^,?]{0,80}, )"
)
_FRAMES: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (metric, re.compile(pattern, re.IGNORECASE))
    for metric, pattern in (
        (
            "nps",
            rf"^(?:overall, )?{_REFERRAL_SCENE}?how likely (?:is it that you would|is it you would|are you to|"
            rf"would you be to) (?:recommend|suggest|mention) (?P<subject>.{{1,60}}?)(?: to {_RECIPIENT}"
            rf"(?: (?:or|and) {_RECIPIENT})?)?\s*\??$",
        ),
        (
            "csat",
            r"^(?:overall, |all in all, )?how satisfied (?:or dissatisfied )?(?:are|were) you with "
            r"(?P<subject>.+?)\s*\??$",
        ),
        ("csat", r"^(?:overall, )?how would you rate your (?:overall )?satisfaction with (?P<subject>.+?)\s*\??$"),
        (
            "ces",
            r"^how much effort did you (?:personally )?have to (?:put forth|put in|make|spend) "
            r"(?:to )?(?P<subject>.+?)\s*\??$",
        ),
        (
            "ces",
            r"^(?:to what extent|how much|how strongly) do you agree (?:or disagree )?with the following "
            r"statement:\s*[\"'“‘]?(?P<subject>.+?) made it easy for me to (?:handle|resolve|sort out|deal with) "
            r"my (?:issue|request|problem|return|order)\s*[.?]?[\"'”’]?\s*[.?]?$",
        ),
        ("ces", r"^how easy (?:or difficult )?was it to (?P<subject>.+?)\s*\??$"),
    )
)


def standard_wording(stem: str) -> StandardWording | None:
    for metric, frame in _FRAMES:
        if match := frame.match(stem):
            return StandardWording(metric, match.group("subject"))
    return None
