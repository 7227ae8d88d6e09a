"""Rules on whose interests a question serves: product-centric, my-company, sales-pitch, debating-choice.

A survey is for learning about the customer: what she needed, did and went through. Questions that ask her to
judge our product or brand in the abstract, to take an interest in the asker's company or background, or to
defend a choice she made, tell us what she thinks we want to hear (a competitor's model: ``_competitor``).
"""

from __future__ import annotations

import re

from shoplens.voice._lint._options import AskedQuestion
from shoplens.voice._lint._patterns import any_of
from shoplens.voice._lint._problem import Problem

# --- product-centric --------------------------------------------------------------------------------------------------
_THING = (
    r"(?:[\w&'’-]+ ){0,3}(?:products?|product range|range|product lines?|brand|brand name|logo|website|site|app|"
    r"packaging|design|collection|features?|idea|concept|name|homepage|home page|banner|layout|slogan|tagline|"
    r"advert|ad|campaign|label|labels|catalogue|catalog|theme|mascot|look|colou?r scheme|colou?rs|fonts?|branding)\b"
)
# Details of how a product looks or is made.
_DETAIL = (
    r"(?:logos?|shapes?|colou?rs?|colou?r schemes?|designs?|looks?|labels?|fonts?|packaging|caps?|lids?|finish|"
    r"patterns?|styles?|names?|artwork|illustrations?|branding|typeface|bottles?|boxes|wrappers?|handles?|shades?|"
    r"tones?|hues?|lighting|lights|trims?|prints?)"
)
_OUR_THING = rf"(?:our|the|this) {_THING}"
# "… on the X case glow", "… of our jacket be": a part of a product and how it should look or work.
_PART_OF = (
    r"(?:on|of|for|in) (?:the|our|my|this|its) (?:[\w-]+ ){0,3}[\w-]+ (?:have|be|glow|light|come|look|use|feature|get|"
    r"carry|include|show|display|stay|turn|change|default)"
)
_JUDGING_US = any_of(
    rf"^(please )?rate {_OUR_THING}",
    rf"^(please )?rate the features of {_OUR_THING}",
    r"\bhow \w+ (is|are|do you find|would you say is|would you say are) our\b",
    r"\bwhat do you think (of|about) (our|my)\b",
    rf"\b(do|did) you (\w+ )?like {_OUR_THING}",
    rf"\bhow do you like {_OUR_THING}",
    rf"\bhow (would|do) you (rate|describe|judge|sum up|define|characteri[sz]e) {_OUR_THING}",
    r"\bwhich of our \w+( \w+){0,4}? (is|are) (the |our )?(best|better|worst|most|\w+est)\b",
    rf"\b(is|are) {_OUR_THING} (worth|good|any good|better|value)\b",
    r"\bwhat (features?|products?) (should|would|could) (our|the|we)\b",
    r"\bfeatures? of our (product|app|service)\b",
    # Designing our range: "Which colour should we add to the range next?", "What should we stock next?"
    r"\b(what|which)\b[^?]*\b(should|could|shall) (we|I) (add|stock|make|launch|sell|bring out|introduce|design|"
    r"release|carry|develop)\b",
    # Improving it: "How would you improve our bike range?", "What would you change about our app?"
    rf"\bhow (would|could|should|can) (you|we|I) (improve|change|redesign|fix|rework) {_OUR_THING}",
    rf"\bwhat would you (improve|change|redesign|fix) (about|in|on) {_OUR_THING}",
    # Scoring it: "Score our new collection", "Give our app a score", "How many stars would you give our site?"
    rf"^(please )?(score|grade|rank|mark|evaluate|assess|judge|review) {_OUR_THING}",
    rf"\b(give|award) {_OUR_THING} (a |an )?(\w+ )?(score|rating|grade|mark|stars?|points?)\b",
    rf"\b(what|which|how many) (\w+ )?(score|rating|grade|mark|stars?|points?)\b[^?]*\b(give|award) {_OUR_THING}",
    # A part of it, judged: "What do you think of the colour scheme on our new website?"
    rf"\bwhat do you (think|make) (of|about) (the|this|that|these|its) [^?]*\b(on|of|in|for|across) (our|my) {_THING}",
    rf"^\W*(please )?(describe|sum up|define|characteri[sz]e|summari[sz]e) (our|this|my) {_THING}",
    r"^\W*(please )?(describe|sum up|define|characteri[sz]e|summari[sz]e) us\b",
    # A design detail of what we make, put to her to judge or choose: "Do you like the shape of our …", "What do
    # you think of the new logo on our …", "What colour should our next … be?", "Should our … have a … cap?"
    rf"\b(do you like|how do you like|what do you think of|what do you think about|what do you make of|how do you "
    rf"feel about|do you prefer) (the|this|that|its) (new |current |latest |updated |old )?{_DETAIL}\b[^?]*"
    r"\b(of|on|for|in) (our|my)\b",
    rf"\b(do you like|how do you like|what do you think of|what do you make of) (our|my) ([\w-]+ ){{0,2}}{_DETAIL}\b",
    rf"^\W*(what|which) ([\w-]+ )?{_DETAIL}\b[^?]*\b(should|would|could|shall) (our|we|my|I|the shop)\b",
    r"^\W*should (our|my) ([\w-]+ ){0,3}[\w-]+ (have|be|come in|look|use|feature|get|carry|include)\b",
    # The detail as our choice: "Do you like the shade of navy we chose for the new blazers?"
    rf"\b(do you like|how do you like|what do you think of|what do you think about|what do you make of|how do you "
    rf"feel about|do you prefer) (the|this|that|its) (new |current |latest |updated |old )?{_DETAIL}\b[^?]*"
    r"\b(we|I) (chose|picked|selected|designed|went with|decided on|made|used|gave)\b",
    # A part of a product, designed by her: "Should the lighting on the X case glow blue or red by default?", any
    # part when she is given looks to pick from ("Should the buttons on the X jacket be silver or black?").
    rf"^\W*should (the|our|my|its) ([\w-]+ ){{0,2}}{_DETAIL} {_PART_OF}\b",
    # (Not what should be done with it, "Should the parcel for the party be delivered Friday or Saturday?")
    rf"^\W*should (the|our|my|its) ([\w-]+ ){{0,2}}[\w-]+ {_PART_OF}(?! [\w-]+(ed|en)\b) [\w -]+ or [\w -]+\??$",
)
# The shop by its own name where "we" or "our" would stand (case matters: a capitalised name):
# "Describe the Kettlecraft brand in three words.", "What range should Greenleaf Kits launch next?"
# A name may run to several words joined by "&", "and" or "of" ("Pip & Puddle Books", "House of Threads").
_NAME = r"(?:[A-Z][\w&'’+.-]*)(?:(?: &| and| of)? [A-Z][\w&'’+.-]*)*"
_NAMED_US = tuple(
    re.compile(pattern)
    for pattern in (
        rf"^\W*(?i:(?:please )?(?:describe|sum up|define|characteri[sz]e|summari[sz]e|rate|score|rank|judge) the )"
        rf"{_NAME}(?i: (?:brand|brand name|logo|range|products?|product range|collection|website|site|app|"
        r"packaging|name|look|style|shop|store|company)\b)",
        rf"(?i:\b(?:what|which)\b[^?]*\b(?:should|could|shall) ){_NAME}(?i: (?:add|stock|make|launch|sell|"
        r"bring out|introduce|design|release|carry|develop)\b)",
        # "How would you improve Boltwise's drill range?", "How could Kettlecraft improve its app?"
        rf"(?i:\bhow (?:would|could|should|can) (?:you|we) (?:improve|change|redesign|fix|rework) (?:the )?){_NAME}"
        rf"(?:['’]s)?(?i: {_THING})",
        rf"(?i:\bhow (?:would|could|should|can) ){_NAME}(?i: (?:improve|change|redesign|fix|rework) "
        rf"(?:its|their|the) {_THING})",
    )
)


