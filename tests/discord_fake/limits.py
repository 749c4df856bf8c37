"""Discord's documented limits on what a bot sends. The real API refuses a body that breaks one
with 400 "Invalid Form Body" (code 50035); the fake does the same, so a bot that would be refused
in production is refused here."""

from __future__ import annotations

import re
from typing import Any

COMMAND_NAME = re.compile(r"^[-_\w]{1,32}$")
ACTION_ROW, BUTTON, STRING_SELECT = 1, 2, 3
LINK_STYLE, PREMIUM_STYLE = 5, 6


def _text(errors: list[str], where: str, value: Any, most: int, *, least: int = 0) -> None:
    if value is None:
        if least:
            errors.append(f"{where}: required")
        return
    if not isinstance(value, str):
        errors.append(f"{where}: must be a string")
    elif not least <= len(value) <= most:
        errors.append(f"{where}: length {len(value)} not within {least}..{most}")


def message_errors(body: Any, *, edit: bool = False) -> list[str]:
    """Problems with a message create/edit body; empty when Discord would accept it."""
    if not isinstance(body, dict):
        return ["body: must be a JSON object"]
    errors: list[str] = []
    _text(errors, "content", body.get("content"), 2000)
    embeds = body.get("embeds") or []
    if len(embeds) > 10:
        errors.append(f"embeds: {len(embeds)} embeds, at most 10")
    total = 0
    for i, embed in enumerate(embeds):
        total += _embed_errors(errors, f"embeds.{i}", embed)
    if total > 6000:
        errors.append(f"embeds: {total} characters in all, at most 6000")
    _components_errors(errors, body.get("components") or [])
    if not edit and not (
        body.get("content") or embeds or body.get("components") or body.get("attachments")
    ):
        errors.append("body: Cannot send an empty message")
    return errors


def _embed_errors(errors: list[str], where: str, embed: dict[str, Any]) -> int:
    total = 0
    for key, most in (("title", 256), ("description", 4096)):
        _text(errors, f"{where}.{key}", embed.get(key), most)
        total += len(embed.get(key) or "")
    fields = embed.get("fields") or []
    if len(fields) > 25:
        errors.append(f"{where}.fields: {len(fields)} fields, at most 25")
    for j, item in enumerate(fields):
        _text(errors, f"{where}.fields.{j}.name", item.get("name"), 256, least=1)
        _text(errors, f"{where}.fields.{j}.value", item.get("value"), 1024, least=1)
        total += len(item.get("name") or "") + len(item.get("value") or "")
    for key, sub, most in (("footer", "text", 2048), ("author", "name", 256)):
        if embed.get(key):
            _text(errors, f"{where}.{key}.{sub}", embed[key].get(sub), most, least=1)
            total += len(embed[key].get(sub) or "")
    for key in ("url",):
        value = embed.get(key)
        if value is not None and not str(value).startswith(("http://", "https://")):
            errors.append(f"{where}.{key}: Not a well formed URL")
    for key in ("thumbnail", "image"):
        url = (embed.get(key) or {}).get("url")
        if url is not None and not str(url).startswith(("http://", "https://", "attachment://")):
            errors.append(f"{where}.{key}.url: Scheme must be one of ('http', 'https')")
    return total


def _components_errors(errors: list[str], rows: list[dict[str, Any]]) -> None:
    if len(rows) > 5:
        errors.append(f"components: {len(rows)} action rows, at most 5")
    custom_ids: set[str] = set()
    for i, row in enumerate(rows):
        if row.get("type") != ACTION_ROW:
            errors.append(f"components.{i}: top-level components must be action rows")
            continue
        children = row.get("components") or []
        if not 1 <= len(children) <= 5:
            errors.append(f"components.{i}: {len(children)} components, must be 1..5")
        for j, item in enumerate(children):
            where = f"components.{i}.components.{j}"
            if item.get("type") == BUTTON:
                _button_errors(errors, where, item)
            custom_id = item.get("custom_id")
            if custom_id is not None:
                _text(errors, f"{where}.custom_id", custom_id, 100, least=1)
                if custom_id in custom_ids:
                    errors.append(f"{where}.custom_id: duplicate custom_id {custom_id!r}")
                custom_ids.add(custom_id)


