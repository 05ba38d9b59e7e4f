"""Run the app with uvicorn: in the foreground for the CLI, or in a thread for tests and benchmarks.

Binding is loopback by default; any other address must come with an API
key, because the server answers whatever it is asked (that is its purpose
in red-teaming) and a model's system prompt may hold a secret.
"""

from __future__ import annotations

import ipaddress
import socket
import threading
import time
from typing import Any, Optional

from rigorlab.errors import UserError

LOOPBACK_NAMES = ("localhost",)


def is_loopback(host: str) -> bool:
    """True for 127.0.0.0/8, ::1 and 'localhost'."""
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_bind(host: str, api_key: Optional[str]) -> None:
    """Refuse a non-loopback address without an API key (one sentence, exit 2)."""
    if not is_loopback(host) and not api_key:
        raise UserError(f"--host {host} is not a loopback address: binding it requires an API key "
                        "(--api-key-env VAR, with the key in that environment variable)")


class ThreadedServer:
    """uvicorn on a socket bound here (port 0 picks a free port), served from a daemon thread."""

    def __init__(self, app: Any, host: str = "127.0.0.1", port: int = 0, api_key: Optional[str] = None) -> None:
        import uvicorn

        check_bind(host, api_key)
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.sock = socket.socket(family, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((host, port))
        self.host, self.port = host, self.sock.getsockname()[1]
        self.server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False, lifespan="on"))
        self._thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True)

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}/v1"

    def start(self, timeout_s: float = 30.0) -> "ThreadedServer":
        self._thread.start()
        deadline = time.monotonic() + timeout_s
        while not self.server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("the server did not start")
            time.sleep(0.01)
        return self

    def wait(self) -> None:
        """Block until the server stops (a KeyboardInterrupt reaches the caller)."""
        while self._thread.is_alive():
            self._thread.join(timeout=0.5)

    def stop(self) -> None:
        self.server.should_exit = True
        self._thread.join(timeout=30)
        self.sock.close()

    def __enter__(self) -> "ThreadedServer":
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()


__all__ = ["ThreadedServer", "check_bind", "is_loopback"]
