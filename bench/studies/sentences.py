"""Sentence splitters measured on the hand-labelled sample (bench/data/sentences.jsonl): boundary precision, recall
and F1, speed, and how many chunks would change if LlamaIndex's chunker used index.text.

    python -m bench.studies.sentences --corpus CORPUS.jsonl.gz [--articles 300] [--chunks 300]

A boundary is where a sentence starts inside a line: line breaks end sentences in every splitter (each is run line
by line), so they are not counted.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import random
import re
import time
from collections.abc import Callable, Iterable
from pathlib import Path

from index import text as T

LABELS = Path(__file__).parents[1] / "data" / "sentences.jsonl"
CORPUS_CHARS = 42_072_645  # the whole benchmark corpus (its README)
Spans = list[tuple[int, int]]


def load_sample(corpus: Path) -> list[dict]:
    """The labelled excerpts with their text, read from the corpus (the sample stores only where they are)."""
    rows = [json.loads(line) for line in LABELS.read_text().splitlines() if line.strip()]
    wanted = {r["url"] for r in rows}
    bodies: dict[str, list[str]] = {}
    with gzip.open(corpus, "rt", encoding="utf-8") as f:
        for line in f:
            article = json.loads(line)
            if article["url"] in wanted:
                bodies.setdefault(article["url"], []).append(article["body"])
    for row in rows:
        for body in bodies.get(row["url"], []):
            excerpt = body[row["offset"] : row["offset"] + row["length"]]
            if hashlib.sha256(excerpt.encode()).hexdigest()[:16] == row["sha256"]:
                row["text"] = excerpt
                break
        else:
            raise SystemExit(f"excerpt of {row['url']} not found in {corpus}")
    return rows


# the candidates -----------------------------------------------------------------------------------------------------
def by_line(split: Callable[[str], Iterable[tuple[int, int]]]) -> Callable[[str], Spans]:
    """A splitter run on each line of a text, its spans moved to the text's offsets."""

    def spans(text: str) -> Spans:
        out: Spans = []
        offset = 0
        for line in text.split("\n"):
            if line.strip():
                out.extend((offset + s, offset + e) for s, e in split(line) if line[s:e].strip())
            offset += len(line) + 1
        return out

    return spans


def before_mending() -> Callable[[str], Spans]:
    """What the index stored before index.text: LlamaIndex's Punkt (no trained parameters), then breaks before
    a lower-case word or a day after a month's abbreviation mended (index/chunking.py at 643a4e7)."""
    from llama_index.core.node_parser.text.utils import split_by_sentence_tokenizer

    split = split_by_sentence_tokenizer()
    month = re.compile(r"\b(?:Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sept?|Oct|Nov|Dec)\.\s*$")

    def raw(line: str) -> Spans:
        out, cursor = [], 0
        for sentence in split(line):
            start = line.find(sentence, cursor)
            start = cursor if start < 0 else start
            cursor = start + len(sentence)
            out.append((start, min(cursor, len(line))))
        return out

    def spans(text: str) -> Spans:
        out: Spans = []
        for start, end in by_line(raw)(text):
            head = text[start:end].lstrip()[:1]
            dated = head.isdigit() and bool(out) and month.search(text[out[-1][0] : out[-1][1]])
            if out and (head.islower() or dated) and "\n" not in text[out[-1][1] : start]:
                out[-1] = (out[-1][0], end)
            else:
                out.append((start, end))
        return out

    return spans


def punkt(extra_abbreviations: bool, trained: bool = True) -> Callable[[str], Spans]:
    """Plain Punkt: LlamaIndex's untrained one, or with the bundled English parameters (plus ABBREVIATIONS)."""
    from nltk.tokenize.punkt import PunktSentenceTokenizer

    if not trained:
        return by_line(PunktSentenceTokenizer().span_tokenize)
    params = T.punkt_parameters()
    if extra_abbreviations:
        params.abbrev_types |= T.ABBREVIATIONS
    tokenizer = PunktSentenceTokenizer(params)
    return by_line(tokenizer.span_tokenize)


