"""Feedback after each learner turn: a more natural phrasing and short rule-based notes.

The suggestion is the script phrasing of the recognised intent closest to what the learner said (with
the learner's number carried over), so it is always a sentence a native speaker wrote for that situation.
The notes come from explicit rules, each aimed at a mistake Korean learners of English make often:
spelling (typed turns only), articles, singular/plural after numbers, past tense after past-time words,
question word order, and word choice (Konglish, over-direct requests, homophones in typed text).
Rules are precise rather than complete: `malgeul eval conversation` measures their recall on a
labelled set and their false alarms on every phrasing of the scripts.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from pathlib import Path
from typing import Literal

import yaml

from services.tts.conversation.scripts import ScriptBook
from services.tts.conversation.text import NUMBER_WORDS, similarity, words
from services.tts.conversation.understanding import Interpretation

Source = Literal["text", "speech"]

_DETERMINERS = {
    "a", "an", "the", "my", "your", "his", "her", "our", "their", "its", "this", "that", "these", "those",
    "some", "any", "another", "each", "every", "no", "one", "what", "which", "whose", "kim's", "more",
    "another", "much", "many", "other", "same", "few", "little", "first", "next", "last",
}
# Singular countable nouns of the scenes; a bare one after these words needs an article.
_COUNTABLE = {
    "table", "room", "reservation", "booking", "seat", "ticket", "bag", "suitcase", "taxi", "cab", "discount",
    "receipt", "menu", "fork", "knife", "spoon", "towel", "blanket", "pillow", "jacket", "dress", "shirt",
    "headache", "stomachache", "toothache", "fever", "cough", "appointment", "coupon", "refund",
    "question", "problem", "student", "nurse", "teacher", "engineer", "job", "car", "map",
    "pharmacy", "bank", "station", "hotel", "museum", "passport", "boarding", "gift", "present", "window",
    "glass", "cup", "bottle", "conference", "colleague",
    "coworker", "friend", "classmate", "allergy",
}
_NOUN_MODIFIERS = {
    "window", "aisle", "single", "double", "twin", "quiet", "big", "small", "bigger", "smaller", "good", "bad",
    "terrible", "little", "white", "black", "blue", "red", "new", "free", "student", "business", "credit",
    "exchange", "software", "high", "sore", "nice", "cheap", "late", "early", "late", "taxi", "birthday",
    "doctor's", "dental", "graduate", "great", "short",
}
_ARTICLE_TRIGGERS = {
    "have", "has", "need", "want", "book", "reserve", "get", "got", "is", "am", "are", "was", "for", "like",
    "take", "buy", "call", "see", "make", "made", "into", "with", "caught", "catch", "its", "there", "find",
    "looking", "recommend", "bring", "give", "'m", "i'm", "it's", "wear", "order",
}
_PLURALS = {
    "night": "nights", "day": "days", "week": "weeks", "bag": "bags", "ticket": "tickets", "person": "people",
    "minute": "minutes", "hour": "hours", "dollar": "dollars", "year": "years", "month": "months",
    "room": "rooms", "seat": "seats", "suitcase": "suitcases", "child": "children", "kid": "kids",
    "adult": "adults", "beer": "beers", "coffee": "coffees", "friend": "friends", "time": "times",
}
_PAST_MARKERS = re.compile(r"\b(yesterday|last (night|week|weekend|month|year|time)|ago|this morning)\b")
_PAST = {
    "go": "went", "eat": "ate", "make": "made", "take": "took", "have": "had", "come": "came", "see": "saw",
    "buy": "bought", "sleep": "slept", "catch": "caught", "fall": "fell", "meet": "met", "arrive": "arrived",
    "book": "booked", "reserve": "reserved", "start": "started", "call": "called", "forget": "forgot",
    "lose": "lost", "order": "ordered", "vomit": "vomited", "throw": "threw", "get": "got", "feel": "felt",
    "hurt": "hurt", "cut": "cut", "is": "was", "are": "were", "am": "was", "drink": "drank", "leave": "left",
    "stay": "stayed", "visit": "visited", "watch": "watched", "begin": "began", "break": "broke",
}
_NOT_PAST_BEFORE = {"did", "will", "to", "can", "could", "would", "should", "didn't", "don't", "not", "must"}
_WH = {"what", "where", "when", "why", "how", "which"}
_SUBJECTS = {"you", "i", "we", "they", "he", "she", "it"}
_MODALS = {"can", "could", "should", "will", "would", "must", "may", "am", "is", "are", "was", "were"}
# (pattern, note): word choice, Konglish and over-direct forms, written for Korean learners.
_WORD_CHOICE: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"\bpeoples\b"), "Word choice: 'people' is already plural (not 'peoples')."),
    (re.compile(r"\b(two|three|four|five|six|[2-9]) persons?\b"), "Word choice: say 'two people', not 'two person(s)'."),
    (re.compile(r"\b(i am|i'm) agree\b"), "Word choice: 'agree' is a verb: say 'I agree', not 'I am agree'."),
    (re.compile(r"\bdiscuss about\b"), "Word choice: say 'discuss something' (no 'about')."),
    (re.compile(r"\beye shopping\b"), "Word choice: 'eye shopping' is Konglish; say 'window shopping'."),
    (re.compile(r"\bhand ?phone\b"), "Word choice: 'handphone' is Konglish; say 'cell phone' or 'phone'."),
    (re.compile(r"\brunning nose\b"), "Word choice: say 'a runny nose'."),
    (re.compile(r"\b(is|are|am) hurt\b(?! by)"), "Word choice: say 'my head hurts' ('hurt' is the verb), not 'is hurt'."),
    (re.compile(r"\b(i am|i'm) allergy\b"), "Word choice: say 'I'm allergic to ...' (allergy is the noun)."),
    (re.compile(r"\bhow (to|can i) go (to )?"), "Word choice: ask 'How do I get to ...?' for directions."),
    (re.compile(r"\b(i am|i'm) finding\b"), "Word choice: say 'I'm looking for ...' while you search."),
    (re.compile(r"\b(more) (bigger|smaller|cheaper|better|longer|shorter)\b"), "Word choice: 'bigger' already means 'more big'; drop 'more'."),
    (re.compile(r"^give me\b|\bplease give me\b"), "Politeness: 'Could I have ...?' or 'I'd like ...' sounds friendlier than 'Give me ...'."),
    (re.compile(r"^i want (a |an |the |some |to )?(check|order|pay|book|water|coffee|table|room|refund|discount|menu|bill|wine|beer|juice|cola|coke|steak|pasta|pizza|chicken|salad|soup)"),
     "Politeness: 'I'd like ...' is more polite than 'I want ...' when you ask for something."),
    (re.compile(r"\bi very (like|love|want)\b"), "Word order: say 'I really like ...' or 'I like ... very much'."),
    (re.compile(r"\bsound good\b"), "Grammar: 'That sounds good' ('sounds' with -s)."),
    (re.compile(r"\bthanks you\b"), "Word choice: say 'thank you' or 'thanks' (not 'thanks you')."),
    (re.compile(r"\bi'm fine,? thank you,? and you\b"), "Word choice: textbook 'I'm fine, thank you, and you?' sounds stiff; try 'Good, thanks. How about you?'"),
    (re.compile(r"\bmake (a )?reservation yesterday\b"), "Tense: say 'made a reservation' for something in the past."),
]
# Homophones a typist confuses (a recogniser makes the same confusion, so only typed turns get these).
_HOMOPHONES: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"\bisle (seat)?\b"), "Spelling: 'aisle' (a seat by the aisle); an 'isle' is an island."),
    (re.compile(r"\bczech\b"), "Spelling: 'check' (the bill); 'Czech' is the country's language."),
    (re.compile(r"\bnice to meat\b"), "Spelling: 'nice to meet you' ('meat' is food)."),
    (re.compile(r"\bstake\b"), "Spelling: 'steak' (beef); a 'stake' is a wooden post."),
    (re.compile(r"\bdesert\b(?! island)"), "Spelling: 'dessert' (sweet course) has two s's; a 'desert' is sand."),
]


@dataclass
class Feedback:
    """What the learner could say more naturally, and why."""

    suggestion: str | None
    notes: list[str] = field(default_factory=list)


class FeedbackWriter:
    """Builds feedback for a turn from the interpretation and the learner's words."""

    def __init__(self, book: ScriptBook, spelling: bool = True) -> None:
        self._speller = None
        if spelling:
            from spellchecker import SpellChecker

            self._speller = SpellChecker()
        # Words of the scripts are known even when the dictionary lacks them (wifi, Airbnb, K-pop).
        self._known = {
            w
            for topic in book.topics.values()
            for scene in topic.scenes.values()
            for text in [scene.bot, scene.reprompt, scene.hint, *(p for i in scene.intents for p in i.phrasings)]
            for w in words(text)
        }
        self._known.update(w for i in book.common for p in i.phrasings for w in words(p))

    def review(self, text: str, interpretation: Interpretation, source: Source = "text") -> Feedback:
        notes = self.notes(text, source)
        suggestion = None
        if interpretation.phrasing:
            suggestion = _carry_number(text, interpretation.phrasing)
            if similarity(text, suggestion) >= 0.9 and not notes:
                suggestion = None  # already natural: no need to rephrase
        return Feedback(suggestion=suggestion, notes=notes)

    def notes(self, text: str, source: Source = "text") -> list[str]:
        """Short notes on ``text``; spelling and homophones only for typed turns."""
        lowered = " ".join(words(text))
        tokens = lowered.split()
        notes: list[str] = []
        if source == "text":
            notes += self._spelling(text)
            notes += [note for pattern, note in _HOMOPHONES if pattern.search(lowered)]
        notes += _articles(tokens)
        notes += _plurals(tokens)
        notes += _tense(lowered, tokens)
        notes += _question_order(tokens)
        notes += [note for pattern, note in _WORD_CHOICE if pattern.search(lowered)]
        seen: set[str] = set()
        return [n for n in notes if not (n in seen or seen.add(n))][:4]

    def _spelling(self, text: str) -> list[str]:
        if self._speller is None:
            return []
        notes = []
        for raw in re.findall(r"[A-Za-z][A-Za-z']+", text):
            word = raw.lower()
            if len(word) < 4 or "'" in word or word in self._known or raw[0].isupper():
                continue  # short words, contractions and capitalised names are left alone
            if word not in self._speller.unknown([word]):
                continue
            fix = self._speller.correction(word)
            # Only a near miss is a spelling slip; "asdf" -> "and" would be a guess, not feedback.
            if fix and fix != word and SequenceMatcher(None, word, fix).ratio() >= 0.75:
                notes.append(f"Spelling: '{fix}', not '{word}'.")
        return notes


