"""The `newsdesk` command: output and exit codes, on a data directory in tmp_path."""

from __future__ import annotations

import json

import pytest

from cli import main as cli
from tests.conftest import SEEDS


@pytest.fixture
def env(tmp_path, monkeypatch, embed_model):
    """Point the CLI at a fresh data directory; the loaded embedding model is handed to main."""
    monkeypatch.setenv("NEWSDESK_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("NEWSDESK_SEEDS_DIR", str(SEEDS))
    return embed_model


def run(capsys, embed_model, *argv: str, input_fn=None) -> tuple[int, str, str]:
    code = cli.main(["--env-file", "/nonexistent", *argv], embed_model=embed_model, input_fn=input_fn)
    out, err = capsys.readouterr()
    return code, out, err


def test_ask_answers_from_the_seeds_with_sources(env, capsys):
    code, out, _ = run(capsys, env, "ask", "Which cities were hit?")
    assert code == 0
    for city in ("Kyiv", "Kharkiv", "Zaporizhzhia"):
        assert city in out
    assert "Sources:" in out and "[1] Russia escalates drone and missile strikes" in out
    assert "date unknown" in out


def test_ask_json_is_plain_data(env, capsys):
    code, out, _ = run(capsys, env, "ask", "What happened on October 24, 2023?", "--json", "--as-of", "2023-10-26")
    data = json.loads(out)
    assert code == 0 and data["covered"] and data["as_of"] == "2023-10-26"
    assert data["citations"][0]["passage"]["published"] == "2023-10-24"


def test_bad_as_of_is_a_usage_error(env, capsys):
    with pytest.raises(SystemExit) as exc:
        cli.main(["ask", "x", "--as-of", "yesterday"])
    assert exc.value.code == 2
    assert "YYYY-MM-DD" in capsys.readouterr().err


def test_add_list_remove(env, capsys, tmp_path):
    article = tmp_path / "bridge.md"
    article.write_text(
        "---\ntitle: Bridge reopens\noutlet: Test Wire\npublished: 2024-05-06\n---\n"
        "The Golden Gate Bridge reopened on Monday after repairs to its cables.\n"
    )
    code, out, _ = run(capsys, env, "add", str(article))
    assert code == 0 and out.startswith("Added ") and "'Bridge reopens'" in out and "2024-05-06" in out
    code, out, _ = run(capsys, env, "add", str(article))
    assert code == 0 and out.startswith("Already there:")
    code, out, _ = run(capsys, env, "list", "--json")
    listed = {a["title"]: a for a in json.loads(out)}
    assert set(listed) == {
        "Bridge reopens",
        "Russia and Ukraine trade strikes a day before peace talks",
        "Russia escalates drone and missile strikes on Kyiv, Kharkiv and Zaporizhzhia",
    }
    code, out, _ = run(capsys, env, "remove", listed["Bridge reopens"]["id"])
    assert code == 0 and out.startswith("Removed")
    code, _, err = run(capsys, env, "remove", listed["Bridge reopens"]["id"])
    assert code == 1 and "No article has the id" in err


def test_bad_input_exits_1_with_a_message_and_stores_nothing(env, capsys, tmp_path):
    empty = tmp_path / "empty.txt"
    empty.write_text("   \n")
    binary = tmp_path / "image.txt"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)))
    code, out, err = run(
        capsys, env, "add", str(empty), str(binary), str(tmp_path / "missing.txt"), "http://127.0.0.1:9/article"
    )
    assert code == 1 and out == ""
    assert err.count("error:") == 4
    code, out, _ = run(capsys, env, "status", "--json")
    assert json.loads(out)["articles"] == 2


def test_rebuild_and_status(env, capsys):
    code, out, _ = run(capsys, env, "rebuild")
    assert code == 0 and "0 embedded" in out
    code, out, _ = run(capsys, env, "status")
    assert code == 0 and "articles: 2" in out and "embedded chroma" in out


def test_chat_keeps_the_conversation(env, capsys, tmp_path):
    flood = tmp_path / "flood.md"
    flood.write_text(
        "---\ntitle: Elbe floods Dresden\npublished: 2024-03-02\n---\nHeavy rain made the Elbe burst its "
        "banks in Dresden. Firefighters evacuated 300 residents of Dresden's old town.\n"
    )
    fire = tmp_path / "fire.md"
    fire.write_text(
        "---\ntitle: Thousands evacuated as fire spreads in Lyon\npublished: 2024-03-02\n---\n"
        "Firefighters evacuated 1,200 people from homes in Lyon as a warehouse fire spread. People were "
        "evacuated to schools; the evacuation of the district continued overnight.\n"
    )
    run(capsys, env, "add", str(flood), str(fire))
    questions = iter(
        [
            "What happened in Dresden?",
            "",
            "How many people were evacuated there?",
            "new",
            "How many people were evacuated there?",
            "quit",
        ]
    )
    code, out, _ = run(capsys, env, "chat", "--as-of", "2024-03-03", input_fn=lambda prompt: next(questions))
    answers = [_last_paragraph(part) for part in out.split("\n\nSources:")[:-1]]  # each answer's text
    assert code == 0 and answers[1].lstrip().startswith("Firefighters evacuated 300")  # the follow-up: Dresden
    assert answers[2].lstrip().startswith("Firefighters evacuated 1,200")  # after 'new' it stands alone


