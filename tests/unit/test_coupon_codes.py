"""Coupon codes as a marketer pastes or uploads them: one code per line."""

from __future__ import annotations

from referral.services.coupons import read_codes


def test_a_csv_header_and_extra_columns_are_ignored_and_lines_are_codes() -> None:
    assert read_codes('code,value\nAAA,10\n\n"B,B",5\n', csv_file=True) == ["AAA", "B,B"]
    assert read_codes("\ufeffAAA\r\n  BBB \r\n\r\n") == ["AAA", "BBB"]
    assert read_codes("Code\nA,B\n") == ["A,B"]  # the textarea is one code per line
