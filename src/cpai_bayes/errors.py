"""The one error type that the CLI turns into a one-line message and exit code 2."""

from __future__ import annotations


class InputError(ValueError):
    """Bad user input: a spec or data file that cannot be used as it is.

    The message names the file and, where known, the column and the data row (counted from 1; the
    header is line 1 of the file, so data row ``r`` is line ``r + 1``), so that the CLI can print it
    on one line without a traceback.
    """

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        column: str | None = None,
        row: int | None = None,
    ) -> None:
        self.file = file
        self.column = column
        self.row = row
        self.detail = message
        where = []
        if file is not None:
            where.append(str(file))
        if column is not None:
            where.append(f"column '{column}'")
        if row is not None:
            where.append(f"row {row} (line {row + 1})")
        super().__init__(f"{': '.join([', '.join(where), message]) if where else message}")
