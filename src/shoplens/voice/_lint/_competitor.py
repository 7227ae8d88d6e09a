"""The competitor rule: a question that argues against another business's way of selling, or proposes copying it.

Both put a business model to her instead of asking what she did. Arguing against one ("instead of a
marketplace", "Isn't it safer than Temu?") asks her to side with us; proposing to copy one ("Should we offer
next-day delivery like Amazon Prime?", "a membership like Costco's", "the way Zalando does") asks her to design
our business. Copying is recognised by its form, a comparison with a capitalised name in a proposal, not by a
list of brands.
"""

from __future__ import annotations

import re

from shoplens.voice._lint._options import AskedQuestion
from shoplens.voice._lint._patterns import any_of
from shoplens.voice._lint._problem import Problem

# --- arguing against a rival's model ----------------------------------------------------------------------------------
_RIVAL = (
    r"(?:amazon(?: prime)?|ebay|etsy|shein|temu|aliexpress|alibaba|zalando|asos|walmart|taobao|zara|h&m|primark|"
    r"marketplaces?|middle-?m[ae]n|department stores?|high[- ]street(?: shops| stores)?|chain stores?|"
    r"discount (?:sites|shops|stores|retailers)|fast[- ]fashion|subscription boxe?s?|big (?:brands|retailers|chains)|"
    r"supermarkets?|competitors?|rivals?|(?:other|online) (?:shops|stores|retailers|sellers|sites|websites|brands)|"
    r"(?:online |retail |tech )?giants?|corporations?|multinationals?|big (?:online )?(?:shops|stores|companies)|"
    r"\w+ sellers)"
)
# Words that turn a mention of a rival into an argument against it.
# fmt: off
_ARGUING = "(?:{})".format("|".join((
    r"\binstead of\b", r"\brather than\b", r"\bcompared (?:with|to)\b", r"\bthan\b", r"\bunlike\b",
    r"\bswitch (?:from|to)\b", r"\bstill\b", r"\breali[sz]e\b", r"\bknow that\b", r"\blose\b", r"\bovercharge",
    r"\boverpay", r"\bfakes?\b", r"\bmark-?ups?\b", r"\bcharge more\b", r"\bpay more\b",
    r"\bhow much (?:more|extra)\b", r"\bbad value\b", r"\bsafer\b", r"\brisky\b",
    r"\bwhen (?:we|our|ours|you could|they could)\b", r"\bwhy would (?:you|people|anyone|customers)\b",
    r"\bwhy do (?:people|anyone|customers)\b", r"\bwhy (?:pay|buy|shop|order|go|bother)\b", r"\bisn't\b",
    r"\bwouldn't\b", r"\bdon't you\b", r"\bwould you rather\b",
)))
# fmt: on
_AGAINST_A_RIVAL = re.compile(rf"\b{_RIVAL}\b[^?]*{_ARGUING}|{_ARGUING}[^?]*\b{_RIVAL}\b", re.IGNORECASE)
_MIDDLEMAN = any_of(r"\bbuy direct\b", r"\bdirect from (the maker|us|the brand)\b", r"\bmiddle-?m[ae]n\b")


