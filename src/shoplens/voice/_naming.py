"""Names a person would write for a theme: "Late delivery", "Runs small", "Poor fabric quality".

Two steps, in order:

1. **Common e-commerce themes.** :data:`COMMON_THEMES` lists what shoppers write about most (delivery, damage in
   transit, sizing, length, fabric, quality, colour, price, returns, service, fit on the body, comfort,
   closures), each with a word pattern and a name for a complaint and for praise. A theme takes the name of
   the entry whose words occur in the largest share of its sentences, when that share is at least
   :data:`MIN_SHARE` and at least :data:`MIN_LIFT` times the entry's share in the other themes of the same
   polarity (so "fabric", which comes up everywhere, names only a theme that is about fabric). The list was
   written reading the Women's E-Commerce Clothing Reviews and is checked on the demo store's feedback, which it
   was not written from.
2. **Its own words otherwise.** The theme's most distinctive phrase by class-based TF-IDF, with stop words and
   sentiment words (VADER's lexicon: "bad", "great", "excellent", …) left out, so the name says what the
   theme is about, not how people feel about it; a word pair is preferred to a single word.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache

import numpy as np
import numpy.typing as npt

from shoplens.voice._text import any_of_words

MIN_SHARE = 0.25
MIN_LIFT = 1.3
PAIR_PREFERENCE = 0.5  # a word pair names the theme when it scores at least half the best single word
# Words of reviews that say nothing about what a theme is about.
REVIEW_FILLER = frozenset(
    [
        "really",
        "just",
        "bit",
        "little",
        "lot",
        "lots",
        "definitely",
        "absolutely",
        "totally",
        "actually",
        "usually",
        "pretty",
        "quite",
        "ordered",
        "order",
        "bought",
        "buy",
        "purchased",
        "purchase",
        "got",
        "get",
        "wear",
        "wore",
        "worn",
        "wearing",
        "item",
        "items",
        "product",
        "products",
        "thing",
        "things",
        "way",
        "time",
        "times",
        "did",
        "does",
        "going",
        "went",
        "tried",
        "try",
        "think",
        "thought",
        "looks",
        "look",
        "looked",
        "feel",
        "felt",
        "say",
        "said",
        "make",
        "made",
        "want",
        "wanted",
        "know",
        "new",
        "send",
        "sending",
        "sent",
        "returning",
        "keep",
        "keeping",
        "going",
        "didn",
        "doesn",
        "isn",
        "wasn",
        "don",
    ]
)


@dataclass(frozen=True)
class CommonTheme:
    complaint: str
    praise: str
    pattern: re.Pattern[str]


COMMON_THEMES: tuple[CommonTheme, ...] = (
    CommonTheme(
        "Late delivery",
        "Fast delivery",
        any_of_words(
            r"late",
            r"delay(?:ed|s)?",
            r"slow(?:ly)?",
            r"shipping",
            r"shipped",
            r"deliver(?:y|ed|ies)?",
            r"tracking",
            r"dispatch(?:ed)?",
            r"courier",
            r"arrived (?:quickly|fast|early|on time|promptly)",
            r"took (?:almost |over |nearly )?(?:a |two |three )?(?:weeks?|days|forever)",
        ),
    ),
    CommonTheme(
        "Damaged on arrival",
        "Well packaged",
        any_of_words(
            r"damaged?",
            r"crushed",
            r"broken",
            r"dented",
            r"cracked",
            r"scratched",
            r"packag(?:ing|ed|e)",
            r"box(?:es)?",
            r"wrapp(?:ed|ing)",
        ),
    ),
    CommonTheme(
        "Runs small",
        "True to size",
        any_of_words(
            r"runs? small",
            r"too (?:small|tight|snug)",
            r"tight(?:er)?",
            r"snug",
            r"size up",
            r"sized up",
            r"(?:a|one) size up",
            r"smaller than",
            r"bigger size",
        ),
    ),
    CommonTheme(
        "Runs large",
        "True to size",
        any_of_words(
            r"runs? (?:big|large)",
            r"too (?:big|large|loose|baggy|wide)",
            r"huge",
            r"baggy",
            r"oversized",
            r"size down",
            r"sized down",
            r"(?:a|one) size down",
            r"bigger than",
            r"smaller size",
        ),
    ),
    CommonTheme(
        "Inconsistent sizing",
        "True to size",
        any_of_words(
            r"siz(?:e|es|ing|ed)", r"size chart", r"chart", r"true to size", r"tts", r"fits?", r"xs", r"petite"
        ),
    ),
    CommonTheme(
        "Wrong length",
        "Good length",
        any_of_words(
            r"length", r"long(?:er)?", r"short(?:er)?", r"hem(?:line)?", r"inseam", r"tall", r"knees?", r"ankles?"
        ),
    ),
    CommonTheme(
        "Poor fabric quality",
        "Good fabric quality",
        any_of_words(
            r"fabric",
            r"materials?",
            r"thin",
            r"cheap(?:ly)?",
            r"see[- ]?through",
            r"sheer",
            r"itchy",
            r"scratchy",
            r"pill(?:ing|ed|s)?",
            r"flimsy",
            r"soft",
            r"cotton",
            r"linen",
            r"polyester",
            r"lin(?:ing|ed)",
            r"wash(?:ed|ing)?",
            r"shr[iu]nk",
            r"fabric quality",
            r"seams?",
            r"stitch(?:ing|es)?",
            r"holes?",
            r"thick",
            r"knit",
        ),
    ),
    CommonTheme(
        "Poor quality",
        "Good quality",
        any_of_words(
            r"quality", r"(?:cheaply|poorly|well|nicely) made", r"f[ae]ll apart", r"durable", r"sturdy", r"lasts?"
        ),
    ),
    CommonTheme(
        "Colour not as pictured",
        "Lovely colour",
        any_of_words(
            r"colou?rs?",
            r"colou?red",
            r"shades?",
            r"pictured",
            r"photos?",
            r"pictures?",
            r"prints?",
            r"patterns?",
            r"in person",
            r"online",
            r"blue|navy|green|red|pink|white|black|grey|gray|purple|yellow|orange|beige|brown",
        ),
    ),
    CommonTheme(
        "Too expensive",
        "Good value",
        any_of_words(
            r"prices?",
            r"priced",
            r"pricey",
            r"expensive",
            r"overpriced",
            r"cheaper",
            r"money",
            r"value",
            r"worth",
            r"costs?",
            r"sale",
            r"discount(?:ed)?",
            r"full price",
            r"paid",
        ),
    ),
    CommonTheme(
        "Returns and refunds",
        "Easy returns",
        any_of_words(r"return(?:ed|ing|s)?", r"refund(?:ed|s)?", r"exchang(?:e|ed|es)", r"sen[dt] (?:it |them )?back"),
    ),
    CommonTheme(
        "Poor customer service",
        "Helpful customer service",
        any_of_words(
            r"customer service",
            r"service",
            r"support",
            r"staff",
            r"rude",
            r"repl(?:y|ied)",
            r"respon(?:se|ded|d)",
            r"e-?mail(?:ed|s)?",
            r"called",
            r"helpful",
        ),
    ),
    CommonTheme(
        "Unflattering fit",
        "Flattering fit",
        any_of_words(
            r"flatter(?:ing|s)?",
            r"unflattering",
            r"figure",
            r"shape(?:less)?",
            r"waist(?:line|ed)?",
            r"bust",
            r"chest",
            r"hips?",
            r"shoulders?",
            r"arms?",
            r"boxy",
            r"curves?",
            r"tummy",
            r"torso",
            r"body",
        ),
    ),
    CommonTheme(
        "Uncomfortable",
        "Comfortable",
        any_of_words(
            r"comfort(?:able|ably|y)?", r"uncomfortable", r"cozy|cosy", r"itch(?:y|es)?", r"warm", r"breathable"
        ),
    ),
    CommonTheme(
        "Faulty zip or buttons",
        "Nice details",
        any_of_words(
            r"zipp?(?:er|ers)?", r"buttons?", r"clasp", r"hooks?", r"straps?", r"pockets?", r"ties?", r"details?"
        ),
    ),
)


@cache
def sentiment_words() -> frozenset[str]:
    """Words that carry sentiment (VADER's lexicon), which say how people feel, not what a theme is about."""
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer  # type: ignore[import-untyped]

    lexicon: dict[str, float] = SentimentIntensityAnalyzer().lexicon
    return frozenset(word for word, valence in lexicon.items() if abs(float(valence)) >= 0.5 and word.isalpha())


@cache
def excluded_words() -> frozenset[str]:
    """Stop words, sentiment words and review filler: none of them may name a theme."""
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS  # type: ignore[import-untyped]

    return frozenset(ENGLISH_STOP_WORDS) | sentiment_words() | REVIEW_FILLER


def common_theme_shares(texts: Sequence[str], weights: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """The weighted share of ``texts`` each entry of :data:`COMMON_THEMES` occurs in (one value per entry)."""
    total = float(weights.sum())
    if total <= 0:
        return np.zeros(len(COMMON_THEMES))
    return np.asarray(
        [sum(w for t, w in zip(texts, weights, strict=True) if c.pattern.search(t)) / total for c in COMMON_THEMES]
    )


def common_theme_candidates(
    shares: npt.NDArray[np.float64], background: npt.NDArray[np.float64], polarity: str
) -> list[str]:
    """Names of the common themes a theme's sentences are about, best first (empty when none fits)."""
    lift = shares / np.maximum(background, 1e-9)  # words no other theme uses lift without bound
    eligible = [i for i in range(len(COMMON_THEMES)) if shares[i] >= MIN_SHARE and lift[i] >= MIN_LIFT]
    eligible.sort(key=lambda i: (-float(shares[i]) * min(float(lift[i]), 4.0), i))
    names = [COMMON_THEMES[i].complaint if polarity == "complaint" else COMMON_THEMES[i].praise for i in eligible]
    return list(dict.fromkeys(names))


def common_theme_named_by(phrase: str, polarity: str) -> str | None:
    """The common theme whose words the phrase is made of ("Cheaper" is a price word), by its polarity's name."""
    for theme in COMMON_THEMES:
        if theme.pattern.search(phrase):
            return theme.complaint if polarity == "complaint" else theme.praise
    return None


def phrase_name(scores: npt.NDArray[np.float64], terms: npt.NDArray[np.str_], taken: set[str]) -> str | None:
    """The theme's most distinctive phrase without stop, sentiment or filler words, capitalised; None if none."""
    excluded = excluded_words()
    best_word: tuple[float, str] | None = None
    best_pair: tuple[float, str] | None = None
    for position in np.argsort(-scores, kind="stable")[:400]:
        score = float(scores[position])
        if score <= 0:
            break
        term = str(terms[position])
        parts = term.split()
        if any(p in excluded or len(p) < 3 for p in parts) or len(set(parts)) < len(parts):
            continue
        name = term[0].upper() + term[1:]
        if name in taken or name.removesuffix("s") in {t.removesuffix("s") for t in taken}:
            continue
        if len(parts) == 1 and best_word is None:
            best_word = (score, name)
        elif len(parts) == 2 and best_pair is None:
            best_pair = (score, name)
        if best_word is not None and best_pair is not None:
            break
    if best_pair is not None and (best_word is None or best_pair[0] >= PAIR_PREFERENCE * best_word[0]):
        return best_pair[1]
    return best_word[1] if best_word is not None else None
