"""The recipes of `irnext.training.recipes`, one entry per (model, task) whose authors published
one, read from the official repositories at the commits named (docs/recipes.md).

Augmentation: BasicSR's `use_flip` + `use_rot` and Restormer's `random_augmentation` both draw
one of the 8 flips/rotations of the square uniformly, as `flip=True, rotate=True` does here.
"""

from __future__ import annotations

from irnext.training.recipes import Recipe, Source

_IRNEXT = ("c-yn/IRNeXt", "cbb33e0")
_CONVIR = ("c-yn/ConvIR", "05dcbff")
_RESTORMER = ("swz30/Restormer", "df766d5")
_NAFNET = ("megvii-research/NAFNet", "2b4af71")
_FFTFORMER = ("kkkls/FFTformer", "01306b5")
_UFORMER = ("ZhendongWang6/Uformer", "65fc970")

# The IRNeXt/ConvIR training scripts share one loop: Adam(0.9, 0.999), warm-up of
# `warmup_epochs` (hard-coded in train.py) then cosine to 1e-6 per epoch, 256 px crops with
# horizontal flips, L1 + 0.1 FFT-L1 on the three output scales. Their values live in
# irnext.training.config.RECIPES (config stays empty here).
_IRNEXT_WORDS = {
    "optimizer": "Adam, betas (0.9, 0.999), no weight decay",
    "schedule": "linear warm-up then cosine to 1e-6, stepped per epoch",
    "crop": "256 x 256 random crop",
    "loss": "L1 + 0.1 FFT-L1 on each of the three output scales",
    "augmentation": "horizontal flip",
    "ema": "none",
}


def _irnext(name, task, status, where, train_lines, main_lines, batch, extra, **kw) -> Recipe:
    repo, commit = _IRNEXT if where.startswith("Dehazing") else _CONVIR
    sources = (
        Source(repo, commit, f"{where}/main.py", main_lines),
        Source(repo, commit, f"{where}/train.py", train_lines),
    )
    words = {**_IRNEXT_WORDS, **extra}
    return Recipe(name, "irnext", task, status, sources, 1, batch, words, {}, **kw)


_CONVIR_REASON = (
    "the IRNeXt release holds dehazing code only; ConvIR (the same authors' TPAMI 2024 "
    "extension) trains this task with the release's loop, loss and optimiser"
)

_BASICSR_CLIP = "gradient-norm clip 0.01 (basicsr/models/image_restoration_model.py)"


# Restormer's progressive stages (Options/*.yml:27-30): steps, crop, and the global batch of
# its 8 GPUs (mini_batch_sizes 8/5/4/2/1/1 per GPU, as train.py:252 logs it).
_RESTORMER_STAGES = tuple(
    (steps, crop, 8 * per_gpu)
    for steps, crop, per_gpu in zip(
        (92_000, 64_000, 48_000, 36_000, 36_000, 24_000),
        (128, 160, 192, 256, 320, 384),
        (8, 5, 4, 2, 1, 1),
        strict=True,
    )
)


def _restormer(task: str, name: str, option: str) -> Recipe:
    return Recipe(
        name=name,
        model="restormer",
        task=task,
        status="official",
        sources=(
            Source(*_RESTORMER, option, "24-102"),
            Source(*_RESTORMER, "basicsr/models/image_restoration_model.py", "166-167"),
            Source(*_RESTORMER, "basicsr/train.py", "212-274"),
            Source(*_RESTORMER, "basicsr/models/lr_scheduler.py", "115-134, 186-231"),
        ),
        gpus=8,
        global_batch=64,
        published={
            "optimizer": "AdamW lr 3e-4, weight decay 1e-4, betas (0.9, 0.999)",
            "schedule": "cosine restarts per iteration: periods 92k + 208k, eta_min 3e-4 then "
            "1e-6 (3e-4 held for 92k, then cosine to 1e-6), no warm-up",
            "length": "300k iterations",
            "crop": "progressive 128/160/192/256/320/384 px with per-GPU batches 8/5/4/2/1/1 "
            "for 92k/64k/48k/36k/36k/24k iterations (8 GPUs)",
            "loss": "L1",
            "augmentation": "flips and 90-degree rotations",
            "clip": _BASICSR_CLIP,
            "ema": "none",
        },
        config={
            "optimizer": "adamw",
            "lr": 3e-4,
            "weight_decay": 1e-4,
            "betas": (0.9, 0.999),
            "warmup_epochs": 0,
            "iterations": 300_000,
            "patch_size": 128,
            "progressive": _RESTORMER_STAGES,
            "restart_periods": (92_000, 208_000),
            "restart_weights": (1.0, 1.0),
            "restart_eta_mins": (3e-4, 1e-6),
            "fft_weight": 0.0,
            "all_scales": False,
            "rotate": True,
            "grad_clip": 0.01,
        },
        notes=(
            "train.py reads 384 px crops at batch 8 per GPU and cuts each stage's batch and "
            "crop out of them at random; the suite crops each stage's size from the frame",
        ),
    )


