"""irnext-bench: reproduce, ablate and compare IRNeXt (Cui et al., ICML 2023).

model = irnext.create_model("irnext-dehaze")          # or irnext.IRNeXt(**switches)
model = irnext.load_official_checkpoint("ITS.pkl")     # the authors' released weights
clean = irnext.restore(model, hazy)                    # any H x W, padded and cropped back

The names below are imported on first use (PEP 562), so `import irnext` (and the command
line's `--help`) does not load torch.
"""

from __future__ import annotations

from irnext._lazy import lazy_getattr
from irnext._version import __version__

# public name -> the module that defines it
_EXPORTS = {
    "IRNeXt": "irnext.models.irnext",
    "create_model": "irnext.models.registry",
    "list_models": "irnext.models.registry",
    "load_baseline_weights": "irnext.models.baselines",
    "load_checkpoint": "irnext.checkpoint",
    "load_official_checkpoint": "irnext.models.official",
    "model_entry": "irnext.models.registry",
    "restore": "irnext.inference",
    "save_checkpoint": "irnext.checkpoint",
}

__all__ = ["__version__", *sorted(_EXPORTS)]


__getattr__ = lazy_getattr(__name__, _EXPORTS)


def __dir__() -> list[str]:
    return sorted({*globals(), *_EXPORTS})
