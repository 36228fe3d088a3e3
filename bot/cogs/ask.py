"""/ask and @mentions: cited answers; a mention opens a thread, and questions in it are follow-ups. A server's
settings say where the bot answers, make /ask answers private, and name an ask channel where no mention is needed;
every logged answer carries 👍 / 👎 buttons."""

from __future__ import annotations

import logging
import re
import unicodedata
from collections.abc import Sequence
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from index import HISTORY_TURNS, Answer, Turn, clip

from ..checks import Refused
from ..community import Place, answer_extras, place_of_interaction, place_of_message
from ..ratelimit import OncePerWait, RateLimited
from ..render import SHORTENED, render_answer, render_partial
from ..respond import NO_PINGS, defer, original_editor
from ..stream import ThrottledEditor

if TYPE_CHECKING:
    from ..app import NewsdeskBot

log = logging.getLogger(__name__)
THINKING = "Looking through the articles…"
HINT = "Ask me a question about the news, e.g. `@Newsdesk which cities were hit?` or `/ask`."
_UNESCAPE = re.compile(r"\\([\\*_~|>`\[\]#:-])")
_MENTION_SYNTAX = re.compile(r"<(@[!&]?|#)(\d+)>|<a?:(\w+):\d+>|</([^<>:\n]+):\d+>|<t:-?\d+(?::\w)?>|<id:\w+>")
_PINGS = re.compile(r"@(everyone|here)\b")
_INVISIBLE = {"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"}  # controls, zero-width and direction marks, unassigned
_BOLD = re.compile(r"(?<!\\)\*\*")


def strip_mentions(text: str, user_id: int) -> str:
    """The question without the bot's mention(s)."""
    return re.sub(rf"<@!?{user_id}>", " ", text).strip()


def thread_name(message: discord.Message, question: str) -> str:
    """A thread name from a question: mentions as the plain names they stand for, no @everyone, no invisible or
    direction-changing characters; 1 to 100 characters."""
    guild = message.guild

    def plain(m: re.Match[str]) -> str:
        kind, ident, emoji, command = m.group(1), int(m.group(2) or 0), m.group(3), m.group(4)
        if emoji or command:
            return f":{emoji}:" if emoji else f"/{command}"
        if guild is None or not kind:
            return ""
        if kind == "#":
            channel = guild.get_channel_or_thread(ident)
            return f"#{channel.name}" if channel else ""
        if kind == "@&":
            role = guild.get_role(ident)
            return role.name if role else ""
        user = next((u for u in message.mentions if u.id == ident), None) or guild.get_member(ident)
        return user.display_name if user else ""

    text = _MENTION_SYNTAX.sub(plain, question)
    text = "".join(ch for ch in text if unicodedata.category(ch) not in _INVISIBLE)
    text = " ".join(_PINGS.sub(r"\1", text).split())
    return clip(text, 100, "…") or "Question"


def plain_answer(content: str) -> str:
    """An answer message's text as the engine wrote it (no notes, no markdown escapes)."""
    body = content.split(f"\n{SHORTENED}")[0].split("\n-# ")[0]
    return " ".join(_UNESCAPE.sub(r"\1", _BOLD.sub("", body)).split())


