"""MapiHttpDisabled: compare mode against the simulator, and the (read-only) registry switch."""

from __future__ import annotations

import sys
import types

import pytest

from mapiprobe.session.autodiscover import DiscoveryOptions
from mapiprobe.session.mapihttp_disabled import (
    REGISTRY_KEY,
    REGISTRY_VALUE,
    _read_winreg,
    compare,
    registry_setting,
)
from mapiprobe.simulator import Simulator

from .simhelp import assert_no_credentials_in_clear, connection


def _compare(sim: Simulator):  # type: ignore[no-untyped-def]
    user = sim.users[0]
    result = compare(
        user.email,
        user=user.user,
        password=user.password,
        connection=connection(sim),
        options=DiscoveryOptions(candidate_timeout=2),
    )
    assert_no_credentials_in_clear(sim)
    return result


def test_compare_normal_server_honours_the_header(sim: Simulator) -> None:
    cmp = _compare(sim)
    assert cmp.with_header.protocol == "mapiHttp"
    assert cmp.without_header.protocol == "rpcHttp"
    fields = {d.field: d for d in cmp.differences}
    assert (
        fields["mapi_http.version"].with_header == "1" and fields["mapi_http.version"].without_header is None
    )
    assert fields["protocol"].with_header == "mapiHttp" and fields["protocol"].without_header == "rpcHttp"
    assert "rpc_http.types" in fields
    assert [f.code for f in cmp.findings] == ["mapihttp-capability-honoured"]
    posts = [r for r in sim.requests if r.method == "POST" and r.host.startswith("autodiscover.")]
    assert {r.header("X-MapiHttpCapability") for r in posts} == {"1", None}


def test_compare_server_ignoring_the_header(sim: Simulator) -> None:
    sim.set_scenario("ignores-header")
    cmp = _compare(sim)
    codes = [f.code for f in cmp.findings]
    assert "server-ignores-mapihttp-capability" in codes
    assert "mapi_http.version" not in {d.field for d in cmp.differences}
    # The emulated run itself also reports it, and does not use the block.
    assert cmp.without_header.protocol == "rpcHttp"
    assert [f.code for f in cmp.without_header.findings] == ["server-ignores-mapihttp-capability"]


def test_compare_server_with_mapihttp_off(sim: Simulator) -> None:
    sim.set_scenario("mapihttp-disabled")
    cmp = _compare(sim)
    assert cmp.with_header.ok and cmp.with_header.protocol == "rpcHttp"
    assert [f.code for f in cmp.findings] == ["mapihttp-not-offered"]
    assert not [d for d in cmp.differences if d.field.startswith("mapi_http")]


def test_compare_asks_consent_once(sim: Simulator) -> None:
    sim.set_scenario("redirect-url")
    user = sim.users[0]
    asked: list[str] = []

    def consent(request: object) -> bool:
        asked.append(getattr(request, "host", ""))
        return True

    cmp = compare(
        user.email,
        user=user.user,
        password=user.password,
        connection=connection(sim),
        options=DiscoveryOptions(candidate_timeout=2),
        consent=consent,  # type: ignore[arg-type]
    )
    assert cmp.with_header.ok and cmp.without_header.ok
    assert asked == [f"mail.{sim.domain}"]


# -- registry -------------------------------------------------------------------------------------------


@pytest.mark.skipif(sys.platform == "win32", reason="the non-Windows answer")
def test_registry_elsewhere_says_not_windows() -> None:
    setting = registry_setting()
    assert not setting.available and setting.value is None
    assert "not Windows" in setting.message


class _Key:
    def __enter__(self) -> _Key:
        return self

    def __exit__(self, *exc: object) -> None:
        pass


def _fake_winreg(
    values: dict[str, tuple[object, int]] | None, *, error: OSError | None = None
) -> types.ModuleType:
    mod = types.ModuleType("winreg")
    calls: list[tuple[object, ...]] = []
    mod.HKEY_CURRENT_USER = "HKCU"  # type: ignore[attr-defined]
    mod.KEY_READ = 0x20019  # type: ignore[attr-defined]
    mod.REG_DWORD = 4  # type: ignore[attr-defined]
    mod.calls = calls  # type: ignore[attr-defined]

    def open_key(root: object, path: str, reserved: int, access: int) -> _Key:
        calls.append(("OpenKey", root, path, access))
        if error is not None:
            raise error
        if values is None:
            raise FileNotFoundError(path)
        return _Key()

    def query(key: object, name: str) -> tuple[object, int]:
        assert values is not None
        if name not in values:
            raise FileNotFoundError(name)
        return values[name]

    def forbidden(*args: object) -> None:
        raise AssertionError("the registry must never be written")

    mod.OpenKey = open_key  # type: ignore[attr-defined]
    mod.QueryValueEx = query  # type: ignore[attr-defined]
    mod.SetValueEx = forbidden  # type: ignore[attr-defined]
    mod.CreateKey = forbidden  # type: ignore[attr-defined]
    return mod


def test_registry_value_set() -> None:
    fake = _fake_winreg({REGISTRY_VALUE: (1, 4)})
    setting = _read_winreg(fake)
    assert setting.available and setting.present and setting.value == 1 and setting.disabled
    assert "NOT use MAPI/HTTP" in setting.message
    assert fake.calls == [("OpenKey", "HKCU", REGISTRY_KEY, 0x20019)]  # type: ignore[attr-defined]


def test_registry_value_absent_or_zero_or_odd() -> None:
    assert not _read_winreg(_fake_winreg(None)).present
    assert not _read_winreg(_fake_winreg({})).present
    zero = _read_winreg(_fake_winreg({REGISTRY_VALUE: (0, 4)}))
    assert zero.present and not zero.disabled
    odd = _read_winreg(_fake_winreg({REGISTRY_VALUE: ("1", 1)}))
    assert odd.present and odd.value is None
    denied = _read_winreg(_fake_winreg({}, error=PermissionError(13, "Access is denied")))
    assert not denied.available and "Access is denied" in denied.message
