"""The CSV writer every export uses: formula-like text is neutralised, our own numbers are not."""

import csv
import datetime as dt
import io
import re
from decimal import Decimal
from pathlib import Path

import pytest

from leadrouting.csv_export import STREAM_ROWS_PER_PIECE, UTF8_BOM, csv_stream, csv_writer

ROOT = Path(__file__).resolve().parent.parent


def written(*rows):
    buffer = io.StringIO()
    csv_writer(buffer).writerows(rows)
    return list(csv.reader(io.StringIO(buffer.getvalue())))


@pytest.mark.parametrize("typed", ['=HYPERLINK("http://x","y")', "+SUM(1)", "@cmd", "-2+3", "\t=1+1", "\r=1+1", "-5"])
def test_text_starting_like_a_formula_is_written_with_a_leading_apostrophe(typed):
    assert written([typed]) == [["'" + typed]]


def test_numbers_we_write_ourselves_stay_numbers_and_plain_text_is_unchanged():
    assert written([-3, 2.5, Decimal("-1.50"), 0, None, "Jürgen Müß", "a=b", "", "O'Brien"]) == [
        ["-3", "2.5", "-1.50", "0", "", "Jürgen Müß", "a=b", "", "O'Brien"]]


def test_each_row_can_be_streamed_as_the_write_returns_it():
    class Echo:
        def write(self, value):
            return value

    writer = csv_writer(Echo())
    chunks = [writer.writerow(row) for row in (["When", "Lead"], [dt.date(2026, 3, 2), "=1+1"])]
    assert chunks == ["When,Lead\r\n", "2026-03-02,'=1+1\r\n"]


def test_a_stream_in_pieces_of_rows_is_the_whole_file_with_its_byte_order_mark():
    rows = [[number, f"=lead {number}"] for number in range(2 * STREAM_ROWS_PER_PIECE + 1)]
    buffer = io.StringIO()
    csv_writer(buffer).writerows(rows)

    pieces = list(csv_stream(rows))

    assert pieces[0] == UTF8_BOM
    assert len(pieces) == 1 + 3  # the BOM, two full pieces and the last row; never the file in one piece
    assert "".join(pieces) == UTF8_BOM + buffer.getvalue()


def test_no_code_writes_csv_but_through_the_neutralising_writer():
    writers = re.compile(r"\bcsv\.(writer|DictWriter)\(")
    offenders = [
        str(path.relative_to(ROOT)) for app in ("leadrouting", "leads", "reps", "routing", "bench")
        for path in (ROOT / app).rglob("*.py") if path.name != "csv_export.py" and writers.search(path.read_text())
    ]
    assert offenders == []
