"""Discord's rules, checked on what the bot sends: recorded as violations and answered as Discord would answer them.

The rules: acknowledge an interaction within 3 s and only once; use its token for 15 minutes at most (401 code
50027); message and embed limits (400 code 50035); no empty messages (50006); at most 5 edits of one message in 5 s
(429); autocomplete choice and modal limits; thread names of 1-100 characters; and, as a safety check of our own,
no message that would ping anyone.
"""

from __future__ import annotations

import time
from collections import defaultdict, deque
from typing import TYPE_CHECKING

from aiohttp import web

from .payloads import error_response, json_response, modal_inputs

if TYPE_CHECKING:
    from .server import FakeInteraction

ACK_DEADLINE = 3.0
TOKEN_LIFETIME = 15 * 60.0  # an interaction's token (its replies and follow-ups) works for 15 minutes
EDIT_LIMIT, EDIT_WINDOW = 5, 5.0
MESSAGE_CONTENT_INTENT = 1 << 15


class Rules:
    """Checks requests against Discord's rules; every breach is appended to `violations`."""

    def __init__(
        self,
        *,
        ack_deadline: float = ACK_DEADLINE,
        edit_limit: int = EDIT_LIMIT,
        edit_window: float = EDIT_WINDOW,
        token_lifetime: float = TOKEN_LIFETIME,
    ) -> None:
        # tests shortening the bot's intervals shorten the window; tests of long jobs shorten the token's life
        self.ack_deadline, self.edit_limit, self.edit_window = ack_deadline, edit_limit, edit_window
        self.token_lifetime = token_lifetime
        self.violations: list[str] = []
        self._edits: dict[str, deque[float]] = defaultdict(deque)

    def violate(self, text: str) -> None:
        """Record a breach."""
        self.violations.append(text)

    def message(self, payload: dict, *, creating: bool, where: str) -> web.Response | None:
        """Discord's answer to an invalid or empty message body; None when it is accepted."""
        if errors := message_errors(payload, creating=creating):
            self.violate(f"{where}: 400 invalid form body {errors}")
            return error_response(400, 50035, "Invalid Form Body", errors)
        if creating and is_empty(payload):
            self.violate(f"{where}: empty message")
            return error_response(400, 50006, "Cannot send an empty message")
        if who := pings(payload):
            self.violate(f"{where}: would ping {who}")
        return None

    def edit(self, message_id: str, where: str) -> web.Response | None:
        """A 429 when this edit of a message is one too many within the window; None when it is allowed."""
        now, stamps = time.monotonic(), self._edits[message_id]
        while stamps and now - stamps[0] > self.edit_window:
            stamps.popleft()
        if len(stamps) >= self.edit_limit:
            self.violate(f"{where}: more than {self.edit_limit} edits in {self.edit_window:g} s on one message (429)")
            retry = round(self.edit_window - (now - stamps[0]), 3)
            return json_response(
                {"message": "You are being rate limited.", "retry_after": retry, "global": False},
                429,
                {"Via": "1.1 google", "Retry-After": str(retry)},
            )
        stamps.append(now)
        return None

    def token(self, ix: FakeInteraction, where: str) -> web.Response | None:
        """A 401 for a use of the interaction's token after it expired; None while it is valid."""
        age = time.monotonic() - ix.created
        if age <= self.token_lifetime:
            return None
        self.violate(
            f"{where}: interaction token used {age:.1f} s after the interaction (it expires after "
            f"{self.token_lifetime:g} s)"
        )
        return error_response(401, 50027, "Invalid Webhook Token")

    def acknowledgement(self, ix: FakeInteraction, late: float, kind: int, data: dict) -> web.Response | None:
        """Discord's answer to a callback that is late (seconds after the interaction), repeated or invalid."""
        if late > self.ack_deadline:
            self.violate(f"/{ix.name}: acknowledged after {late:.2f} s")
            return error_response(404, 10062, "Unknown interaction")
        if ix.callbacks:
            self.violate(f"/{ix.name}: acknowledged twice")
            return error_response(400, 40060, "Interaction has already been acknowledged.")
        errors = (
            choice_errors(data.get("choices", []))
            if kind == 8
            else modal_errors(data)
            if kind == 9
            else message_errors(data, creating=True)
            if kind == 4
            else message_errors(data, creating=False)
            if kind == 7
            else {}
        )
        if errors:
            self.violate(f"/{ix.name}: callback type {kind} invalid {errors}")
            return error_response(400, 50035, "Invalid Form Body", errors)
        return None

    def thread_name(self, name: str | None) -> web.Response | None:
        """A 400 for a thread name outside 1-100 characters."""
        if 1 <= len(name or "") <= 100:
            return None
        self.violate(f"thread name {name!r}")
        return error_response(
            400,
            50035,
            "Invalid Form Body",
            {"name": {"_errors": [{"code": "BASE_TYPE_BAD_LENGTH", "message": "1-100"}]}},
        )


def sees_content(intents: int, mentioned: bool) -> bool:
    """Whether a bot receives a message's content: with the privileged intent, or when the message mentions it."""
    return mentioned or bool(intents & MESSAGE_CONTENT_INTENT)


def _limit(errors: dict, path: list[str], code: str, text: str) -> None:
    node = errors
    for key in path:
        node = node.setdefault(key, {})
    node.setdefault("_errors", []).append({"code": code, "message": text})


