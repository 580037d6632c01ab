"""A TCP proxy on 127.0.0.1 that a test can cut, to make a real server unreachable on demand."""

from __future__ import annotations

import asyncio
import contextlib


class CuttableProxy:
    def __init__(self, *, host: str | None = None, port: int | None = None, unix_path: str | None = None) -> None:
        self._target = (host, port, unix_path)
        self._server: asyncio.Server | None = None
        self._pipes: set[asyncio.StreamWriter] = set()
        self.cut = False
        self.port = 0

    async def start(self) -> CuttableProxy:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def stop(self) -> None:
        self.sever()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    def sever(self) -> None:
        """Close every open connection and refuse new ones until `restore()`."""
        self.cut = True
        for writer in list(self._pipes):
            writer.transport.abort()
            writer.close()
        self._pipes.clear()

    def restore(self) -> None:
        self.cut = False

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self.cut:
            writer.transport.abort()
            writer.close()
            return
        host, port, unix_path = self._target
        try:
            if unix_path:
                up_reader, up_writer = await asyncio.open_unix_connection(unix_path)
            else:
                up_reader, up_writer = await asyncio.open_connection(host, port)
        except OSError:
            writer.transport.abort()
            writer.close()
            return
        self._pipes.update((writer, up_writer))
        await asyncio.gather(self._pump(reader, up_writer), self._pump(up_reader, writer))

    async def _pump(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            self._pipes.discard(writer)
            with contextlib.suppress(Exception):
                writer.transport.abort()
                writer.close()
