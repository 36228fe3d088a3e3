"""`newsdesk eval-stories`: questions about stories (the latest, what changed, timelines, a period's news, outlets)
asked as of a date, each with the properties its answer must have; reports how many hold.

The questions (bench/data/story_questions.jsonl) were written for this set over stories of the benchmark corpus
that the labelled sample (bench/data/stories.jsonl) names; a property that names a story ("cites_story") is read
from those labels, by article URL."""

from __future__ import annotations

import gzip
import hashlib
import json
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import IO, Any

from index import Answer, Engine, Settings, outlet_name_key, url_article_id

from .corpus import build_engine, file_digest, iter_jsonl
from .scoring import citations_hold

Progress = Callable[[int, int], None]
DATA = Path(__file__).resolve().parent / "data"
QUESTIONS = DATA / "story_questions.jsonl"
LABELS = DATA / "stories.jsonl"
SUBSET_DAYS = 10  # --subset: the corpus articles published this many days around a question's as-of date


@dataclass(frozen=True)
class StoryQuestion:
    """A question asked as of a date, and the properties its answer must have."""

    id: str
    question: str
    as_of: date
    expect: dict[str, Any]


@dataclass(frozen=True)
class Labels:
    """The labelled sample by article id: its story and its copy group."""

    story: dict[str, str]
    copy_group: dict[str, str]


def load_questions(path: Path = QUESTIONS) -> list[StoryQuestion]:
    """The story questions of a file."""
    return [
        StoryQuestion(r["id"], r["question"], date.fromisoformat(r["as_of"]), r["expect"]) for r in iter_jsonl(path)
    ]


def load_labels(path: Path = LABELS) -> Labels:
    """Story and copy-group labels by article id."""
    story, copies = {}, {}
    for r in iter_jsonl(path):
        article_id = url_article_id(r["url"])
        story[article_id] = r["story"]
        if r.get("copy_group"):
            copies[article_id] = r["copy_group"]
    return Labels(story, copies)


def check(answer: Answer, expect: dict[str, Any], labels: Labels) -> dict[str, bool]:
    """Each expected property of an answer: whether it holds. Always checked too: every sentence's quotation is
    in its source and no article is cited twice."""
    cited = [c.passage for c in answer.citations]
    days = [p.published for p in cited if p.published]
    in_order = [s.day for s in answer.sentences if s.day]
    ids = [p.article_id for p in cited]
    out = {"citations_hold": citations_hold(answer), "each_article_once": len(ids) == len(set(ids))}
    for name, want in expect.items():
        if name == "shape":
            held = answer.shape == want
        elif name == "cites_story":
            held = any(labels.story.get(a) == want for a in ids)
        elif name == "first_cites_story":
            held = bool(answer.sentences) and any(
                labels.story.get(c.passage.article_id) == want
                for c in answer.citations
                if c.number in answer.sentences[0].citations
            )
        elif name == "min_story_sources":
            story, count = want
            held = sum(labels.story.get(a) == story for a in ids) >= count
        elif name == "first_on_or_after":
            held = bool(answer.sentences) and _first_day(answer) is not None and _first_day(answer) >= _day(want)
        elif name == "first_on_or_before":
            held = bool(in_order) and in_order[0] <= _day(want)
        elif name == "last_on_or_after":
            held = bool(in_order) and in_order[-1] >= _day(want)
        elif name == "all_on_or_before":
            held = bool(days) and max(days) <= _day(want)
        elif name == "all_on_or_after":
            held = bool(days) and min(days) >= _day(want)
        elif name == "date_order":
            held = len(in_order) >= 2 and in_order == sorted(in_order)
        elif name == "heading_as_of":
            held = bool(days) and answer.heading.startswith(f"As of {max(days).isoformat()}")
        elif name == "outlets_cited":
            held = {outlet_name_key(o) for o in want} <= {outlet_name_key(p.outlet or "") for p in cited}
        elif name == "only_outlets":
            allowed = {outlet_name_key(o) for o in want}
            held = bool(cited) and {outlet_name_key(p.outlet or "") for p in cited} <= allowed
        elif name == "no_copy_pairs":
            groups = [labels.copy_group[a] for a in ids if a in labels.copy_group]
            held = len(groups) == len(set(groups))
        elif name == "one_line_per_story":
            stories = [labels.story[a] for a in ids if a in labels.story]
            held = len(answer.sentences) >= 2 and len(stories) == len(set(stories))
        elif name == "note_contains":
            held = any(want in n for n in answer.notes)
        elif name == "note_absent":
            held = not any(want in n for n in answer.notes)
        else:
            raise ValueError(f"unknown property {name!r}")
        out[name] = bool(held)
    return out


