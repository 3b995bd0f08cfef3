"""The test-digit picker every page shares: an index a student can read as a digit.

"Test digit # 7" reads as "the digit 7" to a class, yet #7 is a 9. So every picker names both (`#7 · a 9`),
and a student can also pick by the digit itself: choosing "9" jumps to the next 9 in the test set, and
"Next 9" steps through them. The index stays the one value kept (in session state and in links)."""
from __future__ import annotations

import numpy as np
import streamlit as st

from ui import models


def _labels() -> np.ndarray:
    return models.test_digits()[1]


def next_of(labels: np.ndarray, index: int, digit: int) -> int:
    """The first test digit of class `digit` after `index`, going round to the start; `index` itself when it
    is the only one."""
    where = np.flatnonzero(labels == digit)
    if not len(where):
        return int(index)
    after = where[where > index]
    return int(after[0] if len(after) else where[0])


def named(t, index: int, labels: np.ndarray | None = None) -> str:
    """`#7 · a 9` (in the page's language): a test digit's index and what it is."""
    labels = _labels() if labels is None else labels
    return t("pick.named", index=int(index), label=int(labels[int(index)]))


def _jump(key: str):
    labels = _labels()
    st.session_state[key] = next_of(labels, int(st.session_state[key]), int(st.session_state[f"{key}_digit"]))


def _step(key: str):
    labels = _labels()
    index = int(st.session_state[key])
    st.session_state[key] = next_of(labels, index, int(labels[index]))


def test_digit(t, label: str, key: str, where=None, show_name: bool = True) -> int:
    """The picker, drawn in `where` (the page by default): the index (session state `key`), the digit it is
    (a select that jumps to the next test digit of another class) and a "next of this digit" button.
    Returns the index. `show_name` adds the `#7 · a 9` line under it (off where the page names it already)."""
    where = st if where is None else where
    ss = st.session_state
    labels = _labels()
    ss.setdefault(key, 0)
    index = int(np.clip(int(ss[key]), 0, len(labels) - 1))
    ss[f"{key}_digit"] = int(labels[index])  # the select follows the index, however the index was set
    c1, c2, c3 = where.columns([1.3, 1, 1.1], vertical_alignment="bottom")
    index = int(c1.number_input(label, 0, len(labels) - 1, key=key))
    c2.selectbox(t("pick.digit"), range(10), key=f"{key}_digit", on_change=_jump, args=(key,),
                 help=t("pick.digit_help"))
    c3.button(t("pick.next", label=int(labels[index])), key=f"{key}_next", on_click=_step, args=(key,),
              icon=":material/skip_next:", width="stretch")
    if show_name:
        where.markdown(f"**{named(t, index, labels)}**")
    return index