def _named_us(stem: str) -> re.Match[str] | None:
    for pattern in _NAMED_US:
        if (found := pattern.search(stem)) and not re.search(r"\b(I|We|You|They|She|He)\b", found.group(0)[-40:]):
            return found
    return None


def product_centric(asked: AskedQuestion) -> Problem | None:
    if found := _JUDGING_US.search(asked.stem) or _named_us(asked.stem):
        return Problem(
            "product-centric",
            f"'{found.group(0).strip()}' asks her to judge our product instead of telling us about her needs and "
            "experience",
            'Ask about her use of it: "What did you use it for in the first week, and how did that go?"',
        )
    return None


# --- my company / my background ---------------------------------------------------------------------------------------
_ABOUT_THE_ASKER = any_of(
    r"\bmy (?:new |own |latest )?(company|business|background|experience|career|story|shop|store|brand|team|idea|"
    r"mission|vision|designs?|products?|plans?|collections?|range|work|website|site|app)\b",
    r"\b(our|my) (company|business|firm)\b",
    r"\bthe (company|business|firm)'s (mission|history|plans?|values|story|future|growth|expansion|vision)\b",
    r"\bour (mission|vision|values|brand story|founders?|owners?|history)\b",
    r"\b(like|as) me\b",
    r"\bas (the|a) founder\b",
    r"\bI (founded|started|built|created|designed|run|own|opened)\b",
    r"\b(did you know|were you aware|are you aware|do you know)( that)? (we|I|our|my)\b",
    r"\bshould (we|I) (move|open|hire|expand|change|invest|raise|sell|close|launch|rename|rebrand|grow)\b",
    r"\bour team worked\b",
    r"^\W*(?:\w+,\s*)?should (our|my) ([\w-]+ ){1,2}(move|open|hire|expand|change|invest|raise|sell|close|launch|"
    r"rename|rebrand|grow|relocate|merge|partner|switch|stop|start|take on|drop|cut|borrow|bank|go)\b",
    r"\b(our|my) (plans?|decision|intention|proposal|idea) to\b",
    r"\b(venture capital|angel investors?|private equity|a bank loan|business loan|business accounts?|going public|"
    r"stock market listing)\b",
    # The company's own decisions, put to her: "Should we switch supplier?", "… to cut our fees?"
    r"^\W*(?:\w+,\s*)?should (we|I)\b",
    r"^\W*(what|which|how much|how many|when|where|how)\b[^?]*\b(should|shall|ought) (we|I)\b(?! to have\b)",
    r"\b(make|makes|get|earn|keep|improve|protect|grow) (a |our )?(better|bigger|higher|healthier|more|decent )?"
    r"(margins?|profits?|profitability)\b",
    r"\b(do|would) you (think|say|reckon) (that )?(we|I|our( [\w-]+){1,2}) should\b",
    r"\b(to|and) (cut|reduce|lower|save on|trim) our (costs?|fees|expenses|overheads|spending|bills)\b",
    r"\bour (payment provider|suppliers?|investors?|shareholders?|funding|accountants?|overheads|payroll|"
    r"headquarters|business model|strategy|roadmap)\b",
    # Her money in the business: "investing in our crowdfunding round", "buying shares in us".
    r"\binvest(ing|ment)? in (us|our|my|the company|the business|this company|this business)\b",
    r"\b(crowdfunding|crowd-funding|funding round|investment round|share offer|equity stake)\b",
    r"\bshares in (us|our|my|the company|the business)\b",
    # Who funds the company, named any way: "the new investors backing Reefside Aquatics".
    r"\b(investors?|shareholders?|backers|financiers?)\b",
)


