"""One text pipeline for every layer: sentence boundaries, the terms words are matched by, and truncation."""

from __future__ import annotations

import importlib.util
import re
import threading
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

import Stemmer

if TYPE_CHECKING:
    from nltk.tokenize.punkt import PunktParameters, PunktSentenceTokenizer

# sentences ----------------------------------------------------------------------------------------------------------
# Added to Punkt's English abbreviations (trained on the WSJ, which lacks many that news writes): AP-style titles,
# companies, places, months and states. A period after one ends a sentence only when the next word is one that
# starts sentences (Punkt's orthographic evidence), as in "at 2 a.m. The fire".
ABBREVIATIONS = frozenset(
    """
gov lt sen rep reps sgt cpl pvt capt cmdr col gen maj adm brig rev msgr sr jr dr mr mrs ms prof supt det atty
co corp inc ltd bros cos st mt ft ave blvd rd a.m p.m e.g i.e u.s u.k u.n d.c
jan feb mar apr jun jul aug sep sept oct nov dec
ala ariz ark calif colo conn del fla ga ill ind kan ky la md mass mich minn miss mo mont neb nev n.h n.j n.m n.y
n.c n.d okla ore pa r.i s.c s.d tenn vt va wash w.va wis wyo
""".split()
)
# Word pairs a period between never ends a sentence: "No. 1", "2 p.m. ET" (a time zone after a.m./p.m.).
_TIME_ZONES = "et ct mt pt est edt cst cdt mst mdt pst pdt gmt utc bst local".split()
_COLLOCATIONS = frozenset(
    {("no", "##number##"), ("nos", "##number##")} | {(time, zone) for time in ("a.m", "p.m") for zone in _TIME_ZONES}
)
_ENUMERATOR = re.compile(r"[*#(]?(?:\d{1,3}|[A-Za-z])[.)]")  # a list item's number: "3.", "*1.", "(a)"
# A title is never the last word of a sentence: "Rep. Troy Nehls", "Mr. President" (Punkt may break before a
# capitalised word it has seen in lower case).
_TITLE_END = re.compile(
    r"\b(?:Mr|Mrs|Ms|Dr|Reps?|Sens?|Gov|Lt|Gen|Col|Maj|Capt|Sgt|Cpl|Pvt|Cmdr|Adm|Brig|Rev|Msgr|"
    r"Prof|Supt|Det|Atty)\.$"
)
_ELLIPSIS_BREAK = re.compile(r"(?:\.\.\.|…)[\"'”’)\]]*\s+(?=[\"'“‘(\[]?[A-Z])")

# Punkt's, with opening curly quotes before a word too: '“Mr.' is the abbreviation 'Mr.'
_WORD_START = r"[^\(\"\`{\[:;&\#\*@\)}\]\-,“‘]"

_PUNKT: PunktSentenceTokenizer | None = None
_PUNKT_LOCK = threading.Lock()


def punkt_parameters() -> PunktParameters:
    """Punkt's English parameters as llama-index-core bundles them (read from its files: nothing is downloaded,
    NLTK_DATA is not consulted)."""
    from nltk.tabdata import PunktDecoder
    from nltk.tokenize.punkt import PunktParameters

    folder = _punkt_folder()
    decode = PunktDecoder()
    params = PunktParameters()
    with open(folder / "collocations.tab", encoding="utf-8") as f:
        params.collocations = set(decode.tab2tups(f))
    with open(folder / "sent_starters.txt", encoding="utf-8") as f:
        params.sent_starters = decode.txt2set(f)
    with open(folder / "abbrev_types.txt", encoding="utf-8") as f:
        params.abbrev_types = decode.txt2set(f)
    with open(folder / "ortho_context.tab", encoding="utf-8") as f:
        params.ortho_context = decode.tab2intdict(f)
    return params


def _punkt_folder() -> Path:
    spec = importlib.util.find_spec("llama_index")  # a top-level name is found without importing it
    for root in (spec.submodule_search_locations or []) if spec else []:
        folder = Path(root) / "core" / "_static" / "nltk_cache" / "tokenizers" / "punkt_tab" / "english"
        if folder.is_dir():
            return folder
    raise RuntimeError("llama-index-core is not installed: its Punkt English parameters are needed")


