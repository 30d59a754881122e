"""The production worker's transport sends each response in one write."""

import asyncio
import socket

import pytest

from platform_core.runtime.server import CoalescingTransport, HttpProtocol, Worker


async def connected_pair() -> tuple[CoalescingTransport, socket.socket]:
    """A coalescing transport over a real socket, and the socket's peer."""
    ours, peer = socket.socketpair()
    loop = asyncio.get_running_loop()
    transport, _ = await loop.create_connection(asyncio.Protocol, sock=ours)
    peer.setblocking(False)
    return CoalescingTransport(transport, loop), peer


def received(peer: socket.socket) -> bytes:
    try:
        return peer.recv(1 << 16)
    except BlockingIOError:
        return b""


@pytest.mark.asyncio
async def test_a_head_and_its_body_leave_in_one_write():
    transport, peer = await connected_pair()
    transport.write(b"HTTP/1.1 200 OK\r\n\r\n")
    assert received(peer) == b""  # held until the body
    transport.write(b"{}")
    assert received(peer) == b"HTTP/1.1 200 OK\r\n\r\n{}"
    transport.close()


@pytest.mark.asyncio
async def test_a_lone_write_leaves_at_the_end_of_the_turn():
    transport, peer = await connected_pair()
    transport.write(b"head of a stream")
    await asyncio.sleep(0)
    assert received(peer) == b"head of a stream"
    transport.write(b"chunk")
    transport.write(b"")  # nothing to send: the chunk still leaves this turn
    await asyncio.sleep(0)
    assert received(peer) == b"chunk"
    transport.close()


@pytest.mark.asyncio
async def test_closing_sends_what_is_held():
    transport, peer = await connected_pair()
    transport.write(b"last words")
    transport.close()
    await asyncio.sleep(0)
    assert received(peer) == b"last words"


def test_the_worker_runs_uvicorn_with_the_coalescing_protocol():
    assert Worker.CONFIG_KWARGS["http"] is HttpProtocol