# The company's decision with the shop by its name (case matters): "Should Hookline Tackle open a shop in Leeds?"
_NAMED_DECISION = re.compile(
    rf"^\W*(?i:should|shall|ought) (?!(?:I|We|You|They|She|He|It)\b){_NAME}(?: (?i:now|also|still|ever))? "
    r"(?i:move|open|hire|expand|change|invest|raise|sell|close|launch|rename|rebrand|grow|relocate|merge|partner|start|stop|cut|"
    r"switch|build|take on|drop|acquire|buy)\b"
)


def my_company(asked: AskedQuestion) -> Problem | None:
    if found := _ABOUT_THE_ASKER.search(asked.stem) or _NAMED_DECISION.search(asked.stem):
        return Problem(
            "my-company",
            f"'{found.group(0)}' is about the asker's own company or background, not about the customer",
            'Ask about her situation: "What were you trying to get done when you visited us?"',
        )
    return None


# --- sales pitch ------------------------------------------------------------------------------------------------------
_PITCH = any_of(
    r"\b(never|don't|do not) overcharge\b",
    r"\bsaves? you (money|time)\b",
    r"\bour (prices|products|quality|service|delivery) (are|is) (lower|better|cheaper|faster|higher)\b",
    r"\bwould you like to (join|subscribe|sign up|upgrade)\b",
    r"\bwould you support\b",
    r"\bdeserves? (more )?(customers|support|a chance)\b",
)


def sales_pitch(asked: AskedQuestion) -> Problem | None:
    if found := _PITCH.search(asked.stem):
        return Problem(
            "sales-pitch",
            f"'{found.group(0)}' argues for our offer instead of asking",
            'Ask what she did and why: "What made you choose this order over the other options you looked at?"',
        )
    return None