def _button_errors(errors: list[str], where: str, button: dict[str, Any]) -> None:
    _text(errors, f"{where}.label", button.get("label"), 80)
    if button.get("style") == LINK_STYLE:
        url = button.get("url")
        if not url or not str(url).startswith(("http://", "https://", "discord://")):
            errors.append(f"{where}.url: a link button needs an http(s) url, got {url!r}")
        if "custom_id" in button:
            errors.append(f"{where}: a link button cannot have a custom_id")
    elif button.get("style") != PREMIUM_STYLE and not button.get("custom_id"):
        errors.append(f"{where}.custom_id: required for a non-link button")
    if not button.get("label") and not button.get("emoji"):
        errors.append(f"{where}: a button needs a label or an emoji")


def command_errors(command: Any) -> list[str]:
    """Problems with one application command in a bulk overwrite."""
    if not isinstance(command, dict):
        return ["command: must be a JSON object"]
    errors: list[str] = []
    name = command.get("name")
    kind = command.get("type", 1)
    if kind == 1:
        if not isinstance(name, str) or not COMMAND_NAME.match(name) or name != name.lower():
            errors.append(f"name: {name!r} must match ^[-_a-z0-9]{{1,32}}$")
        _text(errors, f"{name}.description", command.get("description"), 100, least=1)
    else:
        _text(errors, "name", name, 32, least=1)
    _options_errors(errors, str(name), command.get("options") or [])
    return errors


def _options_errors(errors: list[str], where: str, options: list[dict[str, Any]]) -> None:
    if len(options) > 25:
        errors.append(f"{where}.options: {len(options)} options, at most 25")
    seen_optional = False
    names: set[str] = set()
    for option in options:
        name = option.get("name")
        at = f"{where}.{name}"
        if not isinstance(name, str) or not COMMAND_NAME.match(name) or name != name.lower():
            errors.append(f"{at}: option name must match ^[-_a-z0-9]{{1,32}}$")
        if name in names:
            errors.append(f"{at}: duplicate option name")
        names.add(str(name))
        _text(errors, f"{at}.description", option.get("description"), 100, least=1)
        if option.get("type") in (1, 2):  # subcommand (group): its own options
            _options_errors(errors, at, option.get("options") or [])
            continue
        if option.get("required"):
            if seen_optional:
                errors.append(f"{at}: required options must come before optional ones")
        else:
            seen_optional = True
        choices = option.get("choices") or []
        if len(choices) > 25:
            errors.append(f"{at}.choices: {len(choices)} choices, at most 25")
        if choices and option.get("autocomplete"):
            errors.append(f"{at}: autocomplete cannot be used with choices")
        for choice in choices:
            _choice_errors(errors, f"{at}.choices", choice)


def _choice_errors(errors: list[str], where: str, choice: Any) -> None:
    if not isinstance(choice, dict):
        errors.append(f"{where}: a choice must be an object")
        return
    _text(errors, f"{where}.name", choice.get("name"), 100, least=1)
    value = choice.get("value")
    if isinstance(value, str):
        _text(errors, f"{where}.value", value, 100, least=1)


def autocomplete_errors(data: Any) -> list[str]:
    """Problems with an autocomplete result (callback type 8)."""
    if not isinstance(data, dict) or not isinstance(data.get("choices"), list):
        return ["data.choices: required"]
    choices = data["choices"]
    errors: list[str] = []
    if len(choices) > 25:
        errors.append(f"data.choices: {len(choices)} choices, at most 25")
    for choice in choices:
        _choice_errors(errors, "data.choices", choice)
    return errors
