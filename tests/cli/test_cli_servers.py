"""`newsdesk --server ID`: each command acts on one server's corpus (default the shared one); stats, share, unshare,
who added and removed articles."""

from __future__ import annotations

import getpass
import json

from .test_cli import env, run  # noqa: F401 - the fixture

FERRY = (
    "---\ntitle: Westport ferry fares will double in March\noutlet: Westport Post\npublished: 2025-02-03\n---\n"
    "The Westport ferry company will double its fares in March, the harbour board said on Monday. A single "
    "crossing will cost 8 euros instead of 4.\n"
)
QUESTION = "How much will a single ferry crossing in Westport cost?"


def test_server_option_scopes_adding_asking_listing_and_removing(env, capsys, tmp_path):  # noqa: F811
    path = tmp_path / "ferry.md"
    path.write_text(FERRY)
    code, out, _ = run(capsys, env, "add", str(path), "--server", "A")
    assert code == 0 and out.startswith("Added ")
    article_id = out.split()[1]
    code, out, _ = run(capsys, env, "--server", "A", "list")
    assert article_id in out and f"added by cli:{getpass.getuser()}" in out and "[shared]" in out
    assert article_id not in run(capsys, env, "list")[1]
    assert article_id not in run(capsys, env, "list", "--server", "B")[1]
    code, out, _ = run(capsys, env, "ask", QUESTION, "--server", "A", "--as-of", "2025-02-10", "--json")
    assert json.loads(out)["citations"][0]["passage"]["article_id"] == article_id
    code, out, _ = run(capsys, env, "ask", QUESTION, "--server", "B", "--as-of", "2025-02-10", "--json")
    assert article_id not in out
    code, _, err = run(capsys, env, "remove", article_id, "--server", "B")
    assert code == 1 and "No article" in err
    code, _, err = run(capsys, env, "remove", article_id)  # the shared corpus does not hold it either
    assert code == 1 and "No article" in err
    code, out, _ = run(capsys, env, "status", "--json", "--server", "A")
    assert json.loads(out)["articles"] == 1
    assert run(capsys, env, "remove", article_id, "--server", "A")[0] == 0
    code, out, _ = run(capsys, env, "list", "--removed", "--server", "A")
    assert article_id in out and f"removed by cli:{getpass.getuser()}" in out
    assert article_id not in run(capsys, env, "list", "--removed")[1]


def test_stats_json_counts_the_servers_questions(env, capsys):  # noqa: F811
    for question in ("Which cities were hit?", "What is the best recipe for banana bread?"):
        assert run(capsys, env, "ask", question, "--server", "A")[0] == 0
    code, out, _ = run(capsys, env, "stats", "--json", "--server", "A")
    stats = json.loads(out)
    assert code == 0 and (stats["questions"], stats["not_covered"], stats["server"]) == (2, 1, "A")
    assert stats["gaps"][0]["questions"] == ["What is the best recipe for banana bread?"]
    assert json.loads(run(capsys, env, "stats", "--json")[1])["questions"] == 0
    code, out, _ = run(capsys, env, "stats", "--server", "A")
    assert code == 0 and "2 question(s)" in out and "banana" in out


def test_share_and_unshare(env, capsys, tmp_path):  # noqa: F811
    path = tmp_path / "ferry.md"
    path.write_text(FERRY)
    article_id = run(capsys, env, "add", str(path), "--server", "A")[1].split()[1]
    code, _, err = run(capsys, env, "share", article_id)
    assert code == 1 and "Name the server" in err
    assert run(capsys, env, "share", article_id, "--server", "A")[0] == 0
    assert article_id in run(capsys, env, "list", "--server", "B")[1]
    assert run(capsys, env, "unshare", article_id, "--server", "A")[0] == 0
    assert article_id not in run(capsys, env, "list", "--server", "B")[1]
    code, _, err = run(capsys, env, "list", "--server", "not a server")
    assert code == 1 and "is not a server id" in err