def _articles(tokens: list[str]) -> list[str]:
    notes = []
    for i, token in enumerate(tokens):
        if i + 1 < len(tokens):
            nxt = tokens[i + 1]
            if token == "a" and nxt[0] in "aeio" and not nxt.startswith(("one", "use", "uni", "eu")):
                notes.append(f"Articles: say 'an {nxt}' (before a vowel sound).")
            if token == "an" and nxt[0] not in "aeiou" and not nxt.startswith(("hour", "honest")):
                notes.append(f"Articles: say 'a {nxt}' (before a consonant sound).")
        if token not in _COUNTABLE:
            continue
        if i + 1 < len(tokens) and tokens[i + 1] in _COUNTABLE | {"seat", "call", "ticket", "pass"}:
            continue  # the noun modifies the next one ("window seat"); check that one instead
        j = i - 1
        while j >= 0 and tokens[j] in _NOUN_MODIFIERS:
            j -= 1
        if j < 0 or tokens[j] in _DETERMINERS or tokens[j].isdigit() or tokens[j] in NUMBER_WORDS:
            continue
        if tokens[j] in _ARTICLE_TRIGGERS:
            phrase = " ".join(tokens[j + 1 : i + 1])
            article = "an" if phrase[0] in "aeiou" else "a"
            notes.append(f"Articles: say '{article} {phrase}' (or 'the {phrase}'); a single {token} needs an article.")
    return notes


