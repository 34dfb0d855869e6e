"""Which ``next`` targets a sign-in may follow: only paths on this site."""

from __future__ import annotations

import pytest

from referral.security import is_local_url


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example/",
        "//evil.example/",
        "/\\evil.example",
        "javascript:alert(1)",
        "\\\\evil",
        "/\tevil",
        "",
        None,
    ],
)
def test_a_target_off_this_site_is_not_local(target: str | None) -> None:
    assert not is_local_url(target)


@pytest.mark.parametrize("target", ["/admin/", "/admin/campaigns?page=2", "/c/summer#join"])
def test_a_path_on_this_site_is_local(target: str) -> None:
    assert is_local_url(target)
