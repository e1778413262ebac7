"""Tables to files and back: CSV through a fast writer, Parquet through pyarrow.

The CSV writer gives the same bytes as ``DataFrame.to_csv(index=False,
float_format="%.4f", lineterminator="\\n")`` (floats with four decimals, an empty cell for
NaN, ``True``/``False``, a value quoted only when it holds a comma, a quote or a line
break), but formats whole columns at once with pyarrow instead of one Python call per
value: a baseline year's tables are written several times faster. A float whose fifth
decimal sits on a rounding tie (or that is too large for exact integer arithmetic) is
formatted by Python's ``%`` itself, so every value prints as ``%.4f`` would print it.

Reading back restores the dtypes the table had (kept in the manifest as ``dtypes``), so
a table loads the same from CSV or Parquet.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from silkroute_sim.outputs.guard import atomic_write

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd
    import pyarrow as pa

#: decimals of every float in a CSV (the format ``%.4f``)
DECIMALS = 4
FLOAT_FORMAT = f"%.{DECIMALS}f"
#: table formats for the per-shipment and per-event tables
FORMATS = ("csv", "parquet")
#: beyond this magnitude a float is formatted by Python (exact integer arithmetic ends)
_EXACT_LIMIT = 1e10
#: a value this close to a rounding tie (in units of the last decimal) goes to Python
_TIE_MARGIN = 1e-4
_NEEDS_QUOTES = r'[,"\n\r]'


def suffix(fmt: str) -> str:
    """The file suffix of a table format (``.csv`` or ``.parquet``)."""
    return f".{fmt}"


def dtype_names(df: pd.DataFrame) -> dict[str, str]:
    """Each column's dtype by name (``float64``, ``int64``, ``bool``, ``str``), for the
    manifest: what a CSV is parsed back into. A text column with no missing value is
    ``str!``: CSV writes an empty string and a missing value alike (an empty cell), and
    the ``!`` says which it was."""
    import pandas as pd

    default_text = str(pd.Series(["a"]).dtype)  # ``str`` from pandas 3, ``object`` before
    names = {}
    for column, dtype in df.dtypes.items():
        name = str(dtype)
        if name == "object" and pd.api.types.infer_dtype(df[column]) == "string":
            name = default_text  # a text column kept as Python strings: what it reads as
        text = pd.api.types.is_string_dtype(dtype) or pd.api.types.is_object_dtype(dtype)
        if text and not df[column].isna().any():
            name += "!"
        names[str(column)] = name
    return names


# --------------------------------------------------------------------------- CSV


def _csv_cell(text: str) -> str:
    """A value as pandas' minimal quoting writes it."""
    if any(ch in text for ch in ',"\n\r'):
        return '"' + text.replace('"', '""') + '"'
    return text