_MID_LOWER = 1 << 5  # Punkt's orthographic flag: seen in lower case inside a sentence


@lru_cache(maxsize=1)
def lower_case_words() -> frozenset[str]:
    """Words Punkt's English parameters saw in lower case inside sentences (about 17,000): common words, which a
    capital at a sentence's start does not make a name. Read from their file, without importing NLTK."""
    words = []
    with open(_punkt_folder() / "ortho_context.tab", encoding="utf-8") as f:
        for line in f:
            word, _, flags = line.rstrip("\n").partition("\t")
            if flags.isdigit() and int(flags) & _MID_LOWER:
                words.append(word)
    return frozenset(words)


def _punkt() -> PunktSentenceTokenizer:
    """Punkt with the English parameters plus ABBREVIATIONS and _COLLOCATIONS."""
    global _PUNKT
    with _PUNKT_LOCK:
        if _PUNKT is None:
            from nltk.tokenize.punkt import PunktLanguageVars, PunktSentenceTokenizer

            params = punkt_parameters()
            params.abbrev_types |= ABBREVIATIONS
            params.collocations |= _COLLOCATIONS
            news = type("NewsLanguageVars", (PunktLanguageVars,), {"_re_word_start": _WORD_START})
            _PUNKT = PunktSentenceTokenizer(params, lang_vars=news())
        return _PUNKT


def load_sentence_splitter() -> None:
    """Load the splitter now (NLTK's import takes about a second), e.g. in a thread at start-up."""
    _punkt()


def sentence_spans(text: str) -> tuple[tuple[int, int], ...]:
    """(start, end) of each sentence of a text, without surrounding white space; a line break always ends one."""
    punkt = _punkt()
    spans: list[tuple[int, int]] = []
    offset = 0
    for line in text.split("\n"):
        if line.strip():
            spans.extend((offset + s, offset + e) for s, e in _line_spans(line, punkt))
        offset += len(line) + 1
    return tuple(spans)


def _line_spans(line: str, punkt: PunktSentenceTokenizer) -> list[tuple[int, int]]:
    pieces: list[tuple[int, int]] = []
    for start, end in punkt.span_tokenize(line):
        start += len(line[start:end]) - len(line[start:end].lstrip())  # Punkt keeps a line's leading space
        end = start + len(line[start:end].rstrip())
        cuts = [m.end() for m in _ELLIPSIS_BREAK.finditer(line, start, end)]
        for cut in cuts:  # Punkt does not end a sentence at an ellipsis ("in danger… So you")
            pieces.append((start, len(line[start:cut].rstrip()) + start))
            start = cut
        pieces.append((start, end))
    out: list[tuple[int, int]] = []
    for start, end in pieces:
        if out and _continues(line, out[-1], start):
            out[-1] = (out[-1][0], end)
        else:
            out.append((start, end))
    return out


def _continues(line: str, previous: tuple[int, int], start: int) -> bool:
    """True when a piece continues the one before it: that one is a list item's number ("3. Coronavirus") or ends
    with a title, or this one starts in lower case (Punkt does not check after '?' or a quotation: '"Are you
    sure?" he asked')."""
    before = line[previous[0] : previous[1]]
    return bool(_ENUMERATOR.fullmatch(before) or _TITLE_END.search(before)) or line[start : start + 1].islower()


def split_sentences(text: str) -> list[str]:
    """The sentences of a text (see sentence_spans)."""
    return [text[start:end] for start, end in sentence_spans(text)]


# terms --------------------------------------------------------------------------------------------------------------
# One list for every matcher (the answerer's word overlap, the citation checker's support, keyword search): function
# words, reporting verbs and the words questions are phrased with, none of which says what a text is about.
STOP_WORDS = frozenset(
    """
a about above after again against all also am an and any are as at be because been before being
below between both but by can could did do does doing done down during each either few for from further had
has have having he her here hers herself him himself his how i if in into is it its itself just me more
most my myself neither no nor not now of off on once only or other our ours out over own same she should
so some such than that the their theirs them themselves then there these they this those through to too
under until up very was we were what when where which while who whom whose why will with would you your yours
yes according article articles passage passages report reported reports say said says source sources
told state stated states per cent percent mr mrs ms s t don doesn didn isn wasn weren wouldn
cannot couldn shouldn hasn haven hadn aren may might recently week year month new latest
""".split()
)
NUMBER_WORDS = {
    w: str(i)
    for i, w in enumerate(
        "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen "
        "sixteen seventeen eighteen nineteen twenty".split()
    )
}
_INITIALISM = re.compile(r"\b(?:[A-Za-z]\.){2,}")  # "U.S." -> "US", "a.m." -> "am"
_TOKEN = re.compile(r"[^\W_]+(?:[.,]\d+)*")  # words; numbers keep their decimals and thousands ("2.9", "1,000")
_STEMMER = Stemmer.Stemmer("english")