def evaluate(
    engine: Engine, questions: list[StoryQuestion], labels: Labels, *, progress: Progress | None = None
) -> list[dict[str, Any]]:
    """Ask each question as of its date; the properties that hold, the shape, the time taken."""
    rows = []
    for done, q in enumerate(questions, 1):
        started = time.perf_counter()
        answer = engine.ask(q.question, as_of=q.as_of)
        seconds = time.perf_counter() - started
        props = check(answer, q.expect, labels)
        rows.append(
            {
                "id": q.id,
                "question": q.question,
                "as_of": q.as_of.isoformat(),
                "shape": answer.shape,
                "properties": props,
                "held": sum(props.values()),
                "total": len(props),
                "seconds": round(seconds, 3),
                "heading": answer.heading,
                "text": answer.text[:600],
                "sources": [f"{c.passage.published} {c.passage.outlet} {c.passage.title}" for c in answer.citations],
                "notes": list(answer.notes),
            }
        )
        if progress:
            progress(done, len(questions))
    return rows


def make_subset(
    corpus: Path, questions: list[StoryQuestion], labels_path: Path, out: Path, days: int = SUBSET_DAYS
) -> Path:
    """A smaller corpus for quick runs: the articles published within ±days of a question's as-of date and the
    labelled articles of the stories the questions name (in corpus order)."""
    near = [(q.as_of - timedelta(days=days), q.as_of + timedelta(days=days)) for q in questions]
    named = {str(v) for q in questions for k, v in q.expect.items() if k in ("cites_story", "first_cites_story")}
    named |= {q.expect["min_story_sources"][0] for q in questions if "min_story_sources" in q.expect}
    wanted = {r["url"] for r in iter_jsonl(labels_path) if r["story"] in named}
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    with gzip.open(tmp, "wt", encoding="utf-8") as handle:
        for record in iter_jsonl(corpus):
            published = record.get("published")
            day = date.fromisoformat(published) if published else None
            if record.get("url") in wanted or (day and any(a <= day <= b for a, b in near)):
                handle.write(json.dumps(record, ensure_ascii=False) + "\n")
    tmp.replace(out)
    return out


def run_story_eval(
    corpus: Path,
    questions_file: Path,
    *,
    progress: Callable[[str], Progress],
    root: Path,
    subset: bool = False,
    report: Path | None = None,
    out: IO[str] = sys.stdout,
) -> dict[str, Any]:
    """Build (or reuse) the index of a corpus (or of its story subset), ask the story questions, print and return
    how many properties hold."""
    questions = load_questions(questions_file)
    labels = load_labels()
    if subset:
        key = hashlib.sha256(f"{file_digest(corpus)}:{file_digest(questions_file)}:{SUBSET_DAYS}".encode())
        path = Path(root) / "story-subsets" / f"subset-{key.hexdigest()[:12]}.jsonl.gz"
        corpus = path if path.exists() else make_subset(corpus, questions, LABELS, path)
    engine, build = build_engine(corpus, root=root, settings=Settings.from_env(), progress=progress("indexing"))
    try:
        rows = evaluate(engine, questions, labels, progress=progress("asking"))
    finally:
        engine.close()
    held, total = sum(r["held"] for r in rows), sum(r["total"] for r in rows)
    whole = sum(r["held"] == r["total"] for r in rows)
    for r in rows:
        missed = ", ".join(k for k, v in r["properties"].items() if not v) or "-"
        print(f"{r['held']:>2}/{r['total']:<2} {r['shape']:<9} {r['id']:<24} missed: {missed}", file=out)
    print(
        f"{held} of {total} properties hold ({held / max(1, total):.3f}); {whole} of {len(rows)} questions "
        f"answered with every property; {build['articles']} articles ({build['data_dir']})",
        file=out,
    )
    result = {
        "held": held,
        "total": total,
        "questions": len(rows),
        "questions_whole": whole,
        "corpus": str(corpus),
        "build": build,
    }
    if report:
        Path(report).parent.mkdir(parents=True, exist_ok=True)
        Path(report).write_text(json.dumps({**result, "per_question": rows}, indent=2, ensure_ascii=False, default=str))
    return result


def _first_day(answer: Answer) -> date | None:
    by_number = {c.number: c for c in answer.citations}
    first = [by_number[n].passage.published for n in answer.sentences[0].citations if n in by_number]
    return answer.sentences[0].day or (first[0] if first else None)


def _day(text: str) -> date:
    return date.fromisoformat(text)
