"""Page clutter: lines one outlet repeats across its pages, structural cues, correction notices; with the
line counts in memory and in a real SQLite database."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from index.clutter import (
    LINE_STATS_SCHEMA,
    REPEAT_ARTICLES,
    LineStats,
    MemoryLineStats,
    SqliteLineStats,
    body_fingerprints,
    clean,
    fingerprint,
    outlet_key,
)

PROMO = "Sign up for the Morning Ledger newsletter and get the day's top stories in your inbox."
OUTLET = "ledger.example"


def _page(n: int, *extra: str) -> str:
    """A made-up article of the Daily Ledger: its own text, then whatever the page adds."""
    return "\n\n".join(
        [
            f"Story {n}: the council of town {n} voted on budget item {n} after a long debate on Monday.",
            f"Residents of town {n} said the vote on item {n} would change how the library is funded.",
            *extra,
        ]
    )


@pytest.fixture(params=["memory", "sqlite"])
def stats(request, tmp_path: Path) -> Iterator[LineStats]:
    if request.param == "memory":
        yield MemoryLineStats()
        return
    conn = sqlite3.connect(tmp_path / "lines.sqlite3")
    conn.executescript(LINE_STATS_SCHEMA)
    yield SqliteLineStats(conn)
    conn.close()


def _record(stats: LineStats, pages: dict[str, str], outlet: str = OUTLET) -> None:
    for article_id, body in pages.items():
        stats.record(outlet, article_id, body_fingerprints(body))


def test_a_promo_line_on_several_pages_of_one_outlet_is_removed_from_each(stats):
    pages = {f"a{n}": _page(n, PROMO) for n in range(REPEAT_ARTICLES)}
    _record(stats, pages)
    for article_id, body in pages.items():
        cleaned = clean(body, OUTLET, stats, article_id)
        assert PROMO not in cleaned.body
        assert [r.reason for r in cleaned.removed] == ["repeated"]
        assert cleaned.body.startswith("Story ") and "library" in cleaned.body


def test_a_line_on_fewer_pages_than_the_threshold_stays(stats):
    pages = {f"a{n}": _page(n, PROMO) for n in range(REPEAT_ARTICLES - 1)}
    _record(stats, pages)
    assert all(PROMO in clean(body, OUTLET, stats, article_id).body for article_id, body in pages.items())


def test_repetition_is_counted_per_outlet(stats):
    _record(stats, {f"a{n}": _page(n, PROMO) for n in range(REPEAT_ARTICLES - 1)})
    _record(stats, {"elsewhere": _page(99, PROMO)}, outlet="other.example")
    assert PROMO in clean(_page(0, PROMO), OUTLET, stats, "a0").body


def test_article_text_on_one_page_is_never_removed_however_often_that_page_is_recorded(stats):
    body = _page(1)
    for _ in range(REPEAT_ARTICLES + 2):  # the same article fetched again and again
        stats.record(OUTLET, "a1", body_fingerprints(body))
    _record(stats, {f"b{n}": _page(n + 10) for n in range(REPEAT_ARTICLES)})
    cleaned = clean(body, OUTLET, stats, "a1")
    assert cleaned.body == body and not cleaned.removed


def test_an_updated_article_no_longer_counts_the_lines_it_dropped(stats):
    pages = {f"a{n}": _page(n, PROMO) for n in range(REPEAT_ARTICLES)}
    _record(stats, pages)
    stats.record(OUTLET, "a0", body_fingerprints(_page(0)))  # a0 re-fetched without the promo
    assert PROMO in clean(pages["a1"], OUTLET, stats, "a1").body
    stats.forget("a2")
    stats.record(OUTLET, "a0", body_fingerprints(pages["a0"]))
    assert PROMO in clean(pages["a1"], OUTLET, stats, "a1").body  # a2 forgotten: four pages again


def test_the_article_that_makes_a_line_boilerplate_names_the_pages_to_clean_again(stats):
    pages = {f"a{n}": _page(n, PROMO) for n in range(REPEAT_ARTICLES)}
    crossed: set[int] = set()
    for article_id, body in pages.items():
        assert not crossed
        crossed = stats.record(OUTLET, article_id, body_fingerprints(body))
    assert crossed == {fingerprint(PROMO)}
    assert stats.articles_with(OUTLET, crossed) == set(pages)
    assert PROMO not in clean(pages["a0"], OUTLET, stats, "a0").body  # cleaned again, now it goes
    assert not stats.record(OUTLET, "a0", body_fingerprints(pages["a0"]))  # a re-fetch is no new crossing


def test_short_repeated_headings_stay(stats):
    pages = {f"a{n}": _page(n, "Alaska", "1. Extreme weather") for n in range(REPEAT_ARTICLES + 3)}
    _record(stats, pages)
    cleaned = clean(pages["a0"], OUTLET, stats, "a0")
    assert "Alaska" in cleaned.body and "1. Extreme weather" in cleaned.body


def test_a_photo_caption_with_its_credit_is_removed():
    caption = "Firefighters work near the bridge on Tuesday. Jane Roe/AFP/Getty Images"
    kept = [
        "The fund is open 24/7 and/or by appointment.",
        "He left the Gray/White party in 2019.",
        "Smoke House / SmokeHQ",
    ]
    cleaned = clean(_page(1, caption, *kept), None, MemoryLineStats())
    assert caption not in cleaned.body and [r.reason for r in cleaned.removed] == ["credit"]
    assert all(line in cleaned.body for line in kept)


def test_a_photo_gallery_keeps_its_captions():
    captions = [f"Fans cheer as the parade passes float {n} on Main Street. Jane Roe/Getty Images" for n in range(3)]
    body = "\n\n".join(["The best photos of the parade.", *captions])
    assert clean(body, None, MemoryLineStats()).body == body


def test_video_player_text_is_removed_but_clock_times_stay():
    player = [
        "Video Ad Feedback Flooding swamps the town center 02:31 - Source: CNN",
        "JUST WATCHED Mayor tours flood damage Replay More Videos ... MUST WATCH Mayor tours flood damage 01:12",
    ]
    kept = ["Dallas, Texas: 1:40-1:44 p.m. CDT", "[35:39] Mayor: We will rebuild every house —"]
    cleaned = clean(_page(1, *player, *kept), None, MemoryLineStats())
    assert [r.reason for r in cleaned.removed] == ["widget", "widget"]
    assert all(line in cleaned.body for line in kept)


def test_a_whole_article_run_into_one_line_is_not_taken_for_a_widget_or_a_caption():
    story = " ".join(
        f"The council of town {n} met on Monday and the council of town {n} voted for the plan." for n in range(8)
    )
    for line in (story + " Skip advert", story + " The vote ended late. Jane Roe/Getty Images"):
        assert line in clean(_page(1, line), None, MemoryLineStats()).body


def test_a_glued_related_link_is_removed_but_a_paragraph_after_a_label_stays():
    link = "More:Council approves new library budget after long debate"
    paragraph = (
        "Springfield:The council approved the budget on Monday after a debate that lasted six hours. "
        "Residents who spoke at the meeting were divided, and the mayor said the library would reopen "
        "in the spring once repairs to its roof and heating system have been finished by the city."
    )
    cleaned = clean(_page(1, link, paragraph), None, MemoryLineStats())
    assert link not in cleaned.body and paragraph in cleaned.body


def test_contact_lines_close_an_article_but_handles_in_its_text_stay():
    quoted = "“Thanks to everyone who came,” @LedgerMayor wrote on the night of the vote."
    contact = "Jane Roe covers the council. Reach her at jroe@ledger.example or follow her @janeroe."
    body = "\n\n".join([quoted, *_page(1).split("\n\n"), "The next vote is in May.", contact])
    cleaned = clean(body, None, MemoryLineStats())
    assert quoted in cleaned.body and contact not in cleaned.body


def test_a_live_blog_time_stamp_is_removed():
    stamp = "Updated Feb. 15, 2024, 12:52 p.m. ET"
    kept = ["The vote is set for Jan. 10 at 8 p.m., 2024.", "3. Northern Dancer, 2:00.0 (1964)"]
    cleaned = clean(_page(1, stamp, *kept), None, MemoryLineStats())
    assert stamp not in cleaned.body and all(line in cleaned.body for line in kept)


def test_a_correction_notice_is_kept_as_a_correction_not_as_text_to_quote():
    notice = "Correction: An earlier version of this story misstated the vote. It was 5-2."
    other = "An earlier version of this story said the vote was 4-3."
    labelled = "Editor's note: This story has been updated to correct the name of the clerk."
    ordinary = "The mayor said the council would correct the error in an earlier version of the plan."
    cleaned = clean(_page(1, notice, ordinary, labelled) + "\n\n" + other, OUTLET, MemoryLineStats())
    assert cleaned.corrections == (notice, labelled, other)
    assert all(line not in cleaned.body for line in cleaned.corrections) and ordinary in cleaned.body
    assert not cleaned.removed


def test_removing_lines_leaves_the_other_lines_and_paragraph_breaks_as_they_were():
    body = "First line.\nVideo Ad Feedback Storm 01:02 - Source: CNN\nSecond line.\n\n\nThird paragraph."
    assert clean(body, None, MemoryLineStats()).body == "First line.\nSecond line.\n\nThird paragraph."


def test_the_outlet_of_an_article_is_its_host():
    assert outlet_key("https://www.CNN.com/2022/01/01/us/story/index.html") == "cnn.com"
    assert outlet_key("http://edition.cnn.com:8080/x") == "edition.cnn.com"
    assert outlet_key(None) is None and outlet_key("not a url") is None