def pysbd_spans() -> Callable[[str], Spans]:
    """pysbd 0.3.4 with character spans (its rules for English, no cleaning)."""
    import pysbd

    segmenter = pysbd.Segmenter(language="en", clean=False, char_span=True)
    return by_line(lambda line: [(s.start, s.end) for s in segmenter.segment(line)])


def citecheck_regex() -> Callable[[str], Spans]:
    """The citation checker's regex before index.text: break after .!? (and a closing quote) unless the piece ends
    with one of its abbreviations or an initial."""
    stop = re.compile(r"(?<=[.!?])\s+|(?<=[.!?][\"'”’)])\s+")
    abbreviations = {
        "mr",
        "mrs",
        "ms",
        "dr",
        "st",
        "jr",
        "sr",
        "gen",
        "sen",
        "rep",
        "gov",
        "prof",
        "lt",
        "col",
        "sgt",
        "capt",
        "u.s",
        "u.k",
        "u.n",
        "e.g",
        "i.e",
        "vs",
        "inc",
        "corp",
        "co",
        "ltd",
        "jan",
        "feb",
        "mar",
        "apr",
        "aug",
        "sept",
        "sep",
        "oct",
        "nov",
        "dec",
        "approx",
        "est",
    }

    def abbreviated(piece: str) -> bool:
        last = piece.rstrip().split(" ")[-1].lower().rstrip(".")
        return piece.rstrip().endswith(".") and (last in abbreviations or (len(last) == 1 and last.isalpha()))

    def split(line: str) -> Spans:
        out: Spans = []
        start = 0
        for end, after in [(m.start(), m.end()) for m in stop.finditer(line)] + [(len(line), len(line))]:
            if out and abbreviated(line[out[-1][0] : out[-1][1]]):
                out[-1] = (out[-1][0], end)
            else:
                out.append((start, end))
            start = after
        return out

    return by_line(split)


def candidates(only: set[str] | None) -> dict[str, Callable[[], Callable[[str], Spans]]]:
    table: dict[str, Callable[[], Callable[[str], Spans]]] = {
        "before: LlamaIndex Punkt + mending": before_mending,
        "LlamaIndex Punkt (untrained)": lambda: punkt(False, trained=False),
        "Punkt English": lambda: punkt(False),
        "Punkt English + abbreviations": lambda: punkt(True),
        "pysbd 0.3.4": pysbd_spans,
        "regex (citecheck before)": citecheck_regex,
        "index.text": lambda: lambda text: list(T.sentence_spans(text)),
    }
    return {k: v for k, v in table.items() if not only or any(o.lower() in k.lower() for o in only)}


# measuring ----------------------------------------------------------------------------------------------------------
def inner_starts(text: str, starts: Iterable[int]) -> set[int]:
    """Sentence starts that are not the start of a line (first non-space character of each span)."""
    out = set()
    for s in starts:
        while s < len(text) and text[s].isspace():
            s += 1
        line_start = text.rfind("\n", 0, s) + 1
        if s < len(text) and text[line_start:s].strip():
            out.add(s)
    return out


def score(rows: list[dict], split: Callable[[str], Spans], show: bool) -> tuple[int, int, int]:
    tp = fp = fn = 0
    for row in rows:
        text = row["text"]
        gold = inner_starts(text, row["starts"])
        got = inner_starts(text, (s for s, _ in split(text)))
        tp, fp, fn = tp + len(gold & got), fp + len(got - gold), fn + len(gold - got)
        if show:
            for kind, found in (("extra", got - gold), ("missed", gold - got)):
                for s in sorted(found):
                    print(f"    {kind:6s} {text[max(0, s - 50) : s]!r} | {text[s : s + 30]!r}")
    return tp, fp, fn


def prf(tp: int, fp: int, fn: int) -> str:
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return f"{p:.3f} {r:.3f} {f:.3f}"