# --- proposing to copy a named business -------------------------------------------------------------------------------
# A capitalised name (case matters here): "Amazon Prime", "Sephora's Beauty Insider", "IKEA", "eBay".
_NAME = r"(?P<name>(?:[A-Z]|[a-z][A-Z])[\w&'’+.-]*(?: [A-Z][\w&'’+.-]*)*)"
_COMPARED_WITH_NAME = tuple(
    re.compile(pattern)
    for pattern in (
        rf"(?i:(?<!\byou )(?<!\bwe )(?<!\bI )(?<!\bthey )(?<!'d )(?<!\bwould )(?<!\bto )\b(?:just |exactly )?like "
        rf"(?:with |at |on |from )?){_NAME}",
        rf"(?i:\b(?:in )?the (?:same )?way ){_NAME}",
        rf"(?i:\bas ){_NAME}(?i: (?:does|do|did|has|have)\b)",
        rf"(?i:\b(?:similar to|the same as|in the style of|copy|copying|imitate|mimic|emulate|do what) ){_NAME}",
        rf"\b{_NAME}(?i:-style)\b",
        # What the other business has: "like the one HelloFresh has", "the trade-in scheme that CycleHub uses".
        rf"(?i:\b(?:like|as|the same as|similar to) the (?:one|ones|kind|sort|type)s? (?:that |which )?){_NAME}",
        rf"(?i:\b(?:that|which) ){_NAME}(?i: (?:uses|has|have|offers|runs|gives|provides|does|sells|introduced|"
        r"launched|started)\b)",
    )
)
# Capitalised words that name no business: the asker, holidays, months and days.
_NOT_A_BUSINESS = frozenset({
    "I", "Christmas", "Easter", "Halloween", "Black", "Cyber", "Boxing", "New", "Valentine's", "Mother's", "Father's",
    "Thanksgiving", "Ramadan", "Eid", "Diwali", "Hanukkah", "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December", "Monday", "Tuesday", "Wednesday", "Thursday",
    "Friday", "Saturday", "Sunday",
})  # fmt: skip
# Words that open a sentence without naming a business.
_PRONOUNS = frozenset({
    "We", "You", "They", "Our", "It", "Your", "This", "That", "These", "Those", "The", "My", "He", "She", "Everyone",
    "Everybody", "Nobody", "Someone", "Somebody",
})  # fmt: skip
# A proposal about what we should do: "Would you like us to …", "Should we …", "Would you prefer …".
_PROPOSAL = any_of(
    r"^\W*(?:\w+,\s*)?(would|do) you (like|prefer|want|rather|welcome|wish|be interested|be keen)\b",
    r"^\W*(?:\w+,\s*)?would you (use|try|join|sign up|subscribe|pay)\b",
    r"^\W*(?:\w+,\s*)?(should|could|shall) (we|I|our|us)\b",
    r"\b(if|wish|should|could|shall|can) we\b", r"\bus to\b", r"\bwe (should|could|ought to)\b",
    r"\bhow about\b", r"\bwhat if\b",
    r"\b(would|do) you (like|prefer|want|welcome)\b[^?]*\b(us|we|from us)\b", r"\b(from|at|with) us (too|as well)\b",
)  # fmt: skip
# The shop by its name in the proposal: "Should Gearloft bring in …" (case matters).
_NAMED_PROPOSAL = re.compile(rf"^\W*(?i:should|could|shall) {_NAME}(?i: (?!you\b)\w+)")
# What other sellers do, put before or after a proposal to match it: "Another plant shop gives a free pot …
# Should we do the same?", "our rivals all offer buy now pay later - would you want that from us too?"
_OTHERS_DO = re.compile(
    r"\b(?:another|other|rival|competing|our|the|all the|most|many|some|a lot of) (?:[\w-]+ ){0,2}(?:rivals?|"
    r"competitors?|shops?|stores?|retailers?|brands?|chains?|sellers?|companies|sites|websites|businesses)"
    r"(?: all| also| now| already)? (?:offer|offers|have|has|give|gives|run|runs|use|uses|provide|provides|sell|"
    r"sells|do|does)\b(?! you\b)",
    re.IGNORECASE,
)
_MATCH_THEM = any_of(
    r"\b(do|offer|try) the same\b", r"\bfollow suit\b", r"\b(match|copy) (it|that|them|this|theirs)\b",
    r"\b(that|it|one|this) (from|at|with) us\b", r"\b(us|we) (too|as well)\b", r"\bfrom us too\b",
    r"\b(do|offer|try|have|start|add|bring in|introduce) (that|this|it|one|something similar|the like) (too|as well)\b",
    r"\b(like|as good as|similar to) theirs\b", r"\bfollow (them|their lead|their example)\b",
    r"\b(should|could|shall) (we|our (?:[\w-]+ ){0,3}?[\w-]+) (also|too|as well)\b",
)  # fmt: skip
# Another seller's offer stated as a fact, by a name or as a kind of seller ("Tidewear gives a free bag with every
# order.", "Other bakeries let you pre-order online."), then a proposal to match it.
_NAMED_OFFER = re.compile(
    rf"^\W*{_NAME}(?: (?i:now|already|also|even|all))? (?i:offers?|gives?|has|have|runs?|lets?|provides?|sells?|"
    r"includes?|throws? in|allows?|does|do|is|are|charges?|costs?)\b"
)
_SELLERS_OFFER = re.compile(
    r"^\W*(?:another|other|rival|competing|some|many|most|all the|a lot of) (?:[\w-]+ ){0,2}?[\w-]+(?:s|ies)"
    r"(?: all| also| now| already| even)? (?:offer|have|give|run|use|provide|sell|let|allow|include|do|throw in)\b",
    re.IGNORECASE,
)
# Asked outright about our rival: "the loyalty scheme at our rival, …", "what our competitors charge".
_OUR_RIVAL = re.compile(
    r"\b(?:our|one of our) (?:main |biggest |nearest |closest |local |big )?(?:rivals?|competitors?|competition)\b",
    re.IGNORECASE,
)


