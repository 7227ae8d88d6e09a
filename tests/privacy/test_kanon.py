"""The k rule on small tables one can check by hand."""

from __future__ import annotations

import ibis
import pytest

from shoplens.errors import InputError
from shoplens.privacy import check_k, people, share_of_released, suppress_small_cells


def cells() -> ibis.Table:
    return ibis.memtable(
        {"page": ["a", "b", "c", "d", "e"], "people": [1, 5, 9, 10, 30], "spend": [10.0, 20.0, 30.0, 40.0, 60.0]}
    )


def test_rows_below_k_are_held_back_and_counted() -> None:
    split = suppress_small_cells(cells(), k=10)
    assert sorted(split.released.page.to_list()) == ["d", "e"]
    assert split.counts() == (3, 1 + 5 + 9)
    split = suppress_small_cells(cells(), k=2)
    assert sorted(split.released.page.to_list()) == ["b", "c", "d", "e"]
    assert split.counts() == (1, 1)


def test_nothing_held_back_counts_zero() -> None:
    assert suppress_small_cells(cells(), k=2).released.count().execute() == 4
    assert suppress_small_cells(cells().filter(lambda t: t.people >= 10), k=10).counts() == (0, 0)


@pytest.mark.parametrize("k", [1, 0, -3, True])
def test_k_below_two_is_refused(k: int) -> None:
    with pytest.raises(InputError, match=r"^k must be at least 2 \(with k="):
        check_k(k)
    with pytest.raises(InputError, match="k must be at least 2"):
        suppress_small_cells(cells(), k=k)


def test_a_known_customer_counts_once_and_each_guest_session_once() -> None:
    sessions = ibis.memtable({"customer_key": ["c_1", "c_1", "c_2", None, None, None]})
    assert people(sessions.customer_key).execute() == 2 + 3


def test_shares_come_from_released_rows_only() -> None:
    released = suppress_small_cells(cells(), k=10).released
    shares = released.mutate(share=share_of_released(released.spend)).order_by("page")
    assert shares.share.to_list() == [pytest.approx(0.4), pytest.approx(0.6)]  # 40 / (40 + 60), not / 160
