"""NMEA logs (gridkit.nmea): a GPS or BeiDou receiver's sentences read as fixes."""

import json
from functools import reduce

import numpy as np
import pandas as pd
import pyogrio
import pytest
from click.testing import CliRunner

from gridkit.errors import InputError
from gridkit.nmea import is_nmea, read_nmea
from gridkit_cli.main import cli

from .test_patrol import _cambridge


def _sentence(body):
    return f"${body}*{reduce(lambda a, c: a ^ ord(c), body, 0):02X}"


def _ddmm(value, positive, negative, width):
    degrees = int(abs(value))
    return f"{degrees:0{width}d}{(abs(value) - degrees) * 60:07.4f}", positive if value >= 0 else negative


def _log(samples, talker="GN", kinds=("RMC", "GGA"), shift=pd.Timedelta(0)):
    """The sample walk's first worker (319 fixes, 10 s apart, from 13:00 UTC) as a
    receiver logs it: the position sentences of each epoch, then a GSV (satellites,
    no position); ``shift`` moves every time."""
    track = pyogrio.read_dataframe(samples / "cambridge_patrol.gpx", layer="track_points")
    track = track[track["track_fid"] == 0].assign(time=lambda t: pd.to_datetime(t["time"]) + shift)
    lines = []
    for t, x, y in zip(track["time"], track.geometry.x, track.geometry.y):
        hms, lat, lon = t.strftime("%H%M%S") + ".00", _ddmm(y, "N", "S", 2), _ddmm(x, "E", "W", 3)
        if "RMC" in kinds:
            lines.append(_sentence(f"{talker}RMC,{hms},A,{lat[0]},{lat[1]},{lon[0]},{lon[1]},2.7,85.3,"
                                   f"{t.strftime('%d%m%y')},,,A"))
        if "GGA" in kinds:
            lines.append(_sentence(f"{talker}GGA,{hms},{lat[0]},{lat[1]},{lon[0]},{lon[1]},1,12,0.9,15.2,M,-33.1,M,,"))
        lines.append(_sentence("GPGSV,3,1,12,01,40,083,46,02,17,308,41,12,07,344,39,14,22,228,45"))
    return track, lines


def test_a_receiver_s_log_reads_as_one_fix_per_epoch_at_the_gpx_s_times_and_places(tmp_path, samples):
    track, lines = _log(samples)
    path = tmp_path / "w001.nmea"
    path.write_text("\r\n".join(lines) + "\r\n")
    fixes = read_nmea(path)
    assert len(fixes) == len(track) == 319 and fixes["problem"].isna().all()
    assert fixes["sentences"].unique().tolist() == ["GNRMC+GGA"]
    assert fixes["line"].tolist()[:3] == [1, 4, 7]  # each epoch by the line of its first sentence
    assert fixes["time"].tolist() == pd.to_datetime(track["time"]).tolist()  # RMC's date, UTC
    assert np.abs(fixes["lon"] - track.geometry.x.to_numpy()).max() < 1e-6  # 0.0001′ is 1.7e-6°
    assert np.abs(fixes["lat"] - track.geometry.y.to_numpy()).max() < 1e-6
    assert (fixes["speed_kmh"].iloc[0], fixes["satellites"].iloc[0], fixes["hdop"].iloc[0]) == (5.0, 12, 0.9)
    assert fixes.attrs["nmea_skipped"] == {"GSV sentences (no position)": 319}
    assert is_nmea(path)
    (tmp_path / "w001.txt").write_text("\n".join(lines))
    (tmp_path / "table.txt").write_text("lon,lat\n116.4,39.9\n")
    assert is_nmea(tmp_path / "w001.txt") and not is_nmea(tmp_path / "table.txt")


