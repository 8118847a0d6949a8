"""The app's web server: Solara behind a check that requests come from the app's own pages.

A page of another site open in the analyst's browser could otherwise drive
the app on 127.0.0.1 (browsers let any page open a websocket to any address)
or reach it through a name that resolves to 127.0.0.1 (DNS rebinding). So
every request and websocket is refused (HTTP 403) when

* it carries an ``Origin`` that is not the address it was sent to, or
* the server listens on a loopback address and the request's ``Host`` is not
  a loopback name.

``collabsim ui`` runs ``python -m collabsim.app.server run collabsim.app ...``:
the arguments are ``solara run``'s, and Solara's app object is wrapped before
its server starts.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import urlsplit

__all__ = ["OriginGuard", "main"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
ASGIApp = Callable[
    [Scope, Callable[[], Awaitable[Message]], Callable[[Message], Awaitable[None]]],
    Awaitable[None],
]
LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})


def _host_name(host: str) -> str:
    """The name part of a ``Host`` header value (``[::1]:8765`` -> ``::1``)."""
    return urlsplit(f"//{host}").hostname or ""


class OriginGuard:
    """ASGI middleware: refuse requests from other sites' pages (see the module docstring).

    Args:
        app: the ASGI application to guard.
        loopback_only: whether the server listens on a loopback address only.
    """

    def __init__(self, app: ASGIApp, loopback_only: bool) -> None:
        """Wrap ``app``."""
        self.app = app
        self.loopback_only = loopback_only

    def allowed(self, headers: dict[str, str]) -> bool:
        """Whether a request with these (lower-case) headers may reach the app."""
        host = headers.get("host", "")
        if self.loopback_only and _host_name(host) not in LOOPBACK:
            return False
        origin = headers.get("origin")
        if origin is None:  # not sent by a page's script (a navigation, a command-line client)
            return True
        return urlsplit(origin).netloc == host

    async def __call__(
        self,
        scope: Scope,
        receive: Callable[[], Awaitable[Message]],
        send: Callable[[Message], Awaitable[None]],
    ) -> None:
        """Pass the request on, or refuse it with 403."""
        if scope["type"] in ("http", "websocket"):
            headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
            if not self.allowed(headers):
                if scope["type"] == "websocket":
                    await send({"type": "websocket.close", "code": 1008})  # answered with 403
                else:
                    body = b"refused: this request did not come from the app's own page\n"
                    await send(
                        {
                            "type": "http.response.start",
                            "status": 403,
                            "headers": [(b"content-type", b"text/plain; charset=utf-8")],
                        }
                    )
                    await send({"type": "http.response.body", "body": body})
                return
        await self.app(scope, receive, send)


def main(argv: list[str]) -> None:
    """Start ``solara run`` with ``argv``, its app wrapped in an :class:`OriginGuard`."""
    # solara registers its app when its server module is imported: name it first
    os.environ["SOLARA_APP"] = argv[argv.index("run") + 1]
    import solara.server.starlette as solara_server
    from solara.__main__ import main as solara_main

    host = argv[argv.index("--host") + 1] if "--host" in argv else "localhost"
    solara_server.app = OriginGuard(solara_server.app, host in LOOPBACK)
    sys.argv = ["solara", *argv]
    solara_main()


if __name__ == "__main__":
    main(sys.argv[1:])
