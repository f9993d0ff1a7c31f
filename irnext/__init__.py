"""irnext-bench: reproduce, ablate and compare IRNeXt (Cui et al., ICML 2023)."""

__version__ = "0.1.0"
