"""A fake Discord on 127.0.0.1 that the real, unmodified discord.py client connects to.

Modules by job:
- `state`: what Discord knows (guilds with roles, channels, threads and members; messages; commands), one model
  that the gateway, the REST routes and the tests all read;
- `gateway`: the websocket (HELLO, IDENTIFY → READY and GUILD_CREATE, heartbeats, dispatching events);
- `rest` and `interactions`: the REST routes the bot uses (messages and threads; interaction callbacks and webhooks);
- `rules`: Discord's rules (3 s acknowledgement, content and embed limits, edit rate, no pings), each breach
  answered as Discord would answer it and recorded in `violations`, which the bot tests assert is empty;
- `payloads`: Discord's JSON shapes;
- `server`: `FakeDiscord`, which starts it all and is what tests drive (slash commands, autocomplete, modals,
  buttons and menus, messages, more guilds, `wait_for`), and the `FakeInteraction` record of what the bot
  answered to each interaction.
"""

from .payloads import FakeFile, FakeUser
from .rules import Rules
from .server import FakeDiscord, FakeInteraction, FakeServer

__all__ = ["FakeDiscord", "FakeFile", "FakeInteraction", "FakeServer", "FakeUser", "Rules"]
