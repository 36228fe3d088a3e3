"""Settings come from the environment only when asked, and every key is documented."""

from dataclasses import fields
from pathlib import Path

import pytest

from bot.settings import DiscordSettings
from bot.settings import env_key as discord_key
from index import Settings
from index.settings import env_key

ROOT = Path(__file__).resolve().parent.parent


def test_every_setting_is_documented_in_env_example():
    documented = {
        line.split("=", 1)[0].strip()
        for line in (ROOT / ".env.example").read_text().splitlines()
        if "=" in line and not line.lstrip().startswith("#")
    }
    keys = {env_key(f.name) for f in fields(Settings)} | {discord_key(f.name) for f in fields(DiscordSettings)}
    assert keys - documented == set()
    assert documented - keys == set()


def test_env_example_values_parse_to_the_defaults():
    from dotenv import dotenv_values

    values = {k: v for k, v in dotenv_values(ROOT / ".env.example").items() if v}
    assert Settings.from_env(values) == Settings()
    assert DiscordSettings.from_env(values) == DiscordSettings()


def test_values_are_converted():
    s = Settings.from_env(
        {
            "NEWSDESK_DATA_DIR": "/tmp/x",
            "CHROMA_HOST": "db",
            "CHROMA_PORT": "9000",
            "NEWSDESK_FETCH_ALLOW_PRIVATE": "yes",
            "LLM_TIMEOUT": "2.5",
        }
    )
    assert s.data_dir == Path("/tmp/x") and s.chroma_is_server and s.chroma_port == 9000
    assert s.fetch_allow_private is True and s.llm_timeout == 2.5
    assert not s.llm_enabled
    assert DiscordSettings.from_env({"DISCORD_GUILD_ID": "42", "DISCORD_TOKEN": "t"}).guild_id == 42


def test_bad_number_is_a_clear_error():
    with pytest.raises(ValueError, match="CHROMA_PORT"):
        Settings.from_env({"CHROMA_PORT": "eighty"})


@pytest.mark.parametrize(
    "env, key",
    [
        ({"NEWSDESK_CHUNK_OVERLAP": "300"}, "NEWSDESK_CHUNK_OVERLAP"),
        ({"NEWSDESK_CHUNK_SIZE": "100", "NEWSDESK_CHUNK_OVERLAP": "100"}, "NEWSDESK_CHUNK_OVERLAP"),
        ({"NEWSDESK_TOP_K": "0"}, "NEWSDESK_TOP_K"),
        ({"NEWSDESK_FETCH_TIMEOUT": "0"}, "NEWSDESK_FETCH_TIMEOUT"),
        ({"CHROMA_PORT": "70000"}, "CHROMA_PORT"),
    ],
)
def test_values_that_cannot_work_are_refused_with_their_key(env, key):
    with pytest.raises(ValueError, match=key):
        Settings.from_env(env)
