"""A TCP proxy in front of the emulator that refuses or resets connections: real network faults for the
reliability tests."""

from __future__ import annotations

import socket
import threading

from sr_airflow.testing.servers import free_port


class TcpProxy:
    """Forwards 127.0.0.1:<port> to a target port. ``refuse()`` closes the listening socket (connections are
    refused by the kernel), ``drop()`` resets every open connection, ``drop_new = True`` accepts and closes.
    ``dropped`` counts connections reset (a client's connection and its upstream socket are one connection)."""

    def __init__(self, target_port: int):
        self.target_port = target_port
        self.port = free_port()
        self.drop_new = False
        self.accepted = self.dropped = 0
        self._conns: list[tuple[socket.socket, socket.socket]] = []  # open connections: (client, upstream)
        self._lock = threading.Lock()
        self._listener: socket.socket | None = None
        self._stop = threading.Event()
        self._acceptor: threading.Thread | None = None

    def start(self) -> TcpProxy:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        listener.settimeout(0.1)
        self._listener = listener
        self._stop.clear()
        self._acceptor = threading.Thread(target=self._accept, args=(listener,), daemon=True)
        self._acceptor.start()
        return self

    def _accept(self, listener: socket.socket) -> None:
        while not self._stop.is_set():
            try:
                client, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.accepted += 1
            if self.drop_new:
                self.dropped += 1
                reset_connection(client)
                continue
            try:
                upstream = socket.create_connection(("127.0.0.1", self.target_port), timeout=5)
            except OSError:
                reset_connection(client)
                continue
            pair = (client, upstream)
            with self._lock:
                self._conns.append(pair)
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b, pair), daemon=True).start()

    def _pipe(self, src: socket.socket, dst: socket.socket, pair: tuple[socket.socket, socket.socket]) -> None:
        _pipe(src, dst)
        with self._lock:  # closed: no longer open, so no longer one that drop() resets
            if pair in self._conns:
                self._conns.remove(pair)

    def refuse(self) -> None:
        """Stop listening: new connections are refused (ECONNREFUSED), open ones are reset."""
        self._stop.set()
        if self._listener is not None:
            self._listener.close()
            self._listener = None
        self.drop()
        if self._acceptor is not None:  # its accept() times out every 0.1 s and sees the stop
            self._acceptor.join(timeout=5)
            self._acceptor = None

    def drop(self) -> None:
        with self._lock:
            conns, self._conns = self._conns, []
        for pair in conns:
            self.dropped += 1
            for sock in pair:
                reset_connection(sock)

    def stop(self) -> None:
        self.refuse()


def reset_connection(sock: socket.socket) -> None:
    """Close with SO_LINGER 0: the peer gets a TCP reset, not an orderly end. A pipe thread blocked in ``recv`` on
    the socket holds it open (``close`` alone then neither resets nor wakes it, and the peer waits forever):
    ``shutdown(SHUT_RD)`` wakes it first."""
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        sock.shutdown(socket.SHUT_RD)
    except OSError:
        pass
    try:
        sock.close()
    except OSError:
        pass


def _pipe(src: socket.socket, dst: socket.socket) -> None:
    try:
        while True:
            data = src.recv(65536)
            if not data:
                break
            dst.sendall(data)
    except OSError:
        pass
    finally:
        for sock in (src, dst):
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

