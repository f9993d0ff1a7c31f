"""Where each dataset keeps its pairs: one small entry per dataset, as its authors distribute it.

An entry says, per split, which folders under the user's root may hold the pairs (first found
wins), which (input, target) folder names are accepted there (case-insensitive), and how a target
file is named from its input (same stem; the hazy prefix before the first `_` for RESIDE and
Haze4K; `blur_1` -> `gt_1` for RealBlur scenes; `rain-1` -> `norain-1` for the original Rain100
folders). Layout facts come from PROTOCOLS.md section 1 and the authors' READMEs.
"""

from __future__ import annotations

from dataclasses import dataclass, field

TASKS = ("dehaze", "desnow", "motion_deblur", "defocus_deblur", "derain")
PROTOCOLS = ("dehaze_pooled", "matlab_rgb3d", "realblur_aligned", "matlab_y", "dpdd_float")


@dataclass(frozen=True)
class DatasetInfo:
    name: str
    task: str
    splits: tuple[str, ...]
    default_split: str
    protocol: str
    groups: tuple[str, ...]
    layout_help: str


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


_HAZE_SIDES = (("hazy", "gt"), ("hazy", "clear"), ("IN", "GT"), ("input", "target"))
_PAIR_SIDES = (("input", "target"), ("blur", "sharp"), ("blur", "gt"))
_RAIN_SIDES = (("input", "target"), ("rain", "norain"), ("rainy", "gt"))
_SNOW_SIDES = (("Snow", "Gt"), ("synthetic", "gt"), ("Syn", "gt"), ("input", "target"))

_RESIDE_HELP = """{root}/            (or {root}/train/)
  hazy/1_1_0.90179.png      GT named by the prefix before the first '_'
  gt/1.png                  (folder may be named gt, GT or clear; extension may differ)"""
_SOTS_HELP = """{root}/            (SOTS '{kind}' folder, or IRNeXt's reside-{kind}/test)
  hazy/{example}
  gt/{gt}                   GT named by the prefix before the first '_'"""
_FLAT_HELP = """{root}/
  {inp}/NAME.png
  {tgt}/NAME.png            same file names on both sides"""
_SPLIT_HELP = """{root}/
  {splits}/
    {inp}/NAME.png
    {tgt}/NAME.png          same file names on both sides"""
_GOPRO_HELP = """{root}/            (GOPRO_Large)
  train|test/GOPRxxxx_xx_xx/blur/000047.png    (the no-gamma 'blur' folder)
  train|test/GOPRxxxx_xx_xx/sharp/000047.png
or flattened: train|test/{input|blur}/NAME.png and {target|sharp}/NAME.png"""
_HIDE_HELP = """{root}/            (HIDE_dataset)
  test/test-close-ups/NAME.png  and  test/test-long-shot/NAME.png
  GT/NAME.png               GT by file name
or flattened: test/input/NAME.png and test/target/NAME.png (or input/, target/ at the root)"""
_REALBLUR_HELP = """{root}/            (the RealBlur folder)
  RealBlur_{v}_test_list.txt     lines 'GT_PATH BLUR_PATH' relative to the root
  RealBlur-{v}_ECC_IMCORR_centroid_itensity_ref/scene001/blur/blur_1.png, gt/gt_1.png
or flattened: test/input/NAME.png and test/target/NAME.png (or input/, target/ at the root)"""
_DPDD_HELP = """{root}/            (dd_dp_dataset_png)
  train_c|val_c|test_c/source/NAME.png     16-bit PNG (Restormer's copy: inputC/)
  train_c|val_c|test_c/target/NAME.png
indoor/outdoor groups need group_lists={'indoor': FILE, 'outdoor': FILE}: a text file of names
or 1-based indices, or a .npy of 1-based indices into the natural-sorted test list (Restormer's
indoor_labels.npy / outdoor_labels.npy)"""
_SNOW_HELP = """{root}/
  train2500|test2000/Snow/NAME.png   (IRNeXt/FocalNet subsets; also Train|Test for CSD)
  train2500|test2000/Gt/NAME.png     (or synthetic/gt, Syn/gt, input/target)"""
_SNOW100K_HELP = """{root}/
  train2500/ or all/ (Snow100K-training)       with Snow|synthetic/ and Gt|gt/
  test2000/ or Snow100K-L|M|S/ (Snow100K-testset) with Snow|synthetic/ and Gt|gt/"""