# Copying unnamed rivals: "a price-match promise like the big chains offer", "the way other shops do it".
_LIKE_OTHER_SELLERS = re.compile(
    r"\b(?:just |exactly )?(?:like|as|the (?:same )?way) (?:the |other |most |some |many |all the )?(?:[\w-]+ ){0,3}"
    r"(?:chains?|retailers?|shops|stores|supermarkets?|sites|websites|brands|companies|marketplaces?|competitors?|"
    r"rivals?|sellers|giants?|big boys|high street)\b(?: (?:offer|offers|do|does|did|have|has|run|runs|give|gives))?",
    re.IGNORECASE,
)
# Her own shopping around is hers to tell ("Did you look at any of our competitors before ordering?").
_HER_SHOPPING_AROUND = re.compile(
    r"\b(?:did|have|do) you (?:\w+ ){0,2}?(?:look|looked|compare|compared|visit|visited|try|tried|buy|bought|shop|"
    r"shopped|check|checked|consider|considered|use|used)\b",
    re.IGNORECASE,
)


def _copied_business(stem: str) -> re.Match[str] | None:
    if _MATCH_THEM.search(stem):
        if others := _OTHERS_DO.search(stem) or _SELLERS_OFFER.search(stem):
            return others
        offer = _NAMED_OFFER.search(stem)
        if offer and offer.group("name").split()[0] not in _NOT_A_BUSINESS | _PRONOUNS:
            return offer
    named = _NAMED_PROPOSAL.search(stem)
    if not _PROPOSAL.search(stem) and not (named and named.group("name").split()[0] not in _NOT_A_BUSINESS):
        return None
    if copied := _LIKE_OTHER_SELLERS.search(stem):
        return copied
    for pattern in _COMPARED_WITH_NAME:
        for found in pattern.finditer(stem):
            first = found.group("name").split()[0]
            if first not in _NOT_A_BUSINESS and re.sub(r"['’]s$", "", first) not in _NOT_A_BUSINESS:
                return found
    return None


# How she herself shops, one kind of seller against another ("How often do you buy bread from a bakery rather than a
# supermarket?"): what she does, not a rival's model argued against.
_HER_OWN_SHOPPING = re.compile(
    r"^\W*(?:how often|how many times|how much|when|where|which|what) (?:\w+ )?(?:do|did|have|does) (?:you|u) "
    r"(?:usually |normally |mostly |ever )?(?:buy|bought|shop|shopped|order|ordered|get|purchase|purchased|choose)\b",
    re.IGNORECASE,
)


def competitor(asked: AskedQuestion) -> Problem | None:
    against = None if _HER_OWN_SHOPPING.search(asked.stem) else _AGAINST_A_RIVAL.search(asked.stem)
    if found := against or _MIDDLEMAN.search(asked.stem):
        return Problem(
            "competitor",
            f"'{found.group(0).strip()}' argues against a competitor's way of selling instead of asking what she did",
            'Ask what she did: "Where else did you look before ordering, and what made you choose where to buy?"',
        )
    if (rival := _OUR_RIVAL.search(asked.stem)) and not _HER_SHOPPING_AROUND.search(asked.stem):
        return Problem(
            "competitor",
            f"'{rival.group(0)}' asks her about another business's offer instead of what she did",
            'Ask what she did: "Where else did you look before ordering, and what made you choose where to buy?"',
        )
    if copied := _copied_business(asked.stem):
        return Problem(
            "competitor",
            f"'{copied.group(0).strip()}' proposes copying another business's model; she can only say whether it "
            "sounds good, not what she needs",
            'Ask what she did: "Where else did you look before ordering, and what made you choose where to buy?"',
        )
    return None
