"""The bot's settings: defaults, and a bad rate limit named in the start-up error."""

from __future__ import annotations

from pathlib import Path

import pytest

from shared.settings import SettingsError, load_settings


def test_defaults_and_the_bots_database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # no .env from the developer's checkout
    for name in ("DISCORD_PRIVATE_ROOMS", "DISCORD_RATE_LIMIT"):
        monkeypatch.delenv(name, raising=False)
    settings = load_settings(music_dir=tmp_path, data_dir=tmp_path / "data")
    assert settings.discord_private_rooms is False
    assert settings.discord_rate_limit == "5/5 seconds;60/minute"
    assert settings.discord_db == tmp_path / "data" / "discord.db"


def test_a_bad_rate_limit_is_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DISCORD_RATE_LIMIT", "often")
    with pytest.raises(SettingsError) as caught:
        load_settings(music_dir=tmp_path, data_dir=tmp_path / "data")
    assert caught.value.lines == [
        "DISCORD_RATE_LIMIT: 'often' is not a rate limit like '100/second;3000/minute' "
        "(got 'often')"
    ]
