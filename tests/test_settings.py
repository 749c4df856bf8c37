"""Configuration: good values load, bad ones stop start-up with one clear line and no traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from shared.settings import Settings, SettingsError, load_settings

ROOT = Path(__file__).resolve().parents[1]


def start(env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run the real entry point the way a user would, with only the given variables set."""
    base = {k: v for k, v in os.environ.items() if not k.isupper() or k in {"PATH", "HOME"}}
    return subprocess.run(
        [sys.executable, "-m", "lockstep"],
        cwd=cwd,
        env={**base, "PYTHONPATH": str(ROOT), **env},
        capture_output=True,
        text=True,
        timeout=30,
    )


@pytest.mark.parametrize(
    ("variable", "value", "complaint"),
    [
        ("PORT", "70000", "less than or equal to 65535"),
        ("PORT", "eighty", "valid integer"),
        ("LOG_LEVEL", "chatty", "'DEBUG', 'INFO', 'WARNING' or 'ERROR'"),
        ("MUSIC_DIR", "/no/such/folder", "does not exist"),
        ("CORS_ORIGINS", "https://ok.example, ftp://bad", "is not an origin"),
        ("PUBLIC_URL", "not a url", "URL"),
        ("ROOM_CONTROL", "anarchy", "'everyone' or 'djs'"),
        ("ROOM_EMPTY_GRACE", "-5", "greater than or equal to 0"),
        ("HTTP_RATE_LIMIT", "lots", "is not a rate limit like"),
        ("CONNECT_RATE_LIMIT", "5 per fortnight", "is not a rate limit like"),
        ("WS_PER_MESSAGE_DEFLATE", "maybe", "valid boolean"),
        ("RECONNECT_GRACE", "-1", "greater than or equal to 0"),
    ],
)
def test_a_bad_value_stops_start_up_with_one_clear_line(
    tmp_path: Path, variable: str, value: str, complaint: str
) -> None:
    (tmp_path / "music").mkdir()
    result = start({variable: value}, tmp_path)

    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"lockstep: configuration error: {variable}: ")
    assert complaint in lines[0]
    assert "Traceback" not in result.stderr


def test_every_problem_is_named_at_once(tmp_path: Path) -> None:
    result = start({"PORT": "0", "LOG_LEVEL": "loud", "MUSIC_DIR": "/missing"}, tmp_path)
    assert result.returncode == 2
    named = sorted(line.split(": ")[2] for line in result.stderr.strip().splitlines())
    assert named == ["LOG_LEVEL", "MUSIC_DIR", "PORT"]


def test_secrets_are_never_echoed(tmp_path: Path) -> None:
    (tmp_path / "music").mkdir()
    result = start({"DISCORD_TOKEN": "x" * 10, "DISCORD_GUILD_ID": "-1"}, tmp_path)
    assert result.returncode == 2
    assert "xxxxxxxxxx" not in result.stderr
    assert "DISCORD_GUILD_ID" in result.stderr


def test_the_example_env_file_is_valid_and_documents_every_setting(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    example = (ROOT / ".env.example").read_text()
    monkeypatch.chdir(tmp_path)
    (tmp_path / "music").mkdir()
    (tmp_path / ".env").write_text(example)
    settings = Settings()
    assert settings.port == 8000
    assert settings.public_url is not None
    assert settings.base_url == "http://localhost:8000"
    documented = {
        line.split("=")[0] for line in example.splitlines() if "=" in line and line[0] != "#"
    }
    assert documented == {name.upper() for name in Settings.model_fields}


def test_values_are_normalised(tmp_path: Path) -> None:
    settings = load_settings(
        music_dir=tmp_path,
        data_dir=tmp_path / "data",
        log_level="debug",
        cors_origins="https://a.example/, http://localhost:5173",
        public_url="https://party.example.org/",
    )
    assert settings.log_level == "DEBUG"
    assert settings.cors_origins == ["https://a.example", "http://localhost:5173"]
    assert settings.base_url == "https://party.example.org"
    assert (tmp_path / "data").is_dir()


def test_secret_key_is_generated_once_and_kept_private(tmp_path: Path) -> None:
    settings = load_settings(music_dir=tmp_path, data_dir=tmp_path / "data")
    first = settings.secret()
    assert len(first) >= 32
    assert load_settings(music_dir=tmp_path, data_dir=tmp_path / "data").secret() == first
    assert (tmp_path / "data" / "secret_key").stat().st_mode & 0o077 == 0
    explicit = load_settings(music_dir=tmp_path, data_dir=tmp_path / "d2", secret_key="s3cret")
    assert explicit.secret() == "s3cret"


def test_load_settings_raises_one_line_per_problem(tmp_path: Path) -> None:
    with pytest.raises(SettingsError) as error:
        load_settings(music_dir=tmp_path, data_dir=tmp_path, port=-1, room_max_queue=0)
    assert [line.split(":")[0] for line in error.value.lines] == ["PORT", "ROOM_MAX_QUEUE"]