def test_a_log_saved_by_notepad_with_a_byte_order_mark_or_old_mac_line_ends_reads_the_same(tmp_path, samples):
    """UTF-8's byte-order mark (Notepad writes one) before the first sentence, lone CR
    line ends, a stray byte that is not ASCII: the same fixes as the plain log. Before,
    the mark made the first line no sentence: the first fix was lost, and a .txt
    with one was not known as a log at all."""
    _, lines = _log(samples)
    plain = tmp_path / "plain.nmea"
    plain.write_text("\n".join(lines) + "\n")
    expected = read_nmea(plain)
    (tmp_path / "notepad.txt").write_bytes(b"\xef\xbb\xbf" + "\r\n".join(lines).encode())
    (tmp_path / "mac.nmea").write_bytes("\r".join(lines[:3]).encode() + b"\r\xb0\xe9\r" + "\r".join(lines[3:]).encode())
    assert is_nmea(tmp_path / "notepad.txt")
    for name, noise in (("notepad.txt", 0), ("mac.nmea", 1)):
        fixes = read_nmea(tmp_path / name)
        assert len(fixes) == 319 and fixes["line"].iloc[0] == 1
        pd.testing.assert_frame_equal(fixes.drop(columns="line"), expected.drop(columns="line"))
        assert fixes.attrs["nmea_skipped"] == {"GSV sentences (no position)": 319,
                                               **({"lines that are no NMEA sentence": 1} if noise else {})}


def test_void_damaged_and_cut_sentences_are_rows_rejected_with_the_problem(tmp_path, samples):
    """An epoch with no fix, a sentence whose checksum does not match (a digit
    changed), a line cut short at the end of the log and a line of noise: the
    first three are rows the rejects list with their problem; the noise is
    counted. patrol and locate give the same three rejects, each by its own reason
    (all three were missing_coordinates, "x/y blank, not numbers", in the summary),
    and the summary counts the lines that are no fix (they were only warned of)."""
    _, lines = _log(samples)
    lines[12] = _sentence(lines[12][1:-3].replace(",A,", ",V,", 1))  # epoch 5: status V …
    lines[13] = _sentence(lines[13][1:-3].replace(",1,12,", ",0,00,"))  # … and GGA quality 0
    lines[19] = lines[19].replace("4223.", "4224.")  # damaged: the checksum is the old text's
    lines.insert(30, "GARBAGE @@@ 0x00")
    lines[-2] = lines[-2][:25]  # the last GGA cut short
    path = tmp_path / "damaged.nmea"
    path.write_text("\n".join(lines) + "\n")
    fixes = read_nmea(path)
    assert len(fixes) == 319 + 2  # the damaged GGA and the cut one beside their epochs' RMC
    bad = fixes[fixes["problem"].notna()]
    assert bad[["line", "sentences", "problem"]].values.tolist() == [
        [13, "GNRMC+GGA", "no fix (status V: the receiver had not found its position)"],
        [20, "GNGGA", "checksum does not match the sentence: a damaged line"],
        [957, "GNGGA", "no position in the sentence: cut short, or the receiver left it blank"]]
    assert bad["lon"].isna().all() and fixes.loc[fixes["problem"].isna(), "lon"].notna().all()
    assert fixes.attrs["nmea_skipped"] == {"GSV sentences (no position)": 319, "lines that are no NMEA sentence": 1}
    grid = str(_cambridge(tmp_path, samples))
    for command in (["patrol", str(path), "--grid", grid, "-o", str(tmp_path / "patrol.csv")],
                    ["locate", str(path), "--grid", grid, "-o", str(tmp_path / "locate.csv")]):
        result = CliRunner().invoke(cli, command + ["--json"])
        assert result.exit_code == 0, result.output
        summary = json.loads(result.output.splitlines()[-1])
        assert summary["rejected_by_reason"] == {"no_fix": 1, "bad_checksum": 1, "cut_short": 1}
        assert summary["nmea_skipped"] == fixes.attrs["nmea_skipped"]  # counted, not only warned of
        rejects = pd.read_csv(tmp_path / f"{command[0]}.rejects.csv")
        assert rejects[["row", "reason"]].values.tolist() == [[13, "no_fix"], [20, "bad_checksum"],
                                                              [957, "cut_short"]]  # by the log's lines
        assert rejects["detail"].tolist() == rejects["problem"].tolist() == bad["problem"].tolist()
        said = CliRunner().invoke(cli, command + ["--overwrite"]).output
        assert "       1 × bad_checksum: an NMEA sentence whose checksum does not match its text: damaged in the " \
               "log\n       1 × cut_short: an NMEA sentence with its position cut short or left blank\n" \
               "  NMEA lines that are no fix: GSV sentences (no position) 319, lines that are no NMEA sentence 1\n" \
               in said, said
    assert summary["rows"] == 321 and summary["located"] == 318