def _plurals(tokens: list[str]) -> list[str]:
    notes = []
    for i in range(len(tokens) - 1):
        number = tokens[i]
        value = NUMBER_WORDS.get(number) or (int(number) if number.isdigit() and len(number) < 3 else 0)
        noun = tokens[i + 1]
        if value >= 2 and noun in _PLURALS and not (i + 2 < len(tokens) and tokens[i + 2] in ("o'clock", "old")):
            notes.append(f"Plural: say '{number} {_PLURALS[noun]}' (more than one).")
    return notes


def _tense(lowered: str, tokens: list[str]) -> list[str]:
    if not _PAST_MARKERS.search(lowered) or "since" in tokens:
        return []
    marker = _PAST_MARKERS.search(lowered).group(0)  # type: ignore[union-attr]
    for i, token in enumerate(tokens):
        if token in _PAST and _PAST[token] != token and (i == 0 or tokens[i - 1] not in _NOT_PAST_BEFORE):
            if token in ("have", "is", "are", "am") and i + 1 < len(tokens) and tokens[i + 1].endswith("ed"):
                continue
            return [f"Tense: with '{marker}', use the past: '{_PAST[token]}' instead of '{token}'."]
    return []


def _question_order(tokens: list[str]) -> list[str]:
    """'What you recommend?' -> 'What do you recommend?'; 'Where I can eat?' -> 'Where can I eat?'."""
    if len(tokens) < 3 or tokens[0] not in _WH or tokens[1] not in _SUBJECTS:
        return []
    wh, subject, rest = tokens[0].capitalize(), "I" if tokens[1] == "i" else tokens[1], tokens[2:]
    if rest[0] in _MODALS:
        return [f"Questions: put '{rest[0]}' before the subject: '{wh} {rest[0]} {subject} {' '.join(rest[1:])}?'"]
    helper = "does" if subject in ("he", "she", "it") else "do"
    return [f"Questions: add '{helper}': '{wh} {helper} {subject} {' '.join(rest)}?'"]