def corpus_sample(corpus: Path, n: int, seed: int = 7) -> list[str]:
    with gzip.open(corpus, "rt", encoding="utf-8") as f:
        bodies = [json.loads(line)["body"] for line in f]
    return random.Random(seed).sample(bodies, min(n, len(bodies)))


def chunk_change(bodies: list[str]) -> str:
    """Share of chunk texts that would differ (and need embedding anew) if LlamaIndex's SentenceSplitter used
    index.text for its sentences, at the engine's default chunk size and overlap."""
    from llama_index.core.node_parser import SentenceSplitter

    from index.settings import Settings

    size, overlap = Settings().chunk_size, Settings().chunk_overlap

    def sentences_with_space(text: str) -> list[str]:  # LlamaIndex joins the pieces back: keep the white space
        starts = [0] + [s for s, _ in T.sentence_spans(text)][1:]
        return [text[a:b] for a, b in zip(starts, starts[1:] + [len(text)], strict=False) if b > a]

    before = SentenceSplitter(chunk_size=size, chunk_overlap=overlap, paragraph_separator="\n\n")
    after = SentenceSplitter(
        chunk_size=size, chunk_overlap=overlap, paragraph_separator="\n\n", chunking_tokenizer_fn=sentences_with_space
    )
    old = new = changed = 0
    for body in bodies:
        a, b = before.split_text(body), after.split_text(body)
        old, new = old + len(a), new + len(b)
        changed += len(set(b) - set(a))
    return (
        f"{len(bodies)} articles: {old} chunks now, {new} with index.text; {changed} of the {new} "
        f"({changed / max(1, new):.1%}) would be new texts to embed"
    )


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.studies.sentences", description=__doc__.split("\n")[0])
    p.add_argument("--corpus", type=Path, required=True, help="the benchmark's corpus.jsonl.gz")
    p.add_argument("--articles", type=int, default=300, help="corpus articles to time each splitter on (0: none)")
    p.add_argument("--chunks", type=int, default=0, help="articles to measure the chunk change on (0: none)")
    p.add_argument("--only", action="append", help="only splitters whose name contains this")
    p.add_argument("--show", action="store_true", help="print every wrong boundary")
    args = p.parse_args(argv)

    rows = load_sample(args.corpus)
    sample = [r for r in rows if r["picked"] != "check"]
    check = [r for r in rows if r["picked"] == "check"]
    bodies = corpus_sample(args.corpus, args.articles) if args.articles else []
    timed = sum(map(len, bodies))
    print(
        f"sample: {len(sample)} excerpts, {sum(len(inner_starts(r['text'], r['starts'])) for r in sample)} "
        f"boundaries; check: {len(check)} excerpts, "
        f"{sum(len(inner_starts(r['text'], r['starts'])) for r in check)} boundaries; "
        f"speed on {len(bodies)} articles ({timed:,} characters)"
    )
    print(
        f"{'splitter':36s} {'sample P R F1':17s}  {'check P R F1':17s}  {'all P R F1':17s}  "
        f"{'chars/s':>10s}  {'corpus':>7s}  load"
    )
    for name, make in candidates(set(args.only or ())).items():
        started = time.perf_counter()
        split = make()
        split("Warm up. Now.")
        load = time.perf_counter() - started
        if args.show:
            print(name)
        a, b = score(sample, split, args.show), score(check, split, args.show)
        total = tuple(x + y for x, y in zip(a, b, strict=False))
        speed = ""
        if bodies:
            started = time.perf_counter()
            for body in bodies:
                split(body)
            rate = timed / (time.perf_counter() - started)
            speed = f"{rate:>10,.0f}  {CORPUS_CHARS / rate:>6.0f}s"
        print(f"{name:36s} {prf(*a)}  {prf(*b)}  {prf(*total)}  {speed}  {load:.2f}s")
    if args.chunks:
        print(chunk_change(corpus_sample(args.corpus, args.chunks, seed=11)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
