"""The music library: scans folders of audio files into a searchable SQLite index.

Only the names below are public: the web app, the bot and the demo are written against them.
"""

from .index import Library
from .models import Cover, Page, ScanReport, Track
from .scanner import AUDIO_EXTENSIONS, has_audio

__all__ = ["AUDIO_EXTENSIONS", "Cover", "Library", "Page", "ScanReport", "Track", "has_audio"]