def test_gga_alone_gives_times_of_day_which_patrol_reads_in_order(tmp_path, samples):
    """A receiver set to log GGA alone writes no date: the times are times of day,
    and patrol reads them as one day's, as it reads a table's."""
    from gridkit.patrol import read_fixes

    _, lines = _log(samples, talker="BD", kinds=("GGA",))
    path = tmp_path / "beidou.nmea"
    path.write_text("\n".join(lines))
    fixes = read_nmea(path)
    assert fixes["time"].iloc[[0, -1]].tolist() == ["13:00:00.00", "13:59:50.00"]
    assert fixes["sentences"].iloc[0] == "BDGGA"
    read, rejects = read_fixes(path)
    assert len(read) == 319 and len(rejects) == 0 and read.attrs["times_of_day"]
    assert (read["time"].iloc[-1] - read["time"].iloc[0]) == pd.Timedelta(minutes=59, seconds=50)


@pytest.mark.parametrize("start", ["23:40", "23:59"])
def test_gga_alone_past_utc_midnight_takes_the_next_day(tmp_path, samples, start):
    """RMC once every 30 epochs (at the 15th, 45th …), GGA at every one, and UTC
    midnight (08:00 in Beijing) between two RMCs, or before the first. Every fix has
    the time the walk had, each later than the last. Before, a GGA-only epoch took the
    date of the RMC before it (after it, before the first): those past midnight were
    put 24 hours back, and those before it 24 hours on."""
    shift = pd.Timestamp(f"2026-11-20 {start}", tz="UTC") - pd.Timestamp("2026-11-20 13:00", tz="UTC")
    track, lines = _log(samples, shift=shift)
    epochs = [lines[k:k + 3] for k in range(0, len(lines), 3)]  # RMC, GGA, GSV
    kept = [line for k, (rmc, gga, gsv) in enumerate(epochs) for line in ([rmc] if k % 30 == 15 else []) + [gga, gsv]]
    path = tmp_path / "midnight.nmea"
    path.write_text("\n".join(kept))
    fixes = read_nmea(path)
    assert fixes["sentences"].value_counts().to_dict() == {"GNGGA": 308, "GNRMC+GGA": 11}
    assert fixes["time"].tolist() == track["time"].tolist()
    assert fixes["time"].iloc[0].day == 20 and fixes["time"].iloc[-1].day == 21
    assert fixes["time"].is_monotonic_increasing


def test_a_file_with_no_position_sentence_is_refused(tmp_path):
    path = tmp_path / "sats.nmea"
    path.write_text(_sentence("GPGSV,1,1,01,01,40,083,46") + "\n")
    with pytest.raises(InputError, match=r"sats.nmea: no position sentence \(RMC, GGA or GLL\) in 1 lines"):
        read_nmea(path)


@pytest.mark.parametrize("block", [64, 1000, 4096])
def test_a_log_read_in_blocks_gives_the_fixes_and_counts_of_the_log_read_at_once(tmp_path, samples, monkeypatch, block):
    """A log is split into lines a block at a time (a week's log is no longer held
    whole). Blocks shorter than a line, a CRLF cut between its CR and its LF, lone
    CR line ends, a byte-order mark, blank lines and noise: every fix, its line, its
    problem and the count of other lines as when the log is one block."""
    import gridkit.nmea as nmea

    _, lines = _log(samples)
    lines[19] = lines[19].replace("4223.", "4224.")  # damaged: line 20
    lines[100:100] = ["", "GARBAGE @@@", _sentence("GPGSA,A,3,01,02,12,14,,,,,,,,,1.8,0.9,1.5")]
    logs = {"crlf.nmea": b"\xef\xbb\xbf" + "\r\n".join(lines).encode() + b"\r\n",
            "mac.nmea": "\r".join(lines).encode()}
    for name, data in logs.items():
        (tmp_path / name).write_bytes(data)
        whole = read_nmea(tmp_path / name)
        with monkeypatch.context() as m:
            m.setattr(nmea, "BLOCK_BYTES", block)
            blocks = read_nmea(tmp_path / name)
        pd.testing.assert_frame_equal(blocks, whole)
        assert len(blocks) == 320 and blocks["line"].iloc[[0, 1, 34, 35, -1]].tolist() == [1, 4, 100, 106, 958]
        assert blocks.loc[blocks["problem"].notna(), "line"].tolist() == [20]
        assert blocks.attrs["nmea_skipped"] == whole.attrs["nmea_skipped"] == {
            "GSV sentences (no position)": 319, "GSA sentences (no position)": 1, "lines that are no NMEA sentence": 1}
