"""A TCP proxy in front of a server, to take the server away from the bot and bring it back: ``down()``
closes every connection through it and refuses new ones, as a server stopped or out of reach does."""

from __future__ import annotations

import asyncio
import contextlib

from tests.helpers.ports import free_port


class TcpProxy:
    """Forwards connections to 127.0.0.1:``port`` on to ``host``:``target``."""

    def __init__(self, host: str, target: int) -> None:
        self.host, self.target = host, target
        self.port = free_port()
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()

    async def up(self) -> None:
        """Take connections (again)."""
        self._server = await asyncio.start_server(self._forward, "127.0.0.1", self.port)

    async def down(self) -> None:
        """Refuse new connections and cut the open ones."""
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
        for writer in list(self._writers):
            writer.close()

    async def _forward(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            server_reader, server_writer = await asyncio.open_connection(self.host, self.target)
        except OSError:
            writer.close()
            return
        self._writers |= {writer, server_writer}
        try:
            await asyncio.gather(self._pipe(reader, server_writer), self._pipe(server_reader, writer))
        finally:
            self._writers -= {writer, server_writer}

    @staticmethod
    async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError, OSError):
            while data := await reader.read(65_536):
                writer.write(data)
                await writer.drain()
        writer.close()
