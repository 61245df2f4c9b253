"""TLS on the query port (`--tls-cert`, `--tls-key`), as StarRocks serves it.

StarRocks 3.5 (#54877, branch point e223275f78) loads an SSLContext at start when fe.conf names
`ssl_keystore_location` (`SSLContextLoader.load`); `MysqlProto.negotiate` then advertises `CLIENT_SSL` in the
handshake (`MysqlHandshakePacket(..., supportSSL)`) and switches to TLS on the client's SSL request
(`ConnectContext.enableSSL`). The context is `SSLContext.getInstance("TLSv1.2")` and `SSLChannelImp.init` sets
`setNeedClientAuth(false)`: TLS 1.2 at most and no client certificate asked for. The 3.4 branch point (afccab88fd)
has no `com.starrocks.mysql.ssl` package, so an emulated release older than 3.5 refuses the options.
mysql-mimic does the handshake switch itself (`Connection.connection_phase`, `MysqlStream.start_tls`).
"""

from __future__ import annotations

import asyncio
import ssl
from asyncio import sslproto

from mysql_mimic.stream import MysqlStream

from .versions import release_line


def serves_tls(line: tuple[int, int]) -> bool:
    return line >= (3, 5)


def server_ssl_context(cert: str, key: str, version: str) -> ssl.SSLContext:
    """The query port's TLS context; ValueError for a release line without TLS."""
    line = release_line(version)
    if not serves_tls(line):
        raise ValueError(f"StarRocks {version} has no TLS on the query port (from 3.5): drop --tls-cert/--tls-key.")
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.maximum_version = ssl.TLSVersion.TLSv1_2
    context.verify_mode = ssl.CERT_NONE
    context.load_cert_chain(cert, keyfile=key)
    return context


class TLSStream:
    """mysql-mimic's stream (compiled: not subclassable), whose switch to TLS keeps the ClientHello read ahead.

    A client sends its ClientHello right behind the SSL request packet; when both arrive in one read, the bytes
    after the packet sit in the StreamReader's buffer and `loop.start_tls` never sees them, so the handshake waits
    for its 60 s timeout (PyMySQL then reports "EOF occurred in violation of protocol"). `start_tls` does what
    `loop.start_tls` does and hands the SSL protocol those bytes first; everything else is the wrapped stream's.
    """

    def __init__(self, stream: MysqlStream):
        self._stream = stream

    def __getattr__(self, name: str):
        return getattr(self._stream, name)

    async def start_tls(self, context: ssl.SSLContext) -> None:
        reader, writer = self._stream.reader, self._stream.writer
        pending = bytes(reader._buffer)  # noqa: SLF001 - the read-ahead is only reachable here
        reader._buffer.clear()  # noqa: SLF001
        loop = asyncio.get_running_loop()
        transport = writer.transport
        waiter = loop.create_future()
        protocol = sslproto.SSLProtocol(loop, transport.get_protocol(), context, waiter, server_side=True,
                                        call_connection_made=False)
        transport.pause_reading()
        transport.set_protocol(protocol)

        def begin() -> None:
            protocol.connection_made(transport)
            data = memoryview(pending)
            while data:
                buffer = protocol.get_buffer(len(data))
                size = min(len(buffer), len(data))
                buffer[:size] = data[:size]
                protocol.buffer_updated(size)
                data = data[size:]
            transport.resume_reading()

        loop.call_soon(begin)
        try:
            await waiter
        except BaseException:
            transport.close()
            raise
        tls_transport = protocol._app_transport  # noqa: SLF001 - what loop.start_tls returns
        writer._transport = tls_transport  # noqa: SLF001 - as MysqlStream.start_tls does
        reader._transport = tls_transport  # noqa: SLF001