def _float_column(values: np.ndarray) -> pa.Array:
    """Floats as ``%.4f`` strings (null for NaN), by integer arithmetic where it is exact."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    x = np.asarray(values, dtype=float)
    finite = np.isfinite(x)
    scaled = np.abs(np.where(finite, x, 0.0)) * 10**DECIMALS
    rest = scaled - np.floor(scaled)
    slow = ~finite | (scaled >= _EXACT_LIMIT * 10**DECIMALS) | (np.abs(rest - 0.5) < _TIE_MARGIN)
    units = np.floor(np.where(slow, 0.0, scaled) + 0.5).astype(np.int64)
    whole = pc.cast(pa.array(units // 10**DECIMALS), pa.string())
    frac = pc.utf8_lpad(pc.cast(pa.array(units % 10**DECIMALS), pa.string()), DECIMALS, "0")
    sign = pc.if_else(pa.array(np.signbit(x)), "-", "")
    text = pc.binary_join_element_wise(sign, whole, ".", frac, "")
    if slow.any():
        index = np.flatnonzero(slow)
        fixed = [
            None if math.isnan(v) else FLOAT_FORMAT % v for v in x[index].tolist()
        ]  # NaN is an empty cell; inf prints as pandas prints it
        items = text.to_pylist()
        for i, value in zip(index.tolist(), fixed, strict=True):
            items[i] = value
        text = pa.array(items, type=pa.string())
    return text


def _text_column(series: pd.Series) -> pa.Array:
    """Strings (null for a missing value), quoted where pandas would quote them."""
    import pyarrow as pa
    import pyarrow.compute as pc

    arr = pa.array(series, type=pa.string(), from_pandas=True)
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    if pc.any(pc.match_substring_regex(arr, _NEEDS_QUOTES)).as_py():
        arr = pa.array([None if v is None else _csv_cell(v) for v in arr.to_pylist()], pa.string())
    return arr


def _columnar(series: pd.Series) -> bool:
    """A column the fast writer formats as pandas would: bool, float, int64 or text."""
    import pandas as pd

    dtype = series.dtype
    if pd.api.types.is_bool_dtype(dtype) and not series.isna().any():
        return True
    if isinstance(dtype, pd.api.extensions.ExtensionDtype) and not pd.api.types.is_string_dtype(
        dtype
    ):
        return False  # nullable ints and the like: pandas' own formatting
    if pd.api.types.is_float_dtype(dtype) or pd.api.types.is_integer_dtype(dtype):
        return True
    if pd.api.types.is_string_dtype(dtype) or pd.api.types.is_object_dtype(dtype):
        return pd.api.types.infer_dtype(series, skipna=True) in ("string", "empty")
    return False


def _column_text(series: pd.Series) -> pa.Array:
    import pandas as pd
    import pyarrow as pa
    import pyarrow.compute as pc

    dtype = series.dtype
    if pd.api.types.is_bool_dtype(dtype):
        return pc.if_else(pa.array(series.to_numpy(dtype=bool)), "True", "False")
    if pd.api.types.is_float_dtype(dtype):
        return _float_column(series.to_numpy(dtype=float))
    if pd.api.types.is_integer_dtype(dtype):
        return pc.cast(pa.array(series.to_numpy()), pa.string())
    return _text_column(series)


#: rows formatted at a time: a long run's tables are written in pieces of this many rows,
#: so the text of only one piece is in memory at once (a 10-year shipments table is
#: about 150 MB of CSV)
CHUNK_ROWS = 50_000


def csv_bytes(df: pd.DataFrame) -> bytes:
    """``df`` as CSV bytes, the same bytes as ``df.to_csv(index=False,
    float_format="%.4f", lineterminator="\\n")``."""
    return b"".join(csv_chunks(df))


def csv_chunks(df: pd.DataFrame, rows: int = CHUNK_ROWS) -> Iterator[bytes]:
    """:func:`csv_bytes` in pieces: the header and the first ``rows`` rows, then the next
    ``rows`` rows, and so on (the same bytes end to end)."""
    simple = all(_columnar(df.iloc[:, i]) for i in range(df.shape[1]))
    if len(df) == 0 or not simple:  # nothing to gain, or a column pandas formats its way
        text = df.to_csv(index=False, float_format=FLOAT_FORMAT, lineterminator="\n")
        yield text.encode()
        return
    header = ",".join(_csv_cell(str(c)) for c in df.columns) + "\n"
    yield header.encode()
    for start in range(0, len(df), rows):
        yield _rows_text(df.iloc[start : start + rows])


def _rows_text(df: pd.DataFrame) -> bytes:
    """The CSV lines of ``df``'s rows (no header), each column formatted at once."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    columns = [_column_text(df.iloc[:, i]) for i in range(df.shape[1])]
    lines = pc.binary_join_element_wise(*columns, ",", null_handling="replace", null_replacement="")
    lines = pc.binary_join_element_wise(lines, "", "\n")  # the row and its line end
    joined = lines.combine_chunks() if isinstance(lines, pa.ChunkedArray) else lines
    # the rows end to end are the string data between the first and the last offset
    _, offset_buffer, data = joined.buffers()
    offsets = np.frombuffer(offset_buffer, dtype=np.int32)
    start, stop = offsets[joined.offset], offsets[joined.offset + len(joined)]
    return bytes(memoryview(data)[int(start) : int(stop)])


