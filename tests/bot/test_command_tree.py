"""The command tree as Discord receives it, checked against Discord's documented limits, and every
autocomplete run through real AUTOCOMPLETE interactions against a library with long titles."""

from __future__ import annotations

import re
from typing import Any

import pytest
from bot_harness import LONG_TITLES, BotFactory, Harness
from discord_http import ANA, option, slash

NAME = re.compile(r"^[-_a-z0-9]{1,32}$")
SUBCOMMAND, GROUP = 1, 2
ISSUE_COMMANDS = {
    "play", "pause", "resume", "seek", "skip", "previous", "stop", "queue", "remove", "move",
    "shuffle", "repeat", "clear", "rooms", "listen", "dj", "policy",
}  # fmt: skip


def check_command(cmd: dict[str, Any], where: str) -> list[str]:
    problems = []
    if not NAME.fullmatch(cmd["name"]):
        problems.append(f"{where}: name {cmd['name']!r}")
    description = cmd.get("description", "")
    if cmd.get("type", 1) == 1 and not 1 <= len(description) <= 100:
        problems.append(f"{where}: description of {len(description)} characters")
    options = cmd.get("options", [])
    if len(options) > 25:
        problems.append(f"{where}: {len(options)} options")
    required = [bool(o.get("required")) for o in options]
    if required != sorted(required, reverse=True):
        problems.append(f"{where}: an optional option before a required one")
    for opt in options:
        inner = f"{where} {opt['name']}"
        if opt["type"] in (SUBCOMMAND, GROUP):
            problems += check_command(opt, inner)
            continue
        if not NAME.fullmatch(opt["name"]):
            problems.append(f"{inner}: option name")
        if not 1 <= len(opt.get("description", "")) <= 100:
            problems.append(f"{inner}: option description")
        choices = opt.get("choices", [])
        if len(choices) > 25:
            problems.append(f"{inner}: {len(choices)} choices")
        if choices and opt.get("autocomplete"):
            problems.append(f"{inner}: choices and autocomplete together")
        for choice in choices:
            if not 1 <= len(choice["name"]) <= 100 or len(str(choice["value"])) > 100:
                problems.append(f"{inner}: choice {choice['name']!r}")
    return problems


async def test_every_command_fits_discords_limits(harness: Harness) -> None:
    tree = harness.bot.tree
    payload = [cmd.to_dict(tree) for cmd in tree.get_commands()]
    names = {cmd["name"] for cmd in payload}
    assert names >= ISSUE_COMMANDS
    assert len(payload) <= 100  # global chat-input commands per application
    problems = [p for cmd in payload for p in check_command(cmd, "/" + cmd["name"])]
    assert problems == []
    # What sync sends is the same set.
    assert {c["name"] for c in harness.bot.command_payload()} == names


async def test_settings_commands_are_hidden_from_members_without_manage_server(
    harness: Harness,
) -> None:
    payload = {c["name"]: c for c in harness.bot.command_payload()}
    manage_guild = 1 << 5
    assert payload["dj"]["default_member_permissions"] == manage_guild
    assert payload["policy"]["default_member_permissions"] == manage_guild
    assert payload["play"]["default_member_permissions"] is None


def choices_of(calls: list[Any]) -> list[dict[str, Any]]:
    (call,) = calls
    assert call.path.endswith("/callback")
    assert call.json["type"] == 8  # APPLICATION_COMMAND_AUTOCOMPLETE_RESULT
    return list(call.json["data"]["choices"])


def valid_choices(choices: list[dict[str, Any]]) -> None:
    assert len(choices) <= 25
    for choice in choices:
        assert 1 <= len(choice["name"]) <= 100, choice
        assert 1 <= len(str(choice["value"])) <= 100, choice


@pytest.mark.parametrize("typed", ["", "marathon", "MARATHON 1", "long winding", "ω", '"', "*"])
async def test_play_autocomplete_offers_at_most_25_valid_choices(
    harness: Harness, typed: str
) -> None:
    calls = await harness.run(
        slash("play", option("query", typed, focused=True), autocomplete=True)
    )
    choices = choices_of(calls)
    valid_choices(choices)
    if typed.lower().startswith("marathon"):
        assert choices, "the long titles match"
        assert len(choices) == min(25, LONG_TITLES if typed == "marathon" else 10)  # 10-19
        for choice in choices:
            track = harness.library.get(choice["value"])
            assert track is not None
            assert choice["name"].startswith(track.title[:40])


async def test_play_autocomplete_finds_by_artist_and_album(harness: Harness) -> None:
    demo = harness.tracks()[0]
    for words in (demo.artist, demo.album):
        if not words:
            continue
        calls = await harness.run(
            slash("play", option("query", words, focused=True), autocomplete=True)
        )
        assert demo.id in {c["value"] for c in choices_of(calls)}


async def test_queue_entry_autocomplete_numbers_upcoming_tracks(start_bot: BotFactory) -> None:
    harness = await start_bot(discord_rate_limit="1000/second")
    for track in harness.tracks()[:28]:
        await harness.run(slash("play", option("query", track.id)))
    for command in ("remove", "move"):
        calls = await harness.run(
            slash(command, option("track", "", focused=True), member=ANA, autocomplete=True)
        )
        choices = choices_of(calls)
        valid_choices(choices)
        assert len(choices) == 25
        assert [c["value"] for c in choices[:3]] == ["1", "2", "3"]
        assert "added by Ana" in choices[0]["name"]
