"""The one exception the emulator raises for a statement that StarRocks would refuse, and the error codes it carries.

How StarRocks picks a reply's code (read at 3.3 `1a2f1f5d75`, 3.5 `e223275f78`, the same at 3.4 and 4.0):
`MysqlErrPacket(QueryState)` sends `ERROR 1064 (HY000)` unless the session's `QueryState` holds an `ErrorCode`, and
then that code and its SQL state. Only `ErrorReport.reportCommon` (behind `reportDdlException`,
`reportSemanticException`, `reportAnalysisException`, `reportUserException`) and `ErrorReportException.report`
(behind `AccessDeniedException.reportAccessDenied`) set one (`ctx.getState().setErrorCode`); `QueryState.setError`,
which `StmtExecutor.execute` / `ConnectProcessor.handleQuery` call with the exception's message, leaves it, and
only `QueryState.reset` (once per statement) clears it. So an error carries its `ErrorCode` exactly when it was
raised through `ErrorReport`; a `new SemanticException(..)`, a `new DdlException(..)` or a parser error is 1064.
A `SemanticException`'s text is `Getting analyzing error[ <position>]. Detail message: <detail>.`
(`SemanticException.getMessage`), whichever code it carries.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ErrorCode:
    """One `com.starrocks.common.ErrorCode` entry: the number and SQL state a reply carries."""

    name: str
    code: int
    sql_state: str


# MysqlErrPacket's defaults (`errorCode = 1064`, `sqlState = "HY000"`): no ErrorCode on the QueryState.
NO_ERROR_CODE = ErrorCode("MysqlErrPacket default", 1064, "HY000")
# common/ErrorCode.java entries the emulator's errors are reported with (identical at the 3.3, 3.4, 3.5 and 4.0
# branch points).
ERR_DB_CREATE_EXISTS = ErrorCode("ERR_DB_CREATE_EXISTS", 1007, "HY000")
ERR_DB_DROP_EXISTS = ErrorCode("ERR_DB_DROP_EXISTS", 1008, "HY000")
ERR_NO_DB_ERROR = ErrorCode("ERR_NO_DB_ERROR", 1046, "3D000")
ERR_TABLE_EXISTS_ERROR = ErrorCode("ERR_TABLE_EXISTS_ERROR", 1050, "42S01")
ERR_WRONG_TABLE_NAME = ErrorCode("ERR_WRONG_TABLE_NAME", 1104, "42000")
ERR_SAME_NAME_PARTITION = ErrorCode("ERR_SAME_NAME_PARTITION", 1517, "HY000")
ERR_COMMON_ERROR = ErrorCode("ERR_COMMON_ERROR", 5064, "42000")
# ERR_COLOCATE_TABLE_MUST_HAS_SAME_BUCKET_NUM / _DISTRIBUTION_COLUMN_SIZE (one number and state for both)
ERR_COLOCATE_TABLE = ErrorCode("ERR_COLOCATE_TABLE_MUST_HAS_SAME_BUCKET_NUM", 5063, "42000")
ERR_ACCESS_DENIED = ErrorCode("ERR_ACCESS_DENIED", 5203, "42000")
ERR_BAD_DB_ERROR = ErrorCode("ERR_BAD_DB_ERROR", 5501, "3F000")
ERR_BAD_TABLE_ERROR = ErrorCode("ERR_BAD_TABLE_ERROR", 5502, "42602")
ERR_NOT_OLAP_TABLE = ErrorCode("ERR_NOT_OLAP_TABLE", 5503, "42000")

ERROR_CODES = {e.code: e for e in (NO_ERROR_CODE, ERR_DB_CREATE_EXISTS, ERR_DB_DROP_EXISTS, ERR_NO_DB_ERROR,
                                   ERR_TABLE_EXISTS_ERROR, ERR_WRONG_TABLE_NAME, ERR_SAME_NAME_PARTITION,
                                   ERR_COMMON_ERROR, ERR_ACCESS_DENIED, ERR_BAD_DB_ERROR, ERR_BAD_TABLE_ERROR,
                                   ERR_NOT_OLAP_TABLE)}

# Kept for the modules that name codes by number.
PARSE_ERROR = NO_ERROR_CODE.code
ACCESS_DENIED = ERR_ACCESS_DENIED.code


class EmulatorError(Exception):
    """A statement error sent to the client as `ERROR <code> (<sql state>): <message>`.

    `code` is an `ErrorCode` (or its number, one of ERROR_CODES); the default is MysqlErrPacket's 1064 (HY000).
    """

    def __init__(self, message: str, code: ErrorCode | int = NO_ERROR_CODE):
        super().__init__(message)
        self.message = message
        entry = code if isinstance(code, ErrorCode) else ERROR_CODES.get(code, ErrorCode("", code, "HY000"))
        self.code = entry.code
        self.sql_state = entry.sql_state


def analyzing_error(detail: str, code: ErrorCode = NO_ERROR_CODE, position: str = "") -> EmulatorError:
    """A `SemanticException`'s reply: `Getting analyzing error[ <position>]. Detail message: <detail>.`, with the code
    of `ErrorReport.reportSemanticException` when `code` is given, else 1064. `position` is the node's, for the
    exceptions built with one (`statements.node_position`)."""
    where = f" {position}" if position else ""
    return EmulatorError(f"Getting analyzing error{where}. Detail message: {detail}.", code)


def ddl_error(message: str, code: ErrorCode = ERR_COMMON_ERROR) -> EmulatorError:
    """`ErrorReport.reportDdlException(code, message)`'s reply: the bare message with the code (ERR_COMMON_ERROR's
    format is "%s")."""
    return EmulatorError(message, code)
