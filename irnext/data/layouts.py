"""Where each dataset keeps its pairs: one small entry per dataset, as its authors distribute it.

An entry says, per split, which folders under the user's root may hold the pairs (first found
wins), which (input, target) folder names are accepted there (case-insensitive), and how a target
file is named from its input (same stem; the hazy prefix before the first `_` for RESIDE and
Haze4K; `blur_1` -> `gt_1` for RealBlur scenes; `rain-1` -> `norain-1` for the original Rain100
folders). Layout facts: docs/datasets.md and the authors' READMEs.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from irnext.data import layout_help as trees


@dataclass(frozen=True)
class DatasetInfo:
    name: str
    task: str
    splits: tuple[str, ...]
    default_split: str
    protocol: str
    groups: tuple[str, ...]
    layout_help: str
    caveat: str | None = None  # a known problem of the benchmark that its scores carry


@dataclass(frozen=True)
class Layout:
    info: DatasetInfo
    bases: dict[str, tuple[str, ...]]  # split -> candidate folders under root ("." = root)
    sides: tuple[tuple[str, str], ...]  # accepted (input, target) folder names, preferred first
    target_rule: str = "same"  # same | prefix | blur_gt | rain_norain
    finder: str = "folders"  # folders | hide | realblur
    many_to_one: bool = False  # several inputs share one target (RESIDE hazy levels)
    gt_border_px: int = 0  # SOTS-indoor: GT is 640x480, hazy 620x460
    options: tuple[str, ...] = field(default=())  # extra keyword options open_dataset accepts


# Training sets known to contain scenes of a test set (docs/datasets.md): scores of a model
# trained on the first and tested on the second measure partly memorised scenes.
TRAIN_TEST_OVERLAP = {
    ("ots-train", "sots-outdoor"): "RESIDE OTS contains SOTS-outdoor scenes (a known leak): "
    "a model trained on OTS has seen these test scenes",
}

_HAZE_SIDES = (("hazy", "gt"), ("hazy", "clear"), ("IN", "GT"), ("input", "target"))
_PAIR_SIDES = (("input", "target"), ("blur", "sharp"), ("blur", "gt"))
_RAIN_SIDES = (("input", "target"), ("rain", "norain"), ("rainy", "gt"))
# The authors' desnowing evaluation (c-yn/ConvIR Image_desnowing/eval.py) pools SSIM from the
# sides padded to a multiple of 32, as the IRNeXt dehazing release does (docs/protocols.md).
_SNOW_PROTOCOL = "dehaze_pooled_release"
_SNOW_SIDES = (("Snow", "Gt"), ("synthetic", "gt"), ("Syn", "gt"), ("input", "target"))


def _info(
    name, task, splits, protocol, help_text, *, default=None, groups=(), caveat=None
) -> DatasetInfo:
    return DatasetInfo(
        name=name,
        task=task,
        splits=tuple(splits),
        default_split=default or splits[-1],
        protocol=protocol,
        groups=tuple(groups),
        layout_help=help_text.replace("{root}", "ROOT"),
        caveat=caveat,
    )


def _split_folders(name, task, protocol, splits, *, sides, help_text, rule="same", extra=()):
    bases = {split: (split, split.capitalize(), *extra) for split in splits}
    return Layout(
        info=_info(name, task, splits, protocol, help_text),
        bases=bases,
        sides=sides,
        target_rule=rule,
    )


def _one_folder(name, task, protocol, *, sides, help_text, children=(), rule="same") -> Layout:
    return Layout(
        info=_info(name, task, ("test",), protocol, help_text),
        bases={"test": (".", *children)},
        sides=sides,
        target_rule=rule,
    )


def _haze(
    name: str, bases: dict[str, tuple[str, ...]], help_text: str, *, caveat=None, **extra
) -> Layout:
    """RESIDE, SOTS and Haze4K: several hazy renders share one GT named by their prefix."""
    info = _info(name, "dehaze", tuple(bases), "dehaze_pooled", help_text, caveat=caveat)
    return Layout(
        info=info,
        bases=bases,
        sides=_HAZE_SIDES,
        target_rule="prefix",
        many_to_one=True,
        **extra,
    )


def _dehaze_and_motion() -> list[Layout]:
    layouts: list[Layout] = [
        _haze("its-train", {"train": ("train", ".", "ITS_v2")}, trees.RESIDE_HELP),
        _haze("ots-train", {"train": ("train", ".", "OTS")}, trees.RESIDE_HELP),
        _haze(
            "sots-indoor",
            {"test": (".", "nyuhaze500", "test", "indoor", "indoor/nyuhaze500")},
            trees.SOTS_INDOOR_HELP,
            gt_border_px=10,
        ),
        _haze(
            "sots-outdoor",
            {"test": (".", "test", "outdoor")},
            trees.SOTS_OUTDOOR_HELP,
            caveat=TRAIN_TEST_OVERLAP[("ots-train", "sots-outdoor")],
        ),
        _haze("haze4k", {"train": ("train",), "test": ("test",)}, trees.HAZE4K_HELP),
        Layout(
            info=_info(
                "gopro", "motion_deblur", ("train", "test"), "matlab_rgb3d", trees.GOPRO_HELP
            ),
            bases={"train": ("train",), "test": ("test", ".")},
            sides=_PAIR_SIDES,
        ),
        Layout(
            info=_info("hide", "motion_deblur", ("train", "test"), "matlab_rgb3d", trees.HIDE_HELP),
            bases={"train": ("train",), "test": ("test", ".")},
            sides=(("input", "target"),),
            finder="hide",
        ),
    ]
    return layouts


def _realblur_and_dpdd() -> list[Layout]:
    layouts: list[Layout] = []
    for variant in ("J", "R"):
        layouts.append(
            Layout(
                info=_info(
                    f"realblur-{variant.lower()}",
                    "motion_deblur",
                    ("train", "test"),
                    "realblur_aligned",
                    trees.REALBLUR_HELP.replace("{v}", variant),
                ),
                bases={"train": ("train",), "test": ("test", ".")},
                sides=(("input", "target"), ("blur", "gt")),
                target_rule="blur_gt",
                finder="realblur",
            )
        )
    layouts.append(
        Layout(
            info=_info(
                "dpdd",
                "defocus_deblur",
                ("train", "val", "test"),
                "dpdd_float",
                trees.DPDD_HELP,
                groups=("indoor", "outdoor"),
            ),
            bases={
                "train": ("train_c", "train"),
                "val": ("val_c", "val"),
                "test": ("test_c", "test", "."),
            },
            sides=(("source", "target"), ("inputC", "target"), ("input", "target")),
            options=("group_lists",),
        )
    )
    return layouts


def _rain() -> list[Layout]:
    layouts: list[Layout] = []
    layouts.append(
        Layout(
            info=_info(
                "rain13k",
                "derain",
                ("train",),
                "matlab_y",
                trees.RAIN13K_HELP,
            ),
            bases={"train": (".", "Rain13K", "train/Rain13K")},
            sides=_RAIN_SIDES,
            target_rule="rain_norain",
        )
    )
    for name, folder in (
        ("test100", "Test100"),
        ("rain100h", "Rain100H"),
        ("rain100l", "Rain100L"),
        ("test2800", "Test2800"),
        ("test1200", "Test1200"),
    ):
        layouts.append(
            _one_folder(
                name,
                "derain",
                "matlab_y",
                sides=_RAIN_SIDES,
                rule="rain_norain",
                help_text=trees.rain_test_help(folder),
                children=(folder, f"test/{folder}"),
            )
        )
    return layouts


def _snow_and_synth() -> list[Layout]:
    layouts: list[Layout] = []
    for name in ("csd", "srrs"):
        layouts.append(
            Layout(
                info=_info(
                    name, "desnow", ("train", "train2500", "test"), _SNOW_PROTOCOL, trees.SNOW_HELP
                ),
                bases={
                    "train": ("train2500", "Train", "train"),
                    # The authors' desnowing code reads exactly this subset (docs/recipes.md).
                    "train2500": ("train2500",),
                    "test": ("test2000", "Test", "test"),
                },
                sides=_SNOW_SIDES,
            )
        )
    layouts.append(
        Layout(
            info=_info(
                "snow100k",
                "desnow",
                ("train", "train2500", "test", "test-s", "test-m", "test-l"),
                _SNOW_PROTOCOL,
                trees.SNOW100K_HELP,
                default="test",
            ),
            bases={
                "train": ("train2500", "all", "train", "Snow100K-training/all"),
                "train2500": ("train2500",),
                "test": ("test2000", "test"),
                **{
                    f"test-{s.lower()}": (
                        f"Snow100K-{s}",
                        f"test/Snow100K-{s}",
                        f"Snow100K-testset/Snow100K-{s}",
                    )
                    for s in "SML"
                },
            },
            sides=_SNOW_SIDES,
        )
    )
    for task_name, task, protocol in SYNTH_TASKS:
        layouts.append(
            _split_folders(
                f"synth-{task_name}",
                task,
                protocol,
                ("train", "val", "test"),
                sides=(("input", "target"),),
                help_text=trees.SYNTH_HELP,
            )
        )
    return layouts


def _build() -> dict[str, Layout]:
    layouts = _dehaze_and_motion() + _realblur_and_dpdd() + _rain() + _snow_and_synth()
    return {layout.info.name: layout for layout in layouts}


# The offline benchmark's tasks: (CLI name, task, default metric protocol).
SYNTH_TASKS = (
    ("haze", "dehaze", "dehaze_pooled"),
    ("motion-blur", "motion_deblur", "matlab_rgb3d"),
    ("defocus", "defocus_deblur", "dpdd_float"),
    ("rain", "derain", "matlab_y"),
    ("snow", "desnow", "dehaze_pooled"),
)

LAYOUTS: dict[str, Layout] = _build()


def list_datasets() -> list[str]:
    return list(LAYOUTS)


def layout(name: str) -> Layout:
    from irnext.errors import InputError

    if name not in LAYOUTS:
        raise InputError(f"unknown dataset {name!r}; expected one of: {', '.join(LAYOUTS)}")
    return LAYOUTS[name]


def dataset_info(name: str) -> DatasetInfo:
    return layout(name).info