def _last_paragraph(text: str) -> str:
    lines = text.rstrip().split("\n")
    while len(lines) > 1 and lines[-2].strip() and not lines[-2].startswith(("    ", "[", "Newsdesk:")):
        lines = lines[:-2] + [lines[-2] + " " + lines[-1]]
    return lines[-1]


def test_control_characters_in_titles_and_file_names_are_shown_escaped(env, capsys, tmp_path):
    odd = tmp_path / "line\nAdded fake 'Forged article' (2024-01-01, 1 chunk).md"
    odd.write_text("---\ntitle: \x1b[31mRed\x1b[0m alert\u202e\n---\nThe harbour reopened on Monday after the storm.\n")
    code, out, err = run(capsys, env, "add", str(odd))
    assert code == 0 and "\x1b" not in out and "\u202e" not in out and out.count("\n") == 1
    assert "\\x1b[31mRed" in out
    code, out, _ = run(capsys, env, "list")
    assert "\x1b" not in out and "\\x1b[31mRed" in out
    code, out, _ = run(capsys, env, "ask", "Which harbour reopened after the storm?")
    assert "\x1b" not in out


def test_a_very_long_argument_is_not_taken_for_a_file_path(env, capsys):
    code, out, err = run(capsys, env, "add", "x" * 10_000, "https://example.com/" + "a" * 10_000)
    assert code == 1 and err.count("error:") == 2 and "Traceback" not in err


@pytest.mark.parametrize("as_of", ["0001-01-01", "9999-12-31"])
def test_as_of_dates_out_of_range_are_a_usage_error(env, capsys, as_of):
    with pytest.raises(SystemExit) as exc:
        cli.main(["ask", "x", "--as-of", as_of], embed_model=env)
    assert exc.value.code == 2 and "out of range" in capsys.readouterr().err


def test_output_into_a_closed_pipe_ends_quietly(env, tmp_path):
    import os
    import subprocess
    import sys

    from tests.conftest import ROOT

    environ = {
        **os.environ,
        "NEWSDESK_DATA_DIR": str(tmp_path / "data"),
        "NEWSDESK_SEEDS_DIR": str(SEEDS),
        "PYTHONPATH": str(ROOT),
    }
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader is gone before anything is printed (as `| head -0` would be)
    done = subprocess.run(
        [sys.executable, "-m", "cli", "--env-file", "/nonexistent", "ask", "Which cities were hit?"],
        cwd=ROOT,
        env=environ,
        stdout=write_end,
        stderr=subprocess.PIPE,
        text=True,
        timeout=300,
    )
    os.close(write_end)
    assert "Traceback" not in done.stderr and "BrokenPipe" not in done.stderr and done.returncode == 141


def test_a_short_answer_is_printed_first():
    from datetime import date

    from cli.output import render_answer
    from index import Answer, Citation, Passage, Sentence

    said = "Nissan recalls more than 200,000 pickup trucks due to rollaway risk"
    page = Passage("c1", "a1", "Video player was slow to load content.", said, "cnn.com", date(2022, 9, 18), None)
    answer = Answer(
        "Which automaker?",
        (Sentence(said, (1,), headline=True),),
        (Citation(1, page, headline=True),),
        date(2022, 9, 20),
        lead="Nissan",
    )
    assert render_answer(answer).startswith(f"Nissan — {said} [1]\n")


def test_a_quoted_headline_is_printed_on_its_own_line_and_cut_titles_are_tidied():
    from datetime import date

    from cli.output import render_answer
    from index import Answer, Citation, Passage, Sentence

    title = "Tram line 9 extended to Vesna harbour as the ..."
    body = "Tram line 9 now runs from the old town to Vesna harbour, the city said on Friday."
    page = Passage("c1", "a1", body, title, "Nordic Wire", date(2024, 2, 5), None)
    said = (Sentence("Tram line 9 extended to Vesna harbour", (1,), headline=True), Sentence(body, (1,)))
    out = render_answer(Answer("Where does line 9 go?", said, (Citation(1, page, headline=True),), date(2024, 2, 6)))
    assert out.startswith(f"Tram line 9 extended to Vesna harbour [1]\n{body} [1]\n")
    assert "[1] Tram line 9 extended to Vesna harbour — Nordic Wire, 2024-02-05" in out and "..." not in out