def write_csv_file(df: pd.DataFrame, path: Path) -> None:
    """``df`` as a CSV at ``path``, written atomically (see :func:`csv_bytes`), a piece of
    rows at a time (:func:`csv_chunks`)."""
    atomic_write(path, lambda fh: _write_chunks(fh, csv_chunks(df)))


def _write_chunks(fh: IO[str], chunks: Iterator[bytes]) -> None:
    fh.flush()
    for data in chunks:
        fh.buffer.write(data)  # type: ignore[attr-defined]


# --------------------------------------------------------------------------- Parquet


def default_text_types(df: pd.DataFrame) -> pd.DataFrame:
    """``df`` with its ``object`` columns (the analysis keeps long text columns as Python
    strings) in the type pandas gives such values by default (``str`` from pandas 3), so
    that a Parquet file's schema does not depend on how the frame was built."""
    import pandas as pd

    texts = [c for c in df.columns if df[c].dtype == object]
    if not texts:
        return df
    return df.assign(**{c: pd.Series(df[c].to_numpy(), index=df.index) for c in texts})


def write_parquet_file(df: pd.DataFrame, path: Path) -> None:
    """``df`` as a Parquet file (zstd) at ``path``, written atomically; types kept."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.Table.from_pandas(default_text_types(df), preserve_index=False)
    atomic_write(
        path,
        lambda fh: (fh.flush(), pq.write_table(table, fh.buffer, compression="zstd")),  # type: ignore[attr-defined]
    )


def write_table(df: pd.DataFrame, path: Path) -> None:
    """``df`` at ``path`` in the format its suffix names (``.csv`` or ``.parquet``)."""
    if Path(path).suffix == ".parquet":
        write_parquet_file(df, path)
    else:
        write_csv_file(df, path)


def floats_as_in_csv(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with its float columns as its CSV file reads back (:data:`FLOAT_FORMAT`):
    a Parquet table read as its CSV twin would be, so what is drawn from either is the
    same."""
    import io

    import pandas as pd

    floats = list(frame.select_dtypes("float").columns)
    if floats:
        frame[floats] = pd.read_csv(io.BytesIO(csv_bytes(frame[floats])))
    return frame


def read_table(path: Path, dtypes: dict[str, str] | None = None) -> pd.DataFrame:
    """A table written by :func:`write_table`, with the dtypes it was written with
    (``dtypes``, from the manifest; CSV without them: pandas' own guess)."""
    import pandas as pd

    path = Path(path)
    if path.suffix == ".parquet":
        import pyarrow.parquet as pq

        frame = pq.read_table(path).to_pandas()
    else:
        frame = pd.read_csv(path, keep_default_na=False, na_values=[""], dtype=_csv_dtypes(dtypes))
    if dtypes:
        frame = _restore(frame, dtypes)
    return frame


def _csv_dtypes(dtypes: dict[str, str] | None) -> dict[str, Any] | None:
    if not dtypes:
        return None
    out: dict[str, Any] = {}
    for column, name in dtypes.items():
        name = name.rstrip("!")
        if name in ("str", "object", "string"):
            out[column] = "str" if name == "str" else object
        elif name.startswith(("int", "uint", "float")):
            out[column] = name
    return out


def _restore(frame: pd.DataFrame, dtypes: dict[str, str]) -> pd.DataFrame:
    """Columns back in the dtypes they were written with (bools from ``True``/``False``,
    an empty string column read as all-missing)."""
    for column, written in dtypes.items():
        name = written.rstrip("!")
        if column not in frame.columns:
            continue
        if written.endswith("!") and frame[column].isna().any():  # empty strings, not missing
            frame[column] = frame[column].fillna("")
        if str(frame[column].dtype) == name:
            continue
        if name == "bool":
            frame[column] = frame[column].astype(str).map({"True": True, "False": False})
        frame[column] = frame[column].astype(name)  # type: ignore[call-overload]
    return frame
