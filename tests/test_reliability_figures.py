"""The script that regenerates docs/reliability.md's figures from a run's RELIABILITY lines."""

from __future__ import annotations

import pytest

from tests.support.reliability_figures import BEGIN, END, read_figures, rewrite, summary_line, table

LOG = """tests/reliability/test_x.py ....
-------------------- reliability figures --------------------
RELIABILITY item9 faults injected=46
RELIABILITY item10 later item=1
RELIABILITY item4 runs refused clearly (on_busy='fail')=1
item9 faults injected: 999
==================== 12 passed, 1 warning in 61.20s (0:01:01) ====================
"""


def test_the_counters_are_read_from_the_reliability_lines_only():
    assert read_figures(LOG) == {"item9 faults injected": 46, "item10 later item": 1,
                                 "item4 runs refused clearly (on_busy='fail')": 1}
    assert summary_line(LOG) == "12 passed, 1 warning in 61.20s (0:01:01)"


def test_the_table_is_ordered_by_item_and_replaces_only_the_marked_block():
    block = table(read_figures(LOG), "2026-12-07, make", summary_line(LOG))
    rows = [line for line in block.splitlines() if line.startswith("| ") and line[2].isdigit()]
    assert rows == ["| 4 | runs refused clearly (on_busy='fail') | 1 |", "| 9 | faults injected | 46 |",
                    "| 10 | later item | 1 |"]
    doc = f"intro\n{BEGIN}\nold\n{END}\nafter\n"
    assert rewrite(doc, block) == f"intro\n{block}\nafter\n"
    with pytest.raises(ValueError, match="has no <!-- figures:begin -->"):
        rewrite("no markers", block)
