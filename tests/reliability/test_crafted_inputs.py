"""Crafted files: image headers, decoder-killing PNGs, YAML alias bombs, deep JSON, bad roots."""

from __future__ import annotations

import json
import struct
import textwrap
import time
import zlib

import numpy as np
import pytest
from PIL import Image

from irnext.cli import main
from irnext.data import read_image
from irnext.errors import InputError
from irnext.image_headers import MAX_PIXELS, ImageTooLarge
from irnext.io import read_yaml_mapping
from irnext.limits import MAX_JSON_DEPTH, MAX_YAML_VALUES
from irnext.report import render_report
from tests._eval_helpers import write_synth_layout
from tests.reliability._faults import run_python

SIGNATURE = b"\x89PNG\r\n\x1a\n"  # PNG specification, section 5.2


def _chunk(kind: bytes, body: bytes, crc: int | None = None) -> bytes:
    """One PNG chunk (PNG specification, section 5.3), its CRC computed unless given."""
    crc = zlib.crc32(kind + body) if crc is None else crc
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)


def _png(width, height, rows: bytes, *, depth=16, colour=2, ihdr_crc=None) -> bytes:
    header = struct.pack(">IIBBBBB", width, height, depth, colour, 0, 0, 0)
    return (
        SIGNATURE
        + _chunk(b"IHDR", header, ihdr_crc)
        + _chunk(b"IDAT", zlib.compress(rows))
        + _chunk(b"IEND", b"")
    )


def test_a_huge_declared_size_is_refused_from_the_header_in_inspect(tmp_path, capsys):
    root = tmp_path / "data"
    write_synth_layout(root, count=2, size=(8, 8))
    bomb = root / "test" / "input" / "0001_photo.png"
    bomb.write_bytes(_png(20000, 20000, b"\0" * 64, depth=8))  # 64 bytes claiming 400 Mpx
    start = time.perf_counter()
    assert main(["data", "inspect", "synth-haze", str(root)]) == 2
    error = capsys.readouterr().err
    assert f"{bomb}: declares 20000 x 20000 pixels (400,000,000)" in error
    assert f"more than the {MAX_PIXELS:,}" in error and "DecompressionBomb" not in error
    assert time.perf_counter() - start < 10  # refused from the header, nothing decoded


def test_a_huge_jpeg_is_refused_with_its_size_too(tmp_path):
    path = tmp_path / "wide.jpg"
    Image.new("RGB", (16, 16)).save(path)
    data = bytearray(path.read_bytes())
    sof = data.index(b"\xff\xc0")  # baseline frame header: length, precision, height, width
    data[sof + 5 : sof + 9] = struct.pack(">HH", 60000, 60000)
    path.write_bytes(bytes(data))
    with pytest.raises(ImageTooLarge) as caught:
        read_image(path)
    assert str(caught.value).startswith(f"{path}: ") and "3600000000 pixels" in str(caught.value)
    assert f"an image may have at most {MAX_PIXELS:,} pixels here" in str(caught.value)


def test_a_huge_panel_of_a_visual_comparison_is_refused_from_its_header(tmp_path):
    from irnext.report.visual import visual_grid

    bomb = tmp_path / "input.png"
    bomb.write_bytes(_png(30000, 30000, b"\0" * 64, depth=8))
    spec = {"_folder": tmp_path, "models": [], "crop": [0, 0, 4]}
    with pytest.raises(ImageTooLarge, match=f"{bomb}: declares 30000 x 30000 pixels"):
        visual_grid(spec, "haze", tmp_path / "grid.png")
    assert not (tmp_path / "grid.png").exists()


