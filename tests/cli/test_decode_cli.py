"""`mapiprobe decode` and `mapiprobe demo`: exit codes, JSON shape, broken input without a traceback."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from mapiprobe.cli.main import main, parse_hex

# MS-OXCROPS 4.4: a ROP input buffer with two RopRelease requests and the handle table 0x6F, 0x6E.
RELEASE_X2 = "08 00 01 00 00 01 00 01 6F 00 00 00 6E 00 00 00"


def _run_json(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict]:
    code = main(["decode", *args, "--json"])
    return code, json.loads(capsys.readouterr().out)


def test_rop_request_json_uses_spec_field_names(capsys: pytest.CaptureFixture[str]) -> None:
    code, doc = _run_json(capsys, "rop-request", "--hex", RELEASE_X2)
    assert code == 0
    assert doc["ok"] is True
    decoded = doc["decoded"]
    assert decoded["RopSize"] == 8
    assert decoded["ServerObjectHandleTable"] == [0x6F, 0x6E]
    first, second = decoded["RopsList"]
    assert first["RopId"] in ("RopRelease", 1)
    assert (first["LogonId"], first["InputHandleIndex"]) == (0, 0)
    assert (second["LogonId"], second["InputHandleIndex"]) == (0, 1)


def test_property_row_with_named_columns(capsys: pytest.CaptureFixture[str]) -> None:
    # A StandardPropertyRow: PidTagContentCount = 5, PidTagSubfolders = true.
    code, doc = _run_json(
        capsys, "property-row", "--hex", "00 05000000 01", "--columns", "PidTagContentCount,0x360A000B"
    )
    assert code == 0
    text = json.dumps(doc)
    assert "0x36020003" in text
    assert "PidTagContentCount" in text
    assert "PidTagSubfolders" in text


def test_truncated_input_exits_2_with_partial_and_offset(capsys: pytest.CaptureFixture[str]) -> None:
    code, doc = _run_json(capsys, "rop-request", "--hex", RELEASE_X2[:-6])  # handle table cut to 6 bytes
    assert code == 2
    assert doc["ok"] is False
    assert isinstance(doc["error"]["offset"], int)
    assert doc["error"]["reason"]


def test_text_output_of_broken_input_names_offset(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["decode", "rop-request", "--hex", "08 00 01 00 00 01 00"])
    captured = capsys.readouterr()
    assert code == 2
    assert "offset" in captured.err
    assert "Traceback" not in captured.err


def test_bad_hex_and_missing_file_are_usage_errors(capsys: pytest.CaptureFixture[str], tmp_path) -> None:
    assert main(["decode", "lz77", "--hex", "ABC"]) == 2
    assert main(["decode", "lz77", "--file", str(tmp_path / "nope.bin")]) == 2
    assert main(["decode", "property-row", "--hex", "00", "--columns", "PidTagNoSuchThing"]) == 2
    err = capsys.readouterr().err
    assert "odd number" in err
    assert "cannot read" in err
    assert "unknown property tag" in err


def test_parse_hex_accepts_dump_formats() -> None:
    assert parse_hex("0000: 08 00-01 00\n0010: 0x6F,0x00") == bytes.fromhex("080001006F00")


def test_demo_decodes_the_sample_down_to_folder_rows(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo"]) == 0
    out = capsys.readouterr().out
    assert "RopQueryRows" in out
    assert "Inbox" in out
    assert "PidTagContentUnreadCount" in out


def test_module_entry_point_and_exit_code_as_a_process() -> None:
    res = subprocess.run(
        [sys.executable, "-m", "mapiprobe", "decode", "rop-response", "--hex", "0700 01 00 00 00 00"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert res.returncode == 2
    assert "Traceback" not in res.stderr
    assert "error:" in res.stderr
