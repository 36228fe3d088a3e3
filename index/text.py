"""One text pipeline for every layer: sentence boundaries, the terms words are matched by, and truncation."""

from __future__ import annotations

import importlib.util
import re
import threading
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Iterable

import Stemmer

if TYPE_CHECKING:
    from nltk.tokenize.punkt import PunktParameters, PunktSentenceTokenizer

# sentences ----------------------------------------------------------------------------------------------------------
# Added to Punkt's English abbreviations (trained on the WSJ, which lacks many that news writes): AP-style titles,
# companies, places, months and states. A period after one ends a sentence only when the next word is one that
# starts sentences (Punkt's orthographic evidence), as in "at 2 a.m. The fire".
ABBREVIATIONS = frozenset("""
gov lt sen rep reps sgt cpl pvt capt cmdr col gen maj adm brig rev msgr sr jr dr mr mrs ms prof supt det atty
co corp inc ltd bros cos st mt ft ave blvd rd a.m p.m e.g i.e u.s u.k u.n d.c
jan feb mar apr jun jul aug sep sept oct nov dec
ala ariz ark calif colo conn del fla ga ill ind kan ky la md mass mich minn miss mo mont neb nev n.h n.j n.m n.y
n.c n.d okla ore pa r.i s.c s.d tenn vt va wash w.va wis wyo
""".split())
# Word pairs a period between never ends a sentence: "No. 1", "2 p.m. ET" (a time zone after a.m./p.m.).
_TIME_ZONES = "et ct mt pt est edt cst cdt mst mdt pst pdt gmt utc bst local".split()
_COLLOCATIONS = frozenset({("no", "##number##"), ("nos", "##number##")}
                          | {(time, zone) for time in ("a.m", "p.m") for zone in _TIME_ZONES})
_ENUMERATOR = re.compile(r"[*#(]?(?:\d{1,3}|[A-Za-z])[.)]|No\.")  # a list item's number: "3.", "*1.", "(a)"
# A title is never the last word of a sentence: "Rep. Troy Nehls", "Mr. President" (Punkt may break before a
# capitalised word it has seen in lower case).
_TITLE_END = re.compile(r"\b(?:Mr|Mrs|Ms|Dr|Reps?|Sens?|Gov|Lt|Gen|Col|Maj|Capt|Sgt|Cpl|Pvt|Cmdr|Adm|Brig|Rev|Msgr|Prof|"
                        r"Supt|Det|Atty)\.$")
_ELLIPSIS_BREAK = re.compile(r"(?:\.\.\.|…)[\"'”’)\]]*\s+(?=[\"'“‘(\[]?[A-Z])")

# Punkt's, with opening curly quotes before a word too: '“Mr.' is the abbreviation 'Mr.'
_WORD_START = r"[^\(\"\`{\[:;&\#\*@\)}\]\-,“‘]"

_PUNKT: "PunktSentenceTokenizer | None" = None
_PUNKT_LOCK = threading.Lock()


def punkt_parameters() -> "PunktParameters":
    """Punkt's English parameters as llama-index-core bundles them (read from its files: nothing is downloaded,
    NLTK_DATA is not consulted)."""
    from nltk.tabdata import PunktDecoder
    from nltk.tokenize.punkt import PunktParameters

    spec = importlib.util.find_spec("llama_index.core")
    if spec is None or spec.origin is None:
        raise RuntimeError("llama-index-core is not installed: its Punkt English parameters are needed")
    folder = Path(spec.origin).parent / "_static" / "nltk_cache" / "tokenizers" / "punkt_tab" / "english"
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


def _punkt() -> "PunktSentenceTokenizer":
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


def _line_spans(line: str, punkt: "PunktSentenceTokenizer") -> list[tuple[int, int]]:
    pieces: list[tuple[int, int]] = []
    for start, end in punkt.span_tokenize(line):
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
    before = line[previous[0]:previous[1]]
    return bool(_ENUMERATOR.fullmatch(before) or _TITLE_END.search(before)) or line[start:start + 1].islower()


def split_sentences(text: str) -> list[str]:
    """The sentences of a text (see sentence_spans)."""
    return [text[start:end] for start, end in sentence_spans(text)]
