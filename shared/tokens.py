"""Signed tokens (itsdangerous, keyed by SECRET_KEY): a listener's identity across reconnects, and
invites to private rooms. Both are opaque to clients and cannot be forged without the key.

In `shared` because the web server checks the invites that both it and the Discord bot hand out.
"""

from __future__ import annotations

import secrets
from urllib.parse import quote

from itsdangerous import BadSignature, URLSafeSerializer

SESSION_SALT = "lockstep.session"
INVITE_SALT = "lockstep.invite"


class Tokens:
    def __init__(self, secret: str) -> None:
        self._sessions = URLSafeSerializer(secret, salt=SESSION_SALT)
        self._invites = URLSafeSerializer(secret, salt=INVITE_SALT)

    # -- identity ----------------------------------------------------------------------------
    @staticmethod
    def new_user_id() -> str:
        return "web:" + secrets.token_urlsafe(12)

    def session(self, user_id: str) -> str:
        """A token that lets a reconnecting client prove it is `user_id` again."""
        return str(self._sessions.dumps({"u": user_id}))

    def user_of(self, token: object) -> str | None:
        """The user id a session token was issued for, or None if it is not one of ours."""
        data = self._load(self._sessions, token)
        user = data.get("u") if data else None
        return user if isinstance(user, str) and user.startswith("web:") else None

    # -- invites -----------------------------------------------------------------------------
    def invite(self, room_id: str) -> str:
        return str(self._invites.dumps({"r": room_id}))

    def invites_to(self, token: object, room_id: str) -> bool:
        data = self._load(self._invites, token)
        return data is not None and data.get("r") == room_id

    @staticmethod
    def _load(serializer: URLSafeSerializer, token: object) -> dict[str, object] | None:
        if not isinstance(token, str) or not token or len(token) > 512:
            return None
        try:
            data = serializer.loads(token)
        except BadSignature:
            return None
        return data if isinstance(data, dict) else None


def player_url(base_url: str, room_id: str, invite: str | None = None) -> str:
    """The web player's link for a room (`base_url` is PUBLIC_URL without a trailing slash), with
    the invite token a private room needs."""
    url = f"{base_url}/r/{quote(room_id)}"
    return f"{url}?invite={invite}" if invite else url