# 16-bit RGB, 4 x 4: rows of 1 filter byte + 4 pixels x 6 bytes (PNG specification, 7.2)
_ROW = 1 + 4 * 6
CRAFTED = {
    "short image data": (_png(4, 4, b"\0" * (3 * _ROW)), "holds 75 bytes where its header"),
    "bad row filter": (_png(4, 4, (b"\x07" + b"\0" * 24) * 4), "PNG row filter 7 at byte 0"),
    "corrupt header CRC": (_png(4, 4, b"\0" * (4 * _ROW), ihdr_crc=0), "is corrupt (CRC)"),
    "cut in a chunk": (_png(4, 4, b"\0" * (4 * _ROW))[:50], "ends inside chunk b'IDAT'"),
}
_READ_ALL = textwrap.dedent(
    """
    import json, sys
    from irnext.data import read_image
    from irnext.errors import InputError
    messages = {}
    for path in PATHS:
        try:
            read_image(path)
        except InputError as error:
            messages[path] = str(error)
    print(json.dumps(messages))
    """
)


@pytest.mark.slow  # two child processes that import torch
def test_crafted_16_bit_pngs_are_named_errors_not_a_dead_process(tmp_path):
    paths = {}
    for index, (case, (data, _)) in enumerate(CRAFTED.items()):
        paths[case] = tmp_path / f"crafted{index}.png"
        paths[case].write_bytes(data)
    child = run_python(_READ_ALL.replace("PATHS", repr([str(p) for p in paths.values()])))
    out, err = child.communicate(timeout=300)
    assert child.returncode == 0, err  # before the checks: -11 (SIGSEGV) at the first file
    messages = json.loads(out)
    for case, path in paths.items():
        assert messages[str(path)].startswith(f"{path}: PNG"), case
        assert CRAFTED[case][1] in messages[str(path)], case
    # The control: torchvision's libpng binding, handed the first file unchecked, kills the
    # process instead of raising; this is why no unchecked 16-bit PNG reaches it.
    code = f"""
import torch
from torchvision.io import decode_png
data = torch.frombuffer(bytearray(open({str(paths["short image data"])!r}, "rb").read()),
                        dtype=torch.uint8)
decode_png(data)
"""
    control = run_python(code)
    control.communicate(timeout=300)
    assert control.returncode == -11


def test_a_valid_16_bit_png_still_reads_exactly(tmp_path):
    from irnext.data.images import encode_png16

    pixels = np.random.default_rng(0).integers(0, 65536, (5, 7, 3), dtype=np.uint16)
    path = tmp_path / "ok.png"
    path.write_bytes(encode_png16(pixels))
    np.testing.assert_array_equal(read_image(path), pixels.astype(np.float32) / 65535)


def test_another_format_behind_an_image_suffix_is_refused(tmp_path):
    path = tmp_path / "photo.png"
    Image.new("RGB", (4, 4)).save(path, format="GIF")  # a format outside the allowed four
    with pytest.raises(InputError, match=f"{path}: not an image of the supported formats"):
        read_image(path)


def _alias_bomb(levels=9, width=10) -> str:
    """The 'billion laughs' shape: each level repeats the previous one `width` times."""
    lines = ["a0: &a0 [" + ", ".join(["lol"] * width) + "]"]
    for level in range(1, levels):
        lines.append(f"a{level}: &a{level} [" + ", ".join([f"*a{level - 1}"] * width) + "]")
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("file", ["params.yaml", "ablations/study.yaml"])
def test_a_yaml_alias_bomb_is_refused_at_once(tmp_path, file):
    path = tmp_path / file
    path.parent.mkdir(exist_ok=True)
    path.write_text(_alias_bomb())
    start = time.perf_counter()
    with pytest.raises(InputError) as caught:
        read_yaml_mapping(path, expected="x")
    assert str(caught.value).startswith(f"{path}: YAML expands to more than")
    assert time.perf_counter() - start < 2


def test_a_yaml_alias_bomb_through_the_command_line(tmp_path, capsys):
    params = tmp_path / "params.yaml"
    params.write_text(_alias_bomb())
    assert main(["params", "check", str(params)]) == 2
    assert f"more than {MAX_YAML_VALUES:,} values" in capsys.readouterr().err