def component_errors(rows: list[dict]) -> dict:
    """Discord's limits on a message's components: 5 action rows of 5 buttons or 1 select; custom ids up to 100
    characters; 1-25 select options with labels and values up to 100; button labels up to 80."""
    errors: dict = {}
    if len(rows) > 5:
        _limit(errors, ["components"], "BASE_TYPE_MAX_LENGTH", "Must be 5 or fewer in length.")
    for i, row in enumerate(rows):
        items = row.get("components") or []
        selects = [c for c in items if c.get("type") in (3, 5, 6, 7, 8)]
        if row.get("type") != 1 or not 1 <= len(items) <= 5 or (selects and len(items) > 1):
            _limit(
                errors, ["components", str(i)], "COMPONENT_LAYOUT_WIDTH_EXCEEDED", "A row holds 5 buttons or 1 select."
            )
        for j, item in enumerate(items):
            where = ["components", str(i), "components", str(j)]
            if len(item.get("custom_id") or "") > 100 or len(item.get("label") or "") > 80:
                _limit(errors, where, "BASE_TYPE_MAX_LENGTH", "custom_id ≤ 100, label ≤ 80.")
            options = item.get("options")
            if options is not None and (
                not 1 <= len(options) <= 25
                or any(len(o.get("label") or "") > 100 or len(o.get("value") or "") > 100 for o in options)
            ):
                _limit(errors, [*where, "options"], "BASE_TYPE_BAD_LENGTH", "1-25 options, labels and values ≤ 100.")
    return errors


def message_errors(payload: dict, *, creating: bool) -> dict:
    """Discord's validation of a message body: the nested `errors` object, empty when valid."""
    errors: dict = component_errors(payload.get("components") or [])
    content = payload.get("content") or ""
    if len(content) > 2000:
        _limit(errors, ["content"], "BASE_TYPE_MAX_LENGTH", "Must be 2000 or fewer in length.")
    embeds = payload.get("embeds") or []
    if len(embeds) > 10:
        _limit(errors, ["embeds"], "BASE_TYPE_MAX_LENGTH", "Must be 10 or fewer in length.")
    total = 0
    for i, embed in enumerate(embeds):
        for key, cap in (("title", 256), ("description", 4096)):
            text = embed.get(key) or ""
            total += len(text)
            if len(text) > cap:
                _limit(errors, ["embeds", str(i), key], "BASE_TYPE_MAX_LENGTH", f"Must be {cap} or fewer in length.")
        for key, sub, cap in (("footer", "text", 2048), ("author", "name", 256)):
            text = (embed.get(key) or {}).get(sub) or ""
            total += len(text)
            if len(text) > cap:
                _limit(errors, ["embeds", str(i), key, sub], "BASE_TYPE_MAX_LENGTH", f"Must be {cap} or fewer.")
        fields = embed.get("fields") or []
        if len(fields) > 25:
            _limit(errors, ["embeds", str(i), "fields"], "BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length.")
        for f in fields:
            total += len(f.get("name") or "") + len(f.get("value") or "")
            if len(f.get("name") or "") > 256 or len(f.get("value") or "") > 1024:
                _limit(errors, ["embeds", str(i), "fields"], "BASE_TYPE_MAX_LENGTH", "Field too long.")
    if total > 6000:
        _limit(errors, ["embeds"], "MAX_EMBED_SIZE_EXCEEDED", "Embed size exceeds maximum size of 6000")
    return errors


def is_empty(payload: dict) -> bool:
    """True for a new message with nothing to show (Discord answers 50006)."""
    return not (
        payload.get("content")
        or payload.get("embeds")
        or payload.get("attachments")
        or payload.get("components")
        or payload.get("sticker_ids")
        or payload.get("poll")
    )


def pings(payload: dict) -> list[str]:
    """Who this message would notify under Discord's allowed_mentions rules (a safety check for tests)."""
    content = payload.get("content") or ""
    parse = (payload.get("allowed_mentions") or {"parse": ["everyone", "users", "roles"]}).get("parse", [])
    allowed = payload.get("allowed_mentions") or {}
    out = []
    if "everyone" in parse and ("@everyone" in content or "@here" in content):
        out.append("everyone")
    if ("users" in parse or allowed.get("users")) and "<@" in content:
        out.append("users")
    if ("roles" in parse or allowed.get("roles")) and "<@&" in content:
        out.append("roles")
    return out


def choice_errors(choices: list[dict]) -> dict:
    """Validation of autocomplete results: at most 25 choices, names 1-100 characters, values ≤ 100."""
    errors: dict = {}
    if len(choices) > 25:
        _limit(errors, ["data", "choices"], "BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length.")
    for i, c in enumerate(choices):
        if not 1 <= len(c.get("name", "")) <= 100:
            _limit(errors, ["data", "choices", str(i), "name"], "BASE_TYPE_BAD_LENGTH", "Must be 1-100 long.")
        if isinstance(c.get("value"), str) and len(c["value"]) > 100:
            _limit(errors, ["data", "choices", str(i), "value"], "BASE_TYPE_MAX_LENGTH", "Must be ≤ 100 long.")
    return errors


def modal_errors(data: dict) -> dict:
    """Validation of a modal: title ≤ 45, 1-5 components, labels ≤ 45, custom ids ≤ 100."""
    errors: dict = {}
    if not 1 <= len(data.get("title") or "") <= 45:
        _limit(errors, ["data", "title"], "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 45 in length.")
    rows = data.get("components") or []
    if not 1 <= len(rows) <= 5:
        _limit(errors, ["data", "components"], "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 5 in length.")
    for i, item in enumerate(modal_inputs(rows)):
        if len(item.get("label") or "") > 45 or len(item.get("custom_id") or "") > 100:
            _limit(errors, ["data", "components", str(i)], "BASE_TYPE_MAX_LENGTH", "Label or custom_id too long.")
    return errors