def _megvii_cosine(name, model, sources, *, iterations, crop, published, config) -> Recipe:
    """NAFNet's and FFTformer's shared GoPro setting (FFTformer trains with NAFNet's BasicSR
    fork): 8 GPUs x 8, AdamW 1e-3 (0.9, 0.9) with weight decay 1e-3, cosine to 1e-7 stepped
    per iteration, flips and rotations, clip 0.01, single-output supervision."""
    words = {
        "optimizer": "AdamW lr 1e-3, weight decay 1e-3, betas (0.9, 0.9)",
        "schedule": f"cosine to 1e-7 over {iterations // 1000}k iterations, stepped per "
        "iteration, no warm-up",
        "length": f"{iterations // 1000}k iterations",
        "crop": f"{crop} x {crop}",
        "augmentation": "flips and 90-degree rotations",
        "clip": _BASICSR_CLIP,
        "ema": "none",
    }
    values = {
        "optimizer": "adamw",
        "lr": 1e-3,
        "lr_min": 1e-7,
        "weight_decay": 1e-3,
        "betas": (0.9, 0.9),
        "warmup_epochs": 0,
        "patch_size": crop,
        "all_scales": False,
        "rotate": True,
        "grad_clip": 0.01,
        "iterations": iterations,
    }
    return Recipe(
        name, model, "motion-blur", "official", sources, 8, 64, words | published, values | config
    )


OWN: dict[str, Recipe] = {
    "its": _irnext(
        "its", "haze", "official", "Dehazing/ITS", "16-20, 85", "45-48", 4, {"length": "300 epochs"}
    ),
    "gopro": _irnext(
        "gopro",
        "motion-blur",
        "inferred",
        "Motion_Deblurring",
        "15-20, 84",
        "44-47",
        4,
        {"length": "3000 epochs"},
        reasoning=_CONVIR_REASON,
    ),
    "rain13k": _irnext(
        "rain13k",
        "rain",
        "inferred",
        "Image_deraining",
        "17-22, 88",
        "40-43",
        4,
        {"length": "300 epochs"},
        reasoning=_CONVIR_REASON,
    ),
    "desnow": _irnext(
        "desnow",
        "snow",
        "inferred",
        "Image_desnowing",
        "17-22, 88",
        "44-47",
        8,
        {
            "length": "2000 epochs",
            "data": "the train2500 subset of the dataset trained on "
            "(Image_desnowing/data/data_load.py:9)",
        },
        reasoning=_CONVIR_REASON,
    ),
    "restormer-gopro": _restormer(
        "motion-blur", "restormer-gopro", "Motion_Deblurring/Options/Deblurring_Restormer.yml"
    ),
    "restormer-rain13k": _restormer(
        "rain", "restormer-rain13k", "Deraining/Options/Deraining_Restormer.yml"
    ),
    "restormer-dpdd": _restormer(
        "defocus",
        "restormer-dpdd",
        "Defocus_Deblurring/Options/DefocusDeblur_Single_8bit_Restormer.yml",
    ),
    "nafnet-gopro": _megvii_cosine(
        "nafnet-gopro",
        "nafnet-w64",
        (
            Source(*_NAFNET, "options/train/GoPro/NAFNet-width64.yml", "25-78"),
            Source(*_NAFNET, "basicsr/models/image_restoration_model.py", "228-230"),
            Source(*_NAFNET, "basicsr/models/losses/losses.py", "90-120"),
        ),
        iterations=400_000,
        crop=256,
        published={
            "crop": "256 x 256 (from 512 px crops of the GoPro frames)",
            "loss": "PSNR loss",
            "test": "NAFNetLocal (TLC), metrics on the saved 8-bit images",
        },
        config={"pixel_loss": "psnr", "fft_weight": 0.0},
    ),
    "fftformer-gopro": _megvii_cosine(
        "fftformer-gopro",
        "fftformer",
        (
            Source(*_FFTFORMER, "options/train/GoPro.yml", "18-80"),
            Source(*_FFTFORMER, "basicsr/models/image_restoration_model.py", "232-234"),
            Source(*_FFTFORMER, "basicsr/models/losses/losses.py", "85-115"),
        ),
        iterations=300_000,
        crop=128,
        published={"loss": "L1 + 0.1 FFT-L1 (real and imaginary parts stacked)"},
        config={"fft_weight": 0.1},
    ),
    "uformer-gopro": Recipe(
        name="uformer-gopro",
        model="uformer-b",
        task="motion-blur",
        status="official",
        sources=(
            Source(*_UFORMER, "script/train_motiondeblur.sh", "1-3"),
            Source(*_UFORMER, "options.py", "10-57"),
            Source(*_UFORMER, "train/train_motiondeblur.py", "72-124, 167-186"),
            Source(*_UFORMER, "losses.py", "41-52"),
        ),
        gpus=2,
        global_batch=8,
        published={
            "optimizer": "AdamW lr 2e-4, weight decay 0.02, betas (0.9, 0.999)",
            "schedule": "warm-up 3 epochs then cosine to 1e-6, stepped per epoch",
            "length": "3000 epochs",
            "crop": "256 x 256",
            "loss": "Charbonnier, eps 1e-3",
            "augmentation": "one of 8 flips/rotations",
            "clip": "none",
            "ema": "none",
            "precision": "fp16 autocast with loss scaling (timm NativeScaler)",
        },
        config={
            "optimizer": "adamw",
            "epochs": 3000,
            "lr": 2e-4,
            "lr_min": 1e-6,
            "weight_decay": 0.02,
            "betas": (0.9, 0.999),
            "warmup_epochs": 3,
            "patch_size": 256,
            "pixel_loss": "charbonnier",
            "fft_weight": 0.0,
            "all_scales": False,
            "rotate": True,
            "grad_clip": None,
            "precision": "fp16",  # CUDA only: refused by name on other devices
        },
        notes=("DataParallel on 2 GPUs: batch 8 is the global batch",),
    ),
}
