"""End to end: /add-article by attachment, URL and modal; duplicates; bad input; who may add; /sources."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web

from .harness import Harness, connected, done, make_engine

STORY = (
    "Port authorities in Gdansk reopened the northern terminal on Monday after a three-week closure "
    "caused by a crane collapse. Shipping lines said the backlog of containers would take ten days to clear. "
    "The city's mayor promised an inquiry into the maintenance of the cranes."
)
HTML = f"""<!doctype html><html><head><title>Gdansk terminal reopens after crane collapse</title>
<meta property="og:site_name" content="Baltic Wire"></head><body><article>
<h1>Gdansk terminal reopens after crane collapse</h1><p>{STORY}</p>
<p>Dock workers welcomed the decision but asked for new safety checks before night shifts resume.</p>
</article></body></html>"""


def count(engine: Any) -> int:
    return len(engine.list_articles())


@pytest.fixture
async def article_site() -> AsyncIterator[str]:
    """A tiny web server on 127.0.0.1 serving one article page."""
    app = web.Application()
    app.router.add_get("/gdansk.html", lambda r: web.Response(text=HTML, content_type="text/html"))
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    yield f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}"  # type: ignore[union-attr]
    await runner.cleanup()


@pytest.fixture(scope="module")
def loopback_engine(tmp_path_factory: pytest.TempPathFactory, embed_model: Any) -> Any:
    """An empty real engine allowed to fetch private addresses (to reach the loopback site)."""
    engine = make_engine(tmp_path_factory.mktemp("loopback"), embed_model, seeded=False, fetch_allow_private=True)
    yield engine
    engine.close()


async def test_add_attachment_then_duplicate(discord_env: Harness) -> None:
    env, user = discord_env, discord_env.member("editor")
    file = env.attachment("gdansk.md", f"# Gdansk terminal reopens\n\n{STORY}".encode(), "text/markdown")
    first = await done(env, await env.slash("add-article", user, file=file))
    assert first.text.startswith("Added **Gdansk terminal reopens**") and "chunk" in first.text
    assert not first.ephemeral()
    again = await done(env, await env.slash("add-article", user, file=env.attachment("copy.md", file.data)))
    assert again.text.startswith("Already there") and "Gdansk" in again.text


async def test_add_url_from_loopback_site(loopback_engine: Any, article_site: str) -> None:
    async with connected(loopback_engine) as env:
        ix = await done(env, await env.slash("add-article", env.member("editor"), url=f"{article_site}/gdansk.html"))
        assert ix.text.startswith("Added ") and "Gdansk terminal reopens" in ix.text
        assert f"<{article_site}/gdansk.html>" in ix.text  # linked, without a preview
        stored = loopback_engine.list_articles("Gdansk", server=env.guild_id)
        assert len(stored) == 1 and stored[0].url == f"{article_site}/gdansk.html"


async def test_add_pasted_text_with_the_modal(discord_env: Harness) -> None:
    env, user = discord_env, discord_env.member("editor")
    opened = await env.slash("add-article", user)
    await env.wait_for(lambda: opened.callbacks, 10)
    assert opened.callbacks[0]["type"] == 9  # a modal, as the first response
    submitted = await done(
        env,
        await env.submit_modal(
            opened,
            {
                "title": "Tram line 7 extended to the airport",
                "body": "The city opened the tram extension on Friday. " * 3,
                "outlet": "Krakow Post",
                "published": "2024-05-03",
                "url": "",
            },
        ),
    )
    assert submitted.text.startswith("Added **Tram line 7 extended to the airport** (Krakow Post, 2024-05-03)")


async def test_modal_with_a_bad_date_is_refused(discord_env: Harness) -> None:
    env, user = discord_env, discord_env.member("editor")
    opened = await env.slash("add-article", user)
    await env.wait_for(lambda: opened.callbacks, 10)
    before = count(env.bot.engine)
    ix = await done(
        env, await env.submit_modal(opened, {"title": "T", "body": "Some body text " * 5, "published": "yesterday"})
    )
    assert ix.ephemeral() and "YYYY-MM-DD" in ix.text and count(env.bot.engine) == before


@pytest.mark.parametrize(
    "filename, data, content_type, expected",
    [
        ("empty.txt", b"", "text/plain", "empty"),
        ("image.bin", bytes(range(256)) * 8, "application/octet-stream", ""),
    ],
)
async def test_bad_attachment_is_an_ephemeral_error(
    discord_env: Harness, filename: str, data: bytes, content_type: str, expected: str
) -> None:
    env = discord_env
    before = count(env.bot.engine)
    ix = await done(
        env, await env.slash("add-article", env.member("editor"), file=env.attachment(filename, data, content_type))
    )
    assert ix.ephemeral() and not ix.public_placeholder and "Something went wrong" not in ix.text  # nothing flashed
    assert expected.lower() in ix.text.lower() and count(env.bot.engine) == before


async def test_private_url_is_refused_by_default(discord_env: Harness, article_site: str) -> None:
    env = discord_env
    before = count(env.bot.engine)
    ix = await done(env, await env.slash("add-article", env.member("editor"), url=f"{article_site}/gdansk.html"))
    assert ix.ephemeral() and "private" in ix.text.lower() and count(env.bot.engine) == before
    assert not ix.public_placeholder  # refused at once: no public "thinking…" first


async def test_link_and_file_together_is_refused(discord_env: Harness) -> None:
    env = discord_env
    ix = await done(
        env,
        await env.slash(
            "add-article", env.member("editor"), url="https://example.com/a", file=env.attachment("a.txt", b"text")
        ),
    )
    assert ix.ephemeral() and "not both" in ix.text and not ix.deleted  # refused before deferring


async def test_add_role_setting(bot_engine: Any) -> None:
    async with connected(bot_engine, add_role="Night Desk") as env:
        file = env.attachment("x.txt", b"Short note about nothing in particular, long enough to be an article.")
        plain = await done(env, await env.slash("add-article", env.member("reader"), file=file))
        assert plain.ephemeral() and "Night Desk" in plain.text
        member = env.member("desk", roles=(env.plain_role["id"],))
        allowed = await done(env, await env.slash("add-article", member, file=file))
        assert not allowed.ephemeral() and allowed.text.startswith(("Added", "Already there"))


async def test_rejected_adds_do_not_count_toward_the_rate_limit(bot_engine: Any) -> None:
    async with connected(bot_engine, add_per_minute=1) as env:
        user = env.member("hasty")
        bad = await done(env, await env.slash("add-article", user, file=env.attachment("empty.txt", b"")))
        assert bad.ephemeral() and "empty" in bad.text.lower()
        opened = await env.slash("add-article", user)
        await env.wait_for(lambda: opened.callbacks, 10)
        dated = await done(
            env, await env.submit_modal(opened, {"title": "T", "body": "Some body text " * 5, "published": "yesterday"})
        )
        assert "YYYY-MM-DD" in dated.text
        text = f"# Ferry service resumes\n\n{STORY.replace('Gdansk', 'Rostock')}".encode()
        good = await done(env, await env.slash("add-article", user, file=env.attachment("rostock.md", text)))
        assert not good.ephemeral() and good.text.startswith(("Added", "Already there"))
        again = await done(env, await env.slash("add-article", user, file=env.attachment("rostock.md", text)))
        assert again.ephemeral() and "try again in" in again.text  # the successful add did count


async def test_sources_autocomplete_and_listing(discord_env: Harness) -> None:
    env, user = discord_env, discord_env.member("reader")
    choices = await env.autocomplete("sources", user, "search", "Kyiv")
    title = "Russia escalates drone and missile strikes on Kyiv, Kharkiv and Zaporizhzhia"
    assert [c["name"] for c in choices] == [title]
    everything = await env.autocomplete("sources", user, "search", "")
    assert len(everything) >= 2
    ix = await done(env, await env.slash("sources", user, search=choices[0]["value"]))
    assert ix.ephemeral() and "Russia escalates drone" in ix.text and choices[0]["value"] in ix.text
    listing = await done(env, await env.slash("sources", user))
    assert "Russia and Ukraine trade strikes" in listing.text