def test_ordinary_anchors_and_merge_keys_still_read(tmp_path):
    path = tmp_path / "p.yaml"
    path.write_text("base: &b {lr: 0.001, sizes: [1, 2]}\ncopy: *b\nmore: {<<: *b, lr: 0.1}\n")
    data = read_yaml_mapping(path, expected="x")
    assert data["copy"] == {"lr": 0.001, "sizes": [1, 2]}
    assert data["more"] == {"lr": 0.1, "sizes": [1, 2]}


def test_a_self_referencing_yaml_alias_is_refused(tmp_path):
    path = tmp_path / "p.yaml"
    path.write_text("a: &a [1, *a]\n")
    with pytest.raises(InputError, match="refers to its own anchor"):
        read_yaml_mapping(path, expected="x")


def test_deeply_nested_result_json_is_a_named_error_in_the_report(tmp_path):
    results = tmp_path / "results"
    (results / "ablations").mkdir(parents=True)
    deep = results / "ablations" / "deep.json"
    deep.write_text("[" * 100_000 + "]" * 100_000)  # RecursionError in json.loads before
    with pytest.raises(InputError) as caught:
        render_report(results, results / "report.md")
    assert str(caught.value).startswith(f"{deep}: JSON nested more than {MAX_JSON_DEPTH} levels")


def test_brackets_inside_json_strings_do_not_count(tmp_path):
    from irnext.limits import check_json_nesting

    text = json.dumps({"note": "[" * 500 + '\\"{', "values": [[1], [2]]})
    check_json_nesting(text, "x.json", limit=3)  # the object, the list and its lists
    with pytest.raises(InputError, match="nested more than 2 levels"):
        check_json_nesting(text, "x.json", limit=2)


@pytest.mark.parametrize("root", ["[a, b]", "5", "{path: /data}"])
def test_a_datasets_yaml_root_that_is_not_a_path_is_named(tmp_path, capsys, root):
    datasets = tmp_path / "datasets.yaml"
    datasets.write_text(f"datasets:\n  gopro: {root}\n")
    assert main(["data", "inspect", "gopro", "--datasets", str(datasets)]) == 2
    error = capsys.readouterr().err
    assert f"{datasets}: datasets.gopro = " in error
    assert "expected a folder path as a string, or null" in error


@pytest.mark.parametrize("top", ["[a, b]", "5"])
def test_a_datasets_section_that_is_not_a_mapping_is_named(tmp_path, capsys, top):
    datasets = tmp_path / "datasets.yaml"
    datasets.write_text(f"datasets: {top}\n")
    assert main(["data", "inspect", "gopro", "--datasets", str(datasets)]) == 2
    assert "expected a mapping of dataset names to folder paths" in capsys.readouterr().err


def test_deeply_nested_summary_json_is_a_named_error_in_collect(tmp_path, capsys):
    summary = tmp_path / "evaluate" / "haze" / "identity" / "summary.json"
    summary.parent.mkdir(parents=True)
    summary.write_text('{"dataset": ' + "[" * 100_000 + "]" * 100_000 + "}")
    command = ["collect", "--results", str(tmp_path), "--task", "haze", "--models"]
    assert main([*command, "irnext-mini", "--seeds", "0"]) == 2
    assert f"{summary}: JSON nested more than" in capsys.readouterr().err


def test_a_16_bit_png_is_validated_once_per_version_of_the_file(tmp_path, monkeypatch):
    import os

    from irnext import image_headers
    from irnext.data.images import encode_png16

    checked = []
    real = image_headers.check_png16
    monkeypatch.setattr(
        image_headers, "check_png16", lambda path: checked.append(path) or real(path)
    )
    path = tmp_path / "a.png"
    path.write_bytes(encode_png16(np.full((4, 4, 3), 1000, np.uint16)))
    read_image(path)
    read_image(path)  # an epoch later: the same file, not checked again
    assert checked == [path]
    path.write_bytes(encode_png16(np.full((4, 5, 3), 2000, np.uint16)))  # replaced: checked again
    os.utime(path, ns=(1, 1))
    read_image(path)
    assert checked == [path, path]