def _carry_number(text: str, phrasing: str) -> str:
    """Put the learner's number (if any) into the suggested phrasing ("table for four")."""
    said = [w for w in words(text) if w in NUMBER_WORDS or (w.isdigit() and 1 <= int(w) <= 12)]
    if len(said) != 1:
        return phrasing
    value = NUMBER_WORDS.get(said[0]) or int(said[0])
    word = next(k for k, v in NUMBER_WORDS.items() if v == value)
    pattern = re.compile(r"\b(" + "|".join(NUMBER_WORDS) + r")\b", re.IGNORECASE)
    if len(pattern.findall(phrasing)) != 1:
        return phrasing
    return pattern.sub(lambda m: word.capitalize() if m.group(0)[0].isupper() else word, phrasing)


@dataclass
class FeedbackScore:
    expected: int = 0
    found: int = 0
    clean_checked: int = 0
    false_alarms: int = 0

    @property
    def recall(self) -> float:
        return self.found / max(1, self.expected)

    @property
    def false_alarm_rate(self) -> float:
        return self.false_alarms / max(1, self.clean_checked)


def evaluate_feedback(path: Path, book: ScriptBook) -> FeedbackScore:
    """Recall of the notes on labelled learner sentences; false alarms on the scripts' own phrasings."""
    writer = FeedbackWriter(book)
    score = FeedbackScore()
    for case in yaml.safe_load(path.read_text(encoding="utf-8")) or []:
        got = {n.split(":", 1)[0].lower() for n in writer.notes(case["text"], case.get("source", "text"))}
        for category in case["notes"]:
            score.expected += 1
            score.found += category in got
    clean = [p for t in book.topics.values() for s in t.scenes.values() for i in s.intents for p in i.phrasings]
    clean += [s.hint for t in book.topics.values() for s in t.scenes.values()]
    for text in clean:
        score.clean_checked += 1
        score.false_alarms += bool(writer.notes(text))
    return score
