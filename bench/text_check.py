"""Do the extractive answers and the citation checker's decisions move? A cheap check for changes to index/text.py.

Builds a small index (each dev question's gold article plus a few same-week articles; vectors come from the
embedding cache of any sibling eval-* directory under --root), asks every question as of its date, and runs the
citation checker on statements made from the questions; writes both to --out. Run it with the code before and
after a change, from outside the checkout so that PYTHONPATH decides which `index` is used, and compare:

    cd /tmp && PYTHONPATH=OLD_CHECKOUT:THIS_CHECKOUT python -m bench.text_check --corpus CORPUS \
        --questions QUESTIONS --root /tmp/tc --out /tmp/tc/before.json
    cd /tmp && PYTHONPATH=THIS_CHECKOUT python -m bench.text_check ... --out /tmp/tc/after.json
    python -m bench.text_check --compare /tmp/tc/before.json /tmp/tc/after.json
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import re
from datetime import date
from pathlib import Path

from index.eval import article_id_of, build_engine, evaluate_engine, load_questions, summarise
from index.results import Passage

_WH = re.compile(r"^\s*(which|what|who|whom|whose|where|when|how many|how much|how)\b\s*", re.I)


def small_corpus(corpus: Path, questions: Path, out: Path, per_question: int, seed: int) -> Path:
    """Gold articles plus `per_question` articles published within 4 days of each question, seeded."""
    records = [json.loads(line) for line in gzip.open(corpus, "rt", encoding="utf-8")]
    keep: set[str] = set()
    rng = random.Random(seed)
    for q in (json.loads(line) for line in open(questions, encoding="utf-8")):
        keep.add(q["gold_url"])
        asked = date.fromisoformat(q["asked_on"])
        week = [r["url"] for r in records if r.get("published") and r["url"] != q["gold_url"] and r["body"].strip()
                and abs((date.fromisoformat(r["published"]) - asked).days) <= 4]
        keep.update(rng.sample(week, min(per_question, len(week))))
    out.parent.mkdir(parents=True, exist_ok=True)
    # gzip stamps the time: every run's file has its own digest, hence its own index (vectors from the cache)
    with gzip.open(out, "wt", encoding="utf-8") as f:
        for r in records:
            if r["url"] in keep:
                f.write(json.dumps(r, ensure_ascii=False) + "\n")
    return out


def checker_decisions(engine, questions) -> dict[str, bool]:
    """For each question whose gold article has a chunk holding the answer: does the checker accept the statement
    'question: answer' citing (a) that chunk, (b) with the next question's answer instead, (c) citing the chunk
    of another article from within 10 days that shares most words with it but lacks the answer?"""
    from index.citecheck import check_citations

    catalog = engine._catalog  # a bench script may look inside
    rows = catalog.chunks()
    meta = {i: catalog.article(i) for i in {r.article_id for r in rows}}
    words = lambda s: set(re.findall(r"[a-z0-9]+", s.lower()))  # noqa: E731

    def passage(row) -> Passage:
        a = meta[row.article_id]
        return Passage(row.id, row.article_id, row.text, a.title, a.outlet, a.published, a.url)

    out: dict[str, bool] = {}
    for k, q in enumerate(questions):
        answer = q.answers[0].strip("“”\"")
        gold = article_id_of(q.gold_url)
        hold = [r for r in rows if r.article_id == gold and answer.lower() in r.text.lower()]
        if not hold:
            continue
        stem = _WH.sub("", q.question).rstrip("?. ")
        stem = stem[:1].upper() + stem[1:]
        other = questions[(k + 1) % len(questions)].answers[0].strip("“”\"")
        near = [r for r in rows if r.article_id != gold and meta[r.article_id].published
                and abs((meta[r.article_id].published - q.asked_on).days) <= 10
                and answer.lower() not in r.text.lower()]
        hard = max(near, key=lambda r: len(words(f"{stem}: {answer}") & words(r.text)), default=None)
        for kind, statement, row in (("a", f"{stem}: {answer}", hold[0]), ("b", f"{stem}: {other}", hold[0]),
                                     ("c", f"{stem}: {answer}", hard)):
            if row is not None:
                result = check_citations(statement + " [1].", [passage(row)])
                out[f"{q.id}:{kind}"] = bool(result.sentences) and result.sentences[0].citations == (1,)
    return out


def compare(before: Path, after: Path) -> None:
    a, b = json.loads(before.read_text()), json.loads(after.read_text())
    old = {r["id"]: r for r in a["answers"]}
    new = {r["id"]: r for r in b["answers"]}
    for name, data in (("before", a), ("after", b)):
        s = data["summary"]
        print(f"{name}: answers {s['answer_accuracy']:.3f} ({sum(r['correct'] for r in data['answers'])}/"
              f"{s['questions']}), gold cited {sum(r['cited_gold'] for r in data['answers'])}, "
              f"citations hold {sum(r['citations_ok'] for r in data['answers'])}")
    shown = [k for k in old if old[k]["shown"] != new[k]["shown"]]
    flips = [(k, old[k]["correct"], new[k]["correct"]) for k in old if old[k]["correct"] != new[k]["correct"]]
    print(f"answers shown differently: {len(shown)} of {len(old)}; correctness changed: {flips or 'none'}")
    for name, data in (("before", a), ("after", b)):
        rates = {kind: [v for key, v in data["checker"].items() if key.endswith(":" + kind)] for kind in "abc"}
        print(f"checker {name}: accepts the right answer {sum(rates['a'])}/{len(rates['a'])}, a wrong answer "
              f"{sum(rates['b'])}/{len(rates['b'])}, the hardest other passage {sum(rates['c'])}/{len(rates['c'])}")
    moved = [k for k in a["checker"] if a["checker"][k] != b["checker"].get(k)]
    print(f"checker decisions changed: {len(moved)} {moved}")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.text_check", description=__doc__.split("\n")[0])
    p.add_argument("--corpus", type=Path)
    p.add_argument("--questions", type=Path)
    p.add_argument("--root", type=Path, help="where the small index (and any embedding cache to reuse) lives")
    p.add_argument("--out", type=Path)
    p.add_argument("--per-question", type=int, default=5, help="same-week articles added per question")
    p.add_argument("--seed", type=int, default=128)
    p.add_argument("--compare", nargs=2, type=Path, metavar=("BEFORE", "AFTER"))
    args = p.parse_args(argv)
    if args.compare:
        compare(*args.compare)
        return 0
    if not (args.corpus and args.questions and args.root and args.out):
        p.error("--corpus, --questions, --root and --out are needed (or --compare)")
    small = small_corpus(args.corpus, args.questions, args.root / "small.jsonl.gz", args.per_question, args.seed)
    engine, figures = build_engine(small, root=args.root)
    questions = load_questions(args.questions)
    rows = evaluate_engine(engine, questions)
    result = {"build": figures, "summary": summarise(rows), "answers": rows,
              "checker": checker_decisions(engine, questions)}
    args.out.write_text(json.dumps(result, indent=1, default=str))
    print(json.dumps(result["summary"]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