# --- debating the customer's choices ----------------------------------------------------------------------------------
_COUNTERARGUMENT = r"\b(when|even though|although|though|despite|instead of|rather than|if you could)\b"
_WHY_CHOSE = re.compile(
    rf"^\W*why (?:on earth |ever |in the world )?(did|would|do) you (\w+)\b(.*?)\s*{_COUNTERARGUMENT}", re.IGNORECASE
)
_WHY_NOT = re.compile(
    r"^\W*why (didn't|did not|don't|do not|wouldn't|haven't|hadn't|weren't) you (\w+)\b(.*?)[?.]?$", re.IGNORECASE
)
_SECOND_GUESSING = any_of(
    r"\byou should(n't| not)? have\b",
    r"\bare you sure\b",
    r"\b(was(n't)?|is(n't)?) (it|that) (really )?(a mistake|wise|sensible|necessary|needed|a good idea|"
    r"the right (choice|decision))\b",
    r"\bwhy (on earth|ever|in the world)\b",
    r"\b(the best|the right|a wise|a good) (way|choice|decision|idea) to\b",
    r"\bdo you regret\b",
    # Pressing her to revisit it: "Have you reconsidered your decision to cancel?", "… changed your mind about
    # leaving?" (a change of mind along the way, "Did you change your mind about anything at checkout?", is hers).
    r"\b(re-?consider(ed|ing)?|re-?think(ing)?|rethought)\b",
    r"\b(changed? (your|ur) mind|second thoughts) about (your|ur|cancel\w*|leav\w*|quitting|stopping|switching|"
    r"returning|closing|unsubscrib\w*|going)\b",
    r"\bregret (not|buying|choosing|ordering)\b",
    r"\bwhat made you think\b",
    r"\bwhat were you thinking\b",
    r"\bwhy did you (wait|delay|take so long|ignore|skip|miss|leave it)\b",
    # Her decision made too soon, in the asker's eyes: "Why did you cancel after only two lessons?", "… so soon?"
    r"^\W*why (did|would|do) (you|u)\b[^?]*\b(after only|after just|only after|within only|within just|so soon|"
    r"so quickly|so early|so fast|so easily)\b",
    # Doubting she needed what she chose: "Did you really need the 12-pack?", "Do you honestly use all of them?"
    r"\b(did|do|does|were|was) (you|u|it) (really|actually|honestly|truly|seriously) (need|want|have to|require|use|"
    r"mean to|think|expect)\b",
    r"\b(really|actually|truly|honestly) (need|needed|want|wanted|required)\b",
    r"\bwhy did you \w+ (a|an|the|this|that|your) [\w' -]+ (that|which) (matched|fit|fitted|worked|was|were|had)\b",
    # Disbelief at what she chose: "Why would you buy the cheapest …?", "Why would you go for that one?"
    r"^\W*why would (you|u|anyone|anybody|someone) (buy|pick|choose|go for|get|order|opt for|settle for|pay for)\b",
    # Pointing out what she missed: "Did you not consider …", "… would have been better value?"
    r"\b(did|do|have|had) (you|u) not (consider|think|realise|realize|notice|see|check|look|know)\b",
    r"\b(didn't|hadn't|haven't) (you|u) (consider|considered|realise|realised|realize|realized|notice|noticed)\b",
    r"\bwould have been (a )?(better|cheaper|wiser|smarter|more sensible|the better|the smarter|a wiser)\b",
)


def debating_choice(asked: AskedQuestion) -> Problem | None:
    stem = asked.stem
    if chose := _WHY_CHOSE.search(stem):
        return Problem(
            "debating-choice",
            f"'{chose.group(0).strip()}' argues with a choice she made; she defends it instead of explaining it",
            f'"What made you {chose.group(2)}{chose.group(3).rstrip(" ,")}?"',
        )
    if not_done := _WHY_NOT.search(stem):
        return Problem(
            "debating-choice",
            f"'why {not_done.group(1)} you' implies she should have; she defends herself instead of explaining",
            f'"Did you {not_done.group(2)}{not_done.group(3).rstrip(" ,")}? (Yes / No / Don\'t remember)"',
        )
    if second_guess := _SECOND_GUESSING.search(stem):
        return Problem(
            "debating-choice",
            f"'{second_guess.group(0)}' questions her judgement; she defends her choice instead of explaining it",
            'Ask what happened and why, without judging: "What made you choose this one?"',
        )
    return None
