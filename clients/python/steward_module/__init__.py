"""Client of Steward's module API (crates/proto/proto/module.proto).

A long-running service registers with the Steward of its node (the control center's module
socket, or stewardd's), reports its usage every interval, and follows Steward's directives,
acknowledging each. Payloads are the JSON shapes of docs/modules.md (steward-core's
``registration`` types).

``Client`` makes one call per RPC; ``Module`` keeps a registration up on a background thread:
it reconnects with backoff, registers again, sends the latest report every interval and hands
each directive to your callback once.
"""

from __future__ import annotations

import json
import threading
from typing import Callable, Iterator, Optional

import grpc

from steward_module._proto import module_pb2, module_pb2_grpc

__all__ = ["Client", "Module", "NotRegistered", "StewardError", "applied", "refused"]


class StewardError(Exception):
    """Steward refused a call; ``code`` is the gRPC status code."""

    def __init__(self, code: grpc.StatusCode, message: str):
        super().__init__(f"{code.name}: {message}")
        self.code = code


class NotRegistered(StewardError):
    """Steward does not know the module (it or its agent restarted): register again."""


def applied() -> dict:
    return {"outcome": "applied"}


def refused(reason: str) -> dict:
    return {"outcome": "refused", "reason": reason}


def _raise(e: grpc.RpcError) -> None:
    code, message = e.code(), e.details() or ""
    if code == grpc.StatusCode.NOT_FOUND:
        raise NotRegistered(code, message) from None
    raise StewardError(code, message) from None


class Client:
    """One call per RPC. Give ``socket`` (a Unix socket path) or ``address`` (``host:port`` of a
    plain-text agent on loopback), and the token (the control center's access token or the
    agent's)."""

    def __init__(self, *, token: str, socket: Optional[str] = None, address: Optional[str] = None):
        if (socket is None) == (address is None):
            raise ValueError("give exactly one of socket= or address=")
        target = f"unix://{socket}" if socket is not None else address
        # gRPC C-core would send the socket path as :authority, which Steward's HTTP/2 server
        # (hyper) rejects as malformed; any valid host name will do.
        options = [("grpc.default_authority", "localhost")] if socket is not None else []
        self._channel = grpc.insecure_channel(target, options=options)
        self._stub = module_pb2_grpc.ModuleServiceStub(self._channel)
        self._metadata = (("authorization", f"Bearer {token}"),)

    def _call(self, rpc, request, timeout: float = 10.0):
        try:
            return rpc(request, metadata=self._metadata, timeout=timeout)
        except grpc.RpcError as e:
            _raise(e)

    def register(self, registration: dict) -> str:
        """Registers (again); returns the node it is registered on."""
        req = module_pb2.RegisterRequest(registration_json=json.dumps(registration).encode())
        return self._call(self._stub.Register, req).node

    def report(self, module: str, report: dict) -> None:
        self._call(self._stub.Report, module_pb2.ReportRequest(module=module, report_json=json.dumps(report).encode()))

    def watch_directives(self, module: str) -> Iterator[dict]:
        """Directives (``{"id", "directive", "reason"}``): unacknowledged ones first, then new
        ones, until the stream ends (deregistered) or fails (``StewardError``)."""
        stream = self._stub.WatchDirectives(module_pb2.WatchDirectivesRequest(module=module), metadata=self._metadata)
        try:
            for message in stream:
                yield json.loads(message.order_json)
        except grpc.RpcError as e:
            if e.code() != grpc.StatusCode.CANCELLED:
                _raise(e)

    def ack(self, module: str, directive_id: int, ack: dict) -> None:
        req = module_pb2.AckRequest(module=module, directive_id=directive_id, ack_json=json.dumps(ack).encode())
        self._call(self._stub.Ack, req)

    def deregister(self, module: str) -> None:
        self._call(self._stub.Deregister, module_pb2.DeregisterRequest(module=module))

    def close(self) -> None:
        self._channel.close()


class Module:
    """A registration kept up on a background thread.

    ``on_directive(order)`` is called once per directive (in the stream's thread) and returns
    the ack: ``applied()`` or ``refused("why")``. ``report(dict)`` sets the report sent from the
    next interval on. ``stop()`` deregisters and ends the thread.
    """

    MIN_BACKOFF, MAX_BACKOFF = 0.1, 5.0

    def __init__(self, connect: Callable[[], Client], registration: dict, on_directive: Callable[[dict], dict]):
        self._connect, self._registration, self._on_directive = connect, registration, on_directive
        self._name = registration["name"]
        self._interval = registration["report_interval_ms"] / 1000.0
        self._report: Optional[dict] = None
        self._last_directive = 0
        self._stop = threading.Event()
        self.node: Optional[str] = None
        self.registered = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"steward-module-{self._name}", daemon=True)

    def start(self) -> "Module":
        self._thread.start()
        return self

    def report(self, report: dict) -> None:
        self._report = report

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        self._thread.join(timeout)

    def _run(self) -> None:
        backoff = self.MIN_BACKOFF
        while not self._stop.is_set():
            client = self._connect()
            try:
                self._session(client)
                backoff = self.MIN_BACKOFF
            except StewardError:
                self.registered.clear()
                self._stop.wait(backoff)
                backoff = min(backoff * 2, self.MAX_BACKOFF)
            finally:
                client.close()

    def _session(self, client: Client) -> None:
        self.node = client.register(self._registration)
        failed = threading.Event()
        watcher = threading.Thread(target=self._follow, args=(client, failed), daemon=True)
        watcher.start()
        self.registered.set()
        while not self._stop.wait(self._interval):
            if failed.is_set():
                raise StewardError(grpc.StatusCode.UNAVAILABLE, "the directive stream broke")
            if self._report is not None:
                client.report(self._name, self._report)
        client.deregister(self._name)
        self.registered.clear()

    def _follow(self, client: Client, failed: threading.Event) -> None:
        try:
            for order in client.watch_directives(self._name):
                if order["id"] > self._last_directive:  # a reconnect may repeat one
                    self._last_directive = order["id"]
                    client.ack(self._name, order["id"], self._on_directive(order))
        except StewardError:
            pass
        failed.set()