class Ask(commands.Cog):
    """Questions by slash command or mention."""

    def __init__(self, bot: NewsdeskBot) -> None:
        self.bot = bot
        self.told = OncePerWait()  # who was told about the rate limit, until when

    @app_commands.command(name="ask", description="Ask a question; the answer cites the news articles it comes from")
    @app_commands.describe(
        question="What do you want to know?",
        private="Show the answer to you only (default: as this server's moderators chose)",
    )
    async def ask(
        self, interaction: discord.Interaction, question: app_commands.Range[str, 2, 500], private: bool | None = None
    ) -> None:
        """Answer in the channel, editing the deferred reply as the answer arrives; inside a thread, a follow-up."""
        if not question.split():  # checked before the public placeholder, which would flash before a private error
            raise Refused("The question is empty.")
        place = await place_of_interaction(self.bot, interaction, private)
        self.bot.ask_limiter.hit(interaction.user.id, "asking")
        await defer(interaction, ephemeral=place.private)
        history: list[Turn] = []
        if isinstance(interaction.channel, discord.Thread):  # the empty "thinking…" placeholder is skipped
            history = await self.recent_turns(interaction.channel, before=None)
        editor = original_editor(interaction, self.bot.stream_interval)
        answer = await self.answer(question, history, editor, place)
        await editor.final(**render_answer(answer).kwargs(), **answer_extras(answer))

    async def answer(self, question: str, history: Sequence[Turn], editor: ThrottledEditor, place: Place) -> Answer:
        """Ask the engine in a worker thread; text that streams in (only an LLM streams) goes to the editor, so an
        answer that comes complete at once is shown once, with its sources."""

        def on_text(text: str) -> None:
            editor.update_threadsafe(content=render_partial(text))

        return await self.bot.run_engine(
            self.bot.engine.ask, question, history=list(history), on_text=on_text, lane="ask", **place.engine_kwargs()
        )

    @commands.Cog.listener()
    async def on_message(self, message: discord.Message) -> None:
        """A mention (or a reply to the bot), or any message in the ask channel, is a question; inside a thread, a
        follow-up."""
        me = self.bot.user
        if message.author.bot or me is None:
            return
        place = await place_of_message(self.bot, message)
        if place is None:
            return
        question = strip_mentions(message.content, me.id)
        if not question:
            if me in message.mentions:
                await message.reply(HINT, mention_author=False, allowed_mentions=NO_PINGS)
            return
        try:
            self.bot.ask_limiter.hit(message.author.id, "asking")
        except RateLimited as refused:
            await self.refuse_once(message, refused)
            return
        history: list[Turn] = []
        if isinstance(message.channel, discord.Thread):
            target: discord.abc.Messageable = message.channel
            history = await self.recent_turns(message.channel, before=message, any_message=place.any_message)
        else:
            target = await self.open_thread(message, question)
        if target is message.channel and not isinstance(target, discord.Thread):
            reply = await message.reply(THINKING, mention_author=False, allowed_mentions=NO_PINGS)
        else:
            reply = await target.send(THINKING, allowed_mentions=NO_PINGS)
        editor = ThrottledEditor(lambda **kw: reply.edit(allowed_mentions=NO_PINGS, **kw), self.bot.stream_interval)
        try:
            answer = await self.answer(question, history, editor, place)
            await editor.final(**render_answer(answer).kwargs(), **answer_extras(answer))
        except BaseException:
            await _quietly_delete(reply)
            raise

    async def refuse_once(self, message: discord.Message, refused: RateLimited) -> None:
        """A mention over the limit: one reply per user and wait (not one per message), gone when the wait is over.

        A mention cannot be answered privately; a reply, unlike a reaction, can say when to try again."""
        if self.told.first(message.author.id, refused.retry_after):
            await message.reply(
                str(refused), mention_author=False, allowed_mentions=NO_PINGS, delete_after=refused.retry_after
            )

    async def open_thread(self, message: discord.Message, question: str) -> discord.abc.Messageable:
        """A thread on the question's message, or the channel itself where threads are not possible."""
        if not isinstance(message.channel, discord.TextChannel):
            return message.channel
        try:
            return await message.create_thread(name=thread_name(message, question), auto_archive_duration=1440)
        except discord.HTTPException as exc:
            log.info("could not open a thread (%s); answering in the channel", exc)
            return message.channel

    async def recent_turns(
        self, thread: discord.Thread, before: discord.Message | None, any_message: bool = False
    ) -> list[Turn]:
        """The last few question/answer pairs in a thread (oldest first, before `before`), read from Discord itself;
        with any_message (the ask channel), messages that do not mention the bot are questions too."""
        me = self.bot.user
        turns: list[Turn] = []
        limit, seen = 2 * HISTORY_TURNS + 2, 0
        async for msg in thread.history(limit=limit, before=before, oldest_first=False):
            seen += 1
            if msg.author.id == getattr(me, "id", None):
                if msg.content and msg.content != THINKING:
                    turns.append(Turn(question="", answer=plain_answer(msg.content)))
            elif turns and not turns[-1].question and (any_message or me in msg.mentions):
                turns[-1] = Turn(strip_mentions(msg.content, me.id), turns[-1].answer)  # type: ignore[union-attr]
        if turns and not turns[-1].question and seen < limit:  # reached the thread's start
            turns[-1] = Turn(await self._starter_question(thread), turns[-1].answer)
        return [t for t in reversed(turns) if t.question][-HISTORY_TURNS:]

    async def _starter_question(self, thread: discord.Thread) -> str:
        """The question that opened the thread (the thread's starter message), else the thread's name."""
        me = self.bot.user
        try:
            parent = thread.parent
            if parent is not None and me is not None:
                starter = thread.starter_message or await parent.fetch_message(thread.id)  # type: ignore[union-attr]
                return strip_mentions(starter.content, me.id) or thread.name
        except discord.HTTPException:
            pass
        return thread.name


async def _quietly_delete(message: discord.Message) -> None:
    try:
        await message.delete()
    except discord.HTTPException:
        pass
