"""The labelled service messages the sentiment models are trained and judged on besides the clothing reviews.

Clothing reviews complain about fit and fabric; a shop also needs to hear about delivery, support, returns, price,
payment and its website. No public labelled set of such messages could be used here, so the project wrote 502 short
messages of the kinds customers send (complaints, praise and plain questions; ``datasets/service`` in the
repository, see its SOURCES.md), labelled negative, neutral or positive, and split them once, before any model was
tuned, into a training part (342) and a held-out part (145), stratified by topic and label with a fixed seed;
15 price messages were later added to the training part only, then 238 price and value messages written by
someone who had seen neither the models nor the probes, split at random: 523 training and 217 held-out messages
now (see SOURCES.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from shoplens.errors import InputError

SERVICE_COLUMNS = ("id", "topic", "label", "text")
SERVICE_LABELS = ("negative", "neutral", "positive")
SERVICE_TOPICS = ("delivery", "support", "returns", "price", "payment", "website")


@dataclass(frozen=True)
class LabelledMessages:
    """Service messages with their topic and sentiment label, in file order."""

    ids: list[str]
    topic: list[str]
    label: list[str]
    text: list[str]

    def __len__(self) -> int:
        return len(self.text)


def read_labelled_messages(path: Path) -> LabelledMessages:
    """The messages of one part (training or held out) of the labelled service set."""
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (OSError, ValueError) as exc:
        raise InputError(f"{path}: cannot read the service messages ({str(exc).splitlines()[0][:160]})") from None
    missing = [c for c in SERVICE_COLUMNS if c not in frame.columns]
    if missing:
        raise InputError(f"{path}: not a labelled service file, missing column(s): {', '.join(missing)}")
    unknown = sorted(set(frame["label"]) - set(SERVICE_LABELS))
    if unknown:
        raise InputError(f"{path}: unknown label(s) {', '.join(unknown)}; expected {', '.join(SERVICE_LABELS)}")
    return LabelledMessages(
        ids=list(frame["id"]), topic=list(frame["topic"]), label=list(frame["label"]), text=list(frame["text"])
    )