def terms(text: str, *, number_words: bool = False) -> list[str]:
    """The content words of a text in order, as they are matched: lower case, initialisms joined ('U.S.' ->
    'us'), split at anything but letters and digits (possessives lose their 's, straight or curly), stop words
    and single letters dropped, thousands separators removed, Snowball-stemmed; with number_words, 'three' ->
    '3' (for checks that numbers agree)."""
    text = _INITIALISM.sub(lambda m: m.group(0).replace(".", ""), text).lower()
    words = []
    for word in _TOKEN.findall(text):
        if number_words:
            word = NUMBER_WORDS.get(word, word)
        word = word.replace(",", "") if word[0].isdigit() else word
        if word not in STOP_WORDS and (len(word) > 1 or word.isdigit()):
            words.append(word)
    return _stem_all(words)


def term_set(text: str, *, number_words: bool = False) -> set[str]:
    """The distinct terms of a text (see terms)."""
    return set(terms(text, number_words=number_words))


def _stem_all(words: list[str]) -> list[str]:
    return [w if w[0].isdigit() else _stem(w) for w in words]


@lru_cache(maxsize=65536)
def _stem(word: str) -> str:
    return _STEMMER.stemWord(word)


# truncation ---------------------------------------------------------------------------------------------------------
_LOOKAHEAD = 40  # characters after the cut the splitter sees, to judge a period just before it


def clip(text: str, limit: int, ellipsis: str = "…") -> str:
    """Text cut to at most `limit` characters, ellipsis included, at the last sentence end in the second half of
    that room ("... on Monday. …"), else at the last space ("... the U.S. border…"), else mid-word."""
    if len(text) <= limit:
        return text
    room = max(0, limit - len(ellipsis))
    gap = "" if ellipsis[:1].isspace() else " "
    spans = sentence_spans(text[: room + _LOOKAHEAD])
    ends = [end for _, end in spans[:-1] if end + len(gap) <= room]
    if ends and ends[-1] > room // 2:
        return text[: ends[-1]] + gap + ellipsis
    cut = text.rfind(" ", 0, room + 1)
    return (text[:cut] if cut > 0 else text[:room]).rstrip() + ellipsis


# titles -------------------------------------------------------------------------------------------------------------
_CUT_MARK = re.compile(r"\s*(?:\.{3}|…)$")
_CUT_SITE = re.compile(r"\s+\|\s+[^|]{1,30}$")  # "… 11 charges | CNN ..."
_DANGLING = frozenset(
    "a an the and or but nor of to in on at by for from with as amid after before over into than "
    "that which who whose while its their his her this these those is are was were has have had "
    "will would can could".split()
)


def tidy_title(title: str) -> str:
    """A title on one line; one its source cut short ("… protests that ...") ends at its last whole phrase,
    without the cut mark and the words left dangling before it."""
    line = " ".join(title.split())
    if not _CUT_MARK.search(line):
        return line
    words = _CUT_SITE.sub("", _CUT_MARK.sub("", line)).split()
    while len(words) > 1 and (
        words[-1].casefold().strip(",;:–—-") in _DANGLING
        or words[-1].endswith(("'s", "’s"))
        or not words[-1].strip(",;:–—-|")
    ):
        words.pop()
    return " ".join(words).rstrip(",;:–—-| ")


def outlet_site(outlet: str | None) -> str:
    """An outlet's name as one lower-case word: 'www.cnn.com' -> 'cnn', 'The Week' -> 'theweek'."""
    return re.sub(r"\W", "", re.sub(r"^www\.", "", (outlet or "").lower()).split(".")[0])
