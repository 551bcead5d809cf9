"""The default transport against real sockets on 127.0.0.1: answers pass through unchanged, and every failure
is mapped to the httpx exception that says whether the request left (money safety depends on it)."""

from __future__ import annotations

import asyncio
import gzip
import json
import socket
from collections.abc import AsyncIterator, Awaitable, Callable

import httpx
import pytest

from goldenchain.errors import SubmissionUncertain
from goldenchain.providers.http import classify, make_client, send_create
from goldenchain.providers.testing import RecordingSleep
from goldenchain.providers.transport import AiohttpTransport

Handler = Callable[[bytes, asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


class Server:
    """A bare HTTP/1.1 server: records each request's head and body, then runs ``handler``."""

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.requests: list[tuple[bytes, bytes]] = []
        self.port = 0

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n"):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":", 1)[1])
                body = await reader.readexactly(length) if length else b""
                self.requests.append((head, body))
                await self.handler(head, reader, writer)
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    async def __aenter__(self) -> Server:
        self._srv = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self._srv.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._srv.close()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def answer(status: int, body: bytes, *headers: str) -> bytes:
    head = [f"HTTP/1.1 {status} X", f"Content-Length: {len(body)}", *headers]
    return ("\r\n".join(head) + "\r\n\r\n").encode() + body


async def echo(head: bytes, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    writer.write(answer(200, json.dumps({"ok": True}).encode(), "Content-Type: application/json"))
    await writer.drain()


@pytest.fixture
async def client_for() -> AsyncIterator[Callable[..., httpx.AsyncClient]]:
    made: list[httpx.AsyncClient] = []

    def make(url: str, **kw: object) -> httpx.AsyncClient:
        c = make_client(url, **kw)  # type: ignore[arg-type]
        made.append(c)
        return c

    yield make
    for c in made:
        await c.aclose()


def test_make_client_uses_it_by_default() -> None:
    c = make_client("http://127.0.0.1:1")
    assert isinstance(c._transport, AiohttpTransport)


async def test_answers_pass_through(client_for: Callable[..., httpx.AsyncClient]) -> None:
    async def handler(head: bytes, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if head.startswith(b"GET /old"):
            writer.write(answer(302, b"", "Location: /new"))
        elif head.startswith(b"GET /gz"):
            writer.write(answer(200, gzip.compress(b"x" * 1000), "Content-Encoding: gzip"))
        else:
            writer.write(
                answer(201, b'{"task_id": "t1"}', "Content-Type: application/json", "X-A: 1", "X-A: 2")
            )
        await writer.drain()

    async with Server(handler) as srv:
        c = client_for(srv.url)
        r = await c.post("/create", json={"prompt": "p"}, headers={"Authorization": "Bearer k"})
        assert r.status_code == 201 and r.json() == {"task_id": "t1"}
        assert r.headers.get_list("x-a") == ["1", "2"]
        head, body = srv.requests[-1]
        assert json.loads(body) == {"prompt": "p"}
        assert b"authorization: bearer k" in head.lower() and head.lower().count(b"content-length") == 1
        r = await c.get("/old")  # httpx follows the redirect, the transport does not
        assert r.status_code == 201 and str(r.url).endswith("/new")
        assert (await c.get("/gz")).content == b"x" * 1000  # httpx decodes
        files = {"file": ("a.png", b"\x89PNG" + bytes(5000), "image/png")}
        r = await c.post("/upload", files=files)  # a streamed body goes out whole, with its length
        assert r.status_code == 201 and b"\x89PNG" + bytes(5000) in srv.requests[-1][1]


async def test_refused_connection_means_nothing_was_sent(
    client_for: Callable[..., httpx.AsyncClient],
) -> None:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    with pytest.raises(httpx.ConnectError) as ei:
        await client_for(f"http://127.0.0.1:{port}").get("/x")
    assert classify(ei.value) == "connect_error" and ei.value.__cause__ is None


async def test_a_dropped_answer_means_sent_no_answer(client_for: Callable[..., httpx.AsyncClient]) -> None:
    async def drop(head: bytes, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.transport.abort()  # the request arrived; the connection dies without an answer
        raise ConnectionError

    async with Server(drop) as srv:
        c = client_for(srv.url)
        with pytest.raises(httpx.TransportError) as ei:
            await c.post("/create", json={})
        assert classify(ei.value) == "sent_no_answer"
        sleeps = RecordingSleep()
        with pytest.raises(SubmissionUncertain):  # a paid create is never resent after that
            await send_create(c, c.build_request("POST", "/create", json={}), provider="p", sleep=sleeps)
        assert len(srv.requests) == 2 and sleeps.delays == []


async def test_a_late_answer_is_a_read_timeout(client_for: Callable[..., httpx.AsyncClient]) -> None:
    answered = asyncio.Event()  # the server answers only after the client has given up

    async def stall(head: bytes, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await answered.wait()

    async with Server(stall) as srv:
        c = client_for(srv.url, timeout=httpx.Timeout(connect=2.0, read=0.2, write=2.0, pool=2.0))
        with pytest.raises(httpx.ReadTimeout) as ei:
            await c.post("/create", json={})
        answered.set()
        assert classify(ei.value) == "sent_no_answer" and len(srv.requests) == 1


async def test_a_cut_body_is_a_read_error() -> None:
    async def cut(head: bytes, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n" + b"x" * 10)
        await writer.drain()
        writer.transport.abort()
        raise ConnectionError

    async with Server(cut) as srv, make_client(srv.url) as c:
        with pytest.raises(httpx.TransportError) as ei:
            await c.get("/file")
        assert classify(ei.value) == "sent_no_answer"


async def test_waiting_for_a_pooled_connection_sends_nothing() -> None:
    arrived, release = asyncio.Event(), asyncio.Event()

    async def hold(head: bytes, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        arrived.set()
        await release.wait()
        await echo(head, reader, writer)

    async with Server(hold) as srv:
        timeout = httpx.Timeout(connect=2.0, read=5.0, write=2.0, pool=0.2)
        transport = AiohttpTransport(httpx.Limits(max_connections=1))
        async with httpx.AsyncClient(base_url=srv.url, timeout=timeout, transport=transport) as c:
            first = asyncio.create_task(c.get("/slow"))
            await asyncio.wait_for(arrived.wait(), 30)  # the only connection is taken by the first request
            with pytest.raises(httpx.ConnectTimeout) as ei:
                await c.post("/create", json={})
            assert classify(ei.value) == "connect_error" and len(srv.requests) == 1
            release.set()
            assert (await first).status_code == 200