def _info(name, task, splits, protocol, help_text, *, default=None, groups=()) -> DatasetInfo:
    return DatasetInfo(
        name=name,
        task=task,
        splits=tuple(splits),
        default_split=default or splits[-1],
        protocol=protocol,
        groups=tuple(groups),
        layout_help=help_text.replace("{root}", "ROOT"),
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


def _build() -> dict[str, Layout]:
    layouts: list[Layout] = [
        Layout(
            info=_info("its-train", "dehaze", ("train",), "dehaze_pooled", _RESIDE_HELP),
            bases={"train": ("train", ".", "ITS_v2")},
            sides=_HAZE_SIDES,
            target_rule="prefix",
            many_to_one=True,
        ),
        Layout(
            info=_info("ots-train", "dehaze", ("train",), "dehaze_pooled", _RESIDE_HELP),
            bases={"train": ("train", ".", "OTS")},
            sides=_HAZE_SIDES,
            target_rule="prefix",
            many_to_one=True,
        ),
        Layout(
            info=_info(
                "sots-indoor",
                "dehaze",
                ("test",),
                "dehaze_pooled",
                _SOTS_HELP.format(
                    root="{root}",
                    kind="indoor",
                    example="1400_1.png",
                    gt="1400.png    640x480: its 10-pixel border is cropped",
                ),
            ),
            bases={"test": (".", "nyuhaze500", "test", "indoor", "indoor/nyuhaze500")},
            sides=_HAZE_SIDES,
            target_rule="prefix",
            many_to_one=True,
            gt_border_px=10,
        ),
        Layout(
            info=_info(
                "sots-outdoor",
                "dehaze",
                ("test",),
                "dehaze_pooled",
                _SOTS_HELP.format(
                    root="{root}", kind="outdoor", example="0001_0.8_0.2.jpg", gt="0001.png"
                ),
            ),
            bases={"test": (".", "test", "outdoor")},
            sides=_HAZE_SIDES,
            target_rule="prefix",
            many_to_one=True,
        ),
        Layout(
            info=_info(
                "haze4k",
                "dehaze",
                ("train", "test"),
                "dehaze_pooled",
                _SPLIT_HELP.format(root="{root}", splits="train|test", inp="IN", tgt="GT")
                + "\n  (IN/<n>_<a>_<beta>.png -> GT/<n>.png)",
            ),
            bases={"train": ("train",), "test": ("test",)},
            sides=_HAZE_SIDES,
            target_rule="prefix",
            many_to_one=True,
        ),
        Layout(
            info=_info("gopro", "motion_deblur", ("train", "test"), "matlab_rgb3d", _GOPRO_HELP),
            bases={"train": ("train",), "test": ("test", ".")},
            sides=_PAIR_SIDES,
        ),
        Layout(
            info=_info("hide", "motion_deblur", ("train", "test"), "matlab_rgb3d", _HIDE_HELP),
            bases={"train": ("train",), "test": ("test", ".")},
            sides=(("input", "target"),),
            finder="hide",
        ),
    ]
    for variant in ("J", "R"):
        layouts.append(
            Layout(
                info=_info(
                    f"realblur-{variant.lower()}",
                    "motion_deblur",
                    ("train", "test"),
                    "realblur_aligned",
                    _REALBLUR_HELP.replace("{v}", variant),
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
                _DPDD_HELP,
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
    layouts.append(
        Layout(
            info=_info(
                "rain13k",
                "derain",
                ("train",),
                "matlab_y",
                _FLAT_HELP.format(root="{root}", inp="input", tgt="target")
                + "\n  ({root} is train/Rain13K of the MPRNet/Restormer distribution)",
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
                help_text=_FLAT_HELP.format(root="{root}", inp="input", tgt="target")
                + f"\n  ({{root}} is test/{folder}; original rain/norain-N naming also read)",
                children=(folder, f"test/{folder}"),
            )
        )
    for name in ("csd", "srrs"):
        layouts.append(
            Layout(
                info=_info(name, "desnow", ("train", "test"), "dehaze_pooled", _SNOW_HELP),
                bases={
                    "train": ("train2500", "Train", "train"),
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
                ("train", "test", "test-s", "test-m", "test-l"),
                "dehaze_pooled",
                _SNOW100K_HELP,
                default="test",
            ),
            bases={
                "train": ("train2500", "all", "train", "Snow100K-training/all"),
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
                ("train", "test"),
                sides=(("input", "target"),),
                help_text=_SPLIT_HELP.format(
                    root="{root}", splits="train|test", inp="input", tgt="target"
                )
                + "\n  manifest.json   (written by `irnext data synth`)",
            )
        )
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
