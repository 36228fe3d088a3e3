"""Would another same-story feature help? Candidate features derived from the five the assigner scores, compared on
half A of the labelled sample only (the candidate pairs of a corpus run, 5-fold cross-validated log-loss and
accuracy of the logistic model), with the probability each variant gives the hard case the engine's tests keep as
a known limitation (two recalls by one agency a week apart: tests/engine/test_stories.py).

    python -m bench.studies.story_features      # first run: a corpus pass for half A's pairs (about a minute)
"""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np

from bench.studies import stories as study

PAIRS = Path("/tmp/newsdesk-story-pairs-A.pkl")
HARD_CASE = np.array([0.549, 0.157, 0.065, 6.0, 1.0])  # its features (cosine, names, title, days, same outlet)


def variants(x: np.ndarray) -> dict[str, np.ndarray]:
    """The base features and each candidate addition."""
    cos, names, title = x[:, 0], x[:, 1], x[:, 2]
    return {
        "base": x,
        "+max(names, title)": np.column_stack([x, np.maximum(names, title)]),
        "+cos*names, cos*title": np.column_stack([x, cos * names, cos * title]),
        "+names*title": np.column_stack([x, names * title]),
        "+cos^2": np.column_stack([x, cos**2]),
    }


def main() -> None:
    rows = study.load_sample()
    if PAIRS.exists():
        x, y = pickle.loads(PAIRS.read_bytes())
    else:
        vectors = study.Vectors("lead", Path("/tmp/newsdesk-story-vectors.npz"))
        stream = study.corpus_stream(rows, {r["url"] for r in rows if r["half"] != "A"})
        vectors.prepare(study.expected_story_texts(stream))
        x, y = study.training_pairs(stream, {r["url"]: r["story"] for r in rows if r["half"] == "A"}, vectors)
        PAIRS.write_bytes(pickle.dumps((x, y)))
    folds = np.random.default_rng(0).integers(0, 5, len(y))
    hard = variants(HARD_CASE[None, :])
    print(f"half A: {len(y)} candidate pairs, {int(y.sum())} same story")
    for name, xv in variants(x).items():
        losses, accuracies = [], []
        for k in range(5):
            train, test = folds != k, folds == k
            w, b = study.fit_logistic(xv[train], y[train])
            p = 1 / (1 + np.exp(-np.clip(xv[test] @ w + b, -50, 50)))
            losses.append(-np.mean(y[test] * np.log(p + 1e-9) + (1 - y[test]) * np.log(1 - p + 1e-9)))
            accuracies.append(np.mean((p >= 0.5) == (y[test] == 1)))
        w, b = study.fit_logistic(xv, y)
        p_hard = 1 / (1 + np.exp(-(hard[name][0] @ w + b)))
        print(
            f"{name:<24} log-loss {np.mean(losses):.4f}  accuracy {np.mean(accuracies):.4f}  hard case p {p_hard:.2f}"
        )


if __name__ == "__main__":
    main()
