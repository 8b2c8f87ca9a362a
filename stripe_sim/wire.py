"""Transport-neutral request and response values passed between the server and the app."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit


@dataclass
class Request:
    method: str
    target: str  # path plus query string, as sent
    headers: dict[str, str]  # lower-cased names
    body: bytes = b""

    @property
    def path(self) -> str:
        return urlsplit(self.target).path

    @property
    def query(self) -> str:
        return urlsplit(self.target).query

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())

    @property
    def base_url(self) -> str:
        """The origin the client used to reach us, so links we hand out work for it."""
        return f"http://{self.header('host') or 'localhost'}"


@dataclass
class Response:
    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    request_id: str | None = None

    @classmethod
    def json(cls, status: int, data: Any, **headers: str) -> Response:
        body = (json.dumps(data, indent=2) + "\n").encode()
        return cls(status, body, {"Content-Type": "application/json", **headers})

    @classmethod
    def html(cls, status: int, text: str) -> Response:
        return cls(status, text.encode(), {"Content-Type": "text/html; charset=utf-8"})
