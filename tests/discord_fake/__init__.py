"""A small fake of Discord's gateway and REST API on loopback, for running the real discord.py
client against: the only part of the bot's world that cannot run here."""

from .gateway import Frame
from .interactions import Interaction
from .payloads import World
from .records import Request
from .server import TOKEN, FakeDiscord, message_text

__all__ = ["TOKEN", "FakeDiscord", "Frame", "Interaction", "Request", "World", "message_text"]
