"""mysql-mimic's connection, with the header packets of a result set built once per column list.

Encoding SHOW BACKUP's 14 column definitions cost more than its rows: with many clients polling it every 100 ms it
was a large part of the frontend's time. The bytes sent are the same as mysql-mimic's.
"""

from __future__ import annotations

from mysql_mimic import packets
from mysql_mimic.connection import Connection
from mysql_mimic.results import ResultSet

_MAX_ROWS = 10_000  # mysql-mimic writes larger results in batches: those go through its own code
_MAX_CACHED = 512


class HeaderCachingConnection(Connection):
    _headers: dict[tuple, list[bytes]] = {}

    def _header(self, result_set: ResultSet) -> list[bytes]:
        columns = result_set.columns
        charset = self.server_charset
        key = (charset, self.capabilities, self.status_flags,
               tuple((c.name, c.type, c.character_set) for c in columns))
        header = self._headers.get(key)
        if header is None:
            header = [packets.make_column_count(capabilities=self.capabilities, column_count=len(columns))]
            header += [packets.make_column_definition_41(server_charset=charset, name=c.name, column_type=c.type,
                                                         character_set=c.character_set) for c in columns]
            if not self.deprecate_eof():
                header.append(self.eof())
            if len(self._headers) >= _MAX_CACHED:
                self._headers.clear()
            self._headers[key] = header
        return header

    async def write_text_resultset(self, result_set: ResultSet) -> None:
        rows = result_set.rows
        if not isinstance(rows, (list, tuple)) or len(rows) > _MAX_ROWS:
            await super().write_text_resultset(result_set)
            return
        self.stream.write_many(self._header(result_set))
        if rows:
            self.stream.write_text_rows(rows, result_set.columns)
        await self.stream.write(self.ok_or_eof(affected_rows=len(rows)), drain=False)
        await self.stream.drain()
