"""IRNeXt network: sizes against the official counts, every switch, every named variant."""

from __future__ import annotations

import pytest
import torch
from torch.utils.flop_counter import FlopCounterMode

import irnext
from irnext.models.blocks import DynamicFilter, apply_dynamic_filter
from tests.reference_irnext import dynamic_filter_unfold

# docs/network.md#sizes: counted by running the official model.
OFFICIAL_PARAMS = {2: 3_905_161, 4: 5_455_241, 8: 8_555_401, 14: 13_205_641, 16: 14_755_721}

SMALL = dict(num_res=2, width=8, filter_groups=2)
# One entry per ablation axis (docs/network.md#ablation-axes), each away from the paper value.
SWITCHES = {
    "no_msm": dict(msm=False),
    "two_pools": dict(pool_sizes=(4, 2)),
    "one_pool": dict(pool_sizes=(2,)),
    "no_lam": dict(lam=False),
    "no_freq_mod": dict(frequency_modulation=False),
    "no_freq_mod_skip": dict(frequency_modulation=False, lam_skip=True),
    "groups_4": dict(filter_groups=4),
    "kernel_5": dict(filter_kernel=5),
    "single_input": dict(multi_input=False),
    "single_output": dict(multi_output=False),
    "bilinear_inputs": dict(input_downsample="bilinear"),
    "area_inputs": dict(input_downsample="area"),
    "bilinear_up": dict(upsample="bilinear"),
    "num_res_1": dict(num_res=1),
    "width_16": dict(width=16),
    "bare": dict(msm=False, multi_input=False, multi_output=False, upsample="bilinear"),
}


def n_params(model: torch.nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def macs(model: torch.nn.Module, size: int = 64) -> float:
    with FlopCounterMode(display=False) as counter:
        model(torch.rand(2, 3, size, size))
    return counter.get_total_flops() / 2


@pytest.mark.parametrize("num_res", sorted(OFFICIAL_PARAMS))
def test_parameter_counts_match_official(num_res):
    assert n_params(irnext.IRNeXt(num_res=num_res)) == OFFICIAL_PARAMS[num_res]


def test_default_is_the_dehazing_release():
    model = irnext.IRNeXt()
    assert model.config["num_res"] == 4 and model.config["width"] == 32
    assert model.config["pool_sizes"] == (8, 4, 2) and model.config["filter_groups"] == 8
    assert (model.size_multiple, model.min_size) == (32, 64)
    assert n_params(irnext.create_model("irnext-dehaze")) == OFFICIAL_PARAMS[4]
    assert n_params(irnext.create_model("irnext-motion-deblur")) == OFFICIAL_PARAMS[14]


def test_constructor_is_keyword_only():
    with pytest.raises(TypeError):
        irnext.IRNeXt(4)  # type: ignore[misc]


# At initialisation lambda_l = 0 multiplies the LAM's whole low-pass path (and W's gradient is
# lambda_l * (low - mean)), so exactly these parameters of each modulated LAM get zero gradient.
GATED_AT_INIT = ("freq_weight", "kernel_head.weight", "norm.weight", "norm.bias")


def _gated_lam_parameters(model: torch.nn.Module) -> set[str]:
    return {
        f"{name}.{suffix}"
        for name, module in model.named_modules()
        if isinstance(module, DynamicFilter) and module.frequency_modulation
        for suffix in GATED_AT_INIT
    }


def _zero_gradients(model: torch.nn.Module, x: torch.Tensor) -> tuple[list, set[str]]:
    model.zero_grad(set_to_none=True)
    outputs = model(x)
    sum(out.square().mean() for out in outputs).backward()
    missing = [name for name, p in model.named_parameters() if p.grad is None]
    assert not missing, f"parameters without gradient: {missing}"
    return outputs, {n for n, p in model.named_parameters() if not p.grad.any()}


def check_trains(model: torch.nn.Module, height: int, width: int) -> list[torch.Tensor]:
    """Forward, backward: every parameter gets a non-zero gradient, except (at initialisation)
    the LAM parameters that lambda_l = 0 gates; once lambda_l and W move, those too."""
    model.train()
    x = torch.rand(2, 3, height, width)
    outputs, zero = _zero_gradients(model, x)
    assert outputs[-1].shape == x.shape
    for out in outputs:
        assert torch.isfinite(out).all()
    assert zero == _gated_lam_parameters(model)
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, DynamicFilter) and module.frequency_modulation:
                module.lambda_low.fill_(0.5)
                module.freq_weight.fill_(0.1)
    assert _zero_gradients(model, x)[1] == set()
    return outputs


def test_seventy_two_parameters_of_the_release_are_gated_at_initialisation():
    # 6 stages x 3 MSM branches = 18 LAMs, 4 gated parameters each.
    assert len(_gated_lam_parameters(irnext.IRNeXt())) == 72


@pytest.mark.parametrize("switch", sorted(SWITCHES))
def test_every_switch_builds_runs_and_trains(switch):
    model = irnext.IRNeXt(**{**SMALL, **SWITCHES[switch]})
    # Non-square sides, each a different multiple of what the configuration needs.
    m = model.size_multiple
    outputs = check_trains(model, max(model.min_size, 2 * m), max(model.min_size, 2 * m) + m)
    expected_scales = 3 if model.config["multi_output"] else 1
    assert len(outputs) == expected_scales
    assert [o.shape[-1] for o in outputs] == sorted(o.shape[-1] for o in outputs)


AXES = {
    "msm": [True, False],
    "pool_sizes": [(8, 4, 2), (4, 2), (2,)],
    "lam": [True, False],
    "frequency_modulation": [True, False],
    "filter_groups": [1, 2, 8],
    "filter_kernel": [3, 5],
    "multi_input": [True, False],
    "multi_output": [True, False],
    "input_downsample": ["nearest", "bilinear", "area"],
    "upsample": ["transposed", "bilinear"],
}


@pytest.mark.parametrize("seed", range(8))
def test_random_combinations_of_switches_are_valid(seed):
    # Switches are independent: any combination builds, runs at its own size and trains.
    rng = torch.Generator().manual_seed(seed)
    kwargs = {k: v[int(torch.randint(len(v), (1,), generator=rng))] for k, v in AXES.items()}
    model = irnext.IRNeXt(**{**SMALL, **kwargs})
    check_trains(model, model.min_size, model.min_size + model.size_multiple)


@pytest.mark.parametrize(
    "switch", ["no_msm", "no_lam", "no_freq_mod", "single_input", "single_output", "one_pool"]
)
def test_removed_component_removes_parameters_and_compute(switch):
    paper = irnext.IRNeXt(**SMALL)
    ablated = irnext.IRNeXt(**{**SMALL, **SWITCHES[switch]})
    assert n_params(ablated) < n_params(paper)
    if switch != "no_freq_mod":  # the modulation is element-wise: no MACs either way
        assert macs(ablated) < macs(paper)


def _lam_by_hand(lam: DynamicFilter, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The LAM formula written out: kernel tanh(BN(conv1x1(GAP x))) per group, applied to the
    reflect-padded x by explicit sums over the k x k window; returns (low, channel mean)."""
    n, c, h, w = x.shape
    k, groups = lam.kernel_size, lam.groups
    mean = x.mean(dim=(2, 3), keepdim=True)
    predicted = torch.einsum("oc,nc->no", lam.kernel_head.weight[:, :, 0, 0], mean[:, :, 0, 0])
    bn = lam.norm  # eval mode: running statistics
    normed = (predicted - bn.running_mean) / torch.sqrt(bn.running_var + bn.eps)
    kernels = torch.tanh(normed * bn.weight + bn.bias).view(n, groups, k, k)
    padded = torch.nn.functional.pad(x, [k // 2] * 4, mode="reflect")
    low = torch.zeros_like(x)
    for channel in range(c):
        kernel = kernels[:, channel // (c // groups)]
        for i in range(k):
            for j in range(k):
                low[:, channel] += (
                    kernel[:, i, j, None, None] * padded[:, channel, i : i + h, j : j + w]
                )
    return low, mean


def test_lam_formula_against_a_hand_computation():
    torch.manual_seed(0)
    x = torch.randn(2, 4, 5, 6)
    lam = DynamicFilter(4, groups=2).eval()
    with torch.no_grad():
        lam.norm.running_mean.uniform_(-0.1, 0.1)
        lam.norm.running_var.uniform_(0.5, 2.0)
        for param in (lam.freq_weight, lam.lambda_low, lam.lambda_high):
            param.uniform_(-1.0, 1.0)
        low, mean = _lam_by_hand(lam, x)
        w, l_low, l_high = (
            lam.freq_weight,
            lam.lambda_low[:, None, None],
            lam.lambda_high[:, None, None],
        )
        expected = l_low * (low * (1 + w) - w * mean) + (1 + l_high) * x
        torch.testing.assert_close(lam(x), expected, atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("skip", [False, True])
def test_both_definitions_without_frequency_modulation(skip):
    torch.manual_seed(0)
    x = torch.randn(2, 4, 5, 6)
    lam = DynamicFilter(4, groups=2, frequency_modulation=False, skip=skip).eval()
    assert not any("lambda" in n or "freq" in n for n, _ in lam.named_parameters())
    with torch.no_grad():
        low, _ = _lam_by_hand(lam, x)
        # skip: the modulated formula with W = 0, lambda_l = 1, lambda_h = 0 fixed.
        expected = 1.0 * (low * (1 + 0.0) - 0.0) + (1 + 0.0) * x if skip else low
        torch.testing.assert_close(lam(x), expected, atol=1e-5, rtol=1e-5)


def test_lam_skip_is_a_network_switch_without_parameters():
    plain = irnext.IRNeXt(**SMALL, frequency_modulation=False)
    skip = irnext.IRNeXt(**SMALL, frequency_modulation=False, lam_skip=True)
    assert skip.config["lam_skip"] is True and n_params(skip) == n_params(plain)
    lams = [m for m in skip.modules() if isinstance(m, DynamicFilter)]
    assert lams and all(m.skip for m in lams)
    with pytest.raises(ValueError, match="frequency_modulation=False"):
        irnext.IRNeXt(**SMALL, lam_skip=True)


def test_lam_starts_as_identity():
    lam = DynamicFilter(16, groups=4).eval()
    x = torch.randn(2, 16, 8, 8)
    assert torch.equal(lam(x), x)


@pytest.mark.parametrize(("channels", "groups", "kernel"), [(32, 8, 3), (64, 8, 3), (16, 4, 5)])
def test_grouped_conv_lam_equals_unfold(channels, groups, kernel):
    gen = torch.Generator().manual_seed(channels)
    x = torch.randn(3, channels, 12, 17, generator=gen)
    kernels = torch.randn(3, groups * kernel**2, generator=gen)
    reference = dynamic_filter_unfold(x, kernels, groups)
    fast = apply_dynamic_filter(x, kernels.view(3, groups, kernel, kernel))
    torch.testing.assert_close(fast, reference, atol=1e-5, rtol=1e-5)


IRNEXT_NAMES = [n for n in irnext.list_models() if irnext.model_entry(n).architecture == "IRNeXt"]


def test_every_task_has_a_named_variant():
    tasks = {irnext.model_entry(n).task for n in IRNEXT_NAMES}
    assert tasks == {"dehaze", "desnow", "motion_deblur", "defocus_deblur", "derain", "test"}


@pytest.mark.parametrize("name", IRNEXT_NAMES)
def test_named_irnext_variants(name):
    model = irnext.create_model(name)
    assert model.irnext_spec["name"] == name
    size = model.min_size
    check_trains(model, size, size + model.size_multiple)
    entry = irnext.model_entry(name)
    assert entry.source
    if name in ("irnext-desnow", "irnext-motion-deblur", "irnext-defocus-deblur", "irnext-derain"):
        assert entry.assumption  # inferred configurations are marked as such


def test_create_model_overrides_and_unknown_name():
    model = irnext.create_model("irnext-dehaze", lam=False)
    assert model.config["lam"] is False and model.config["num_res"] == 4
    with pytest.raises(ValueError, match="unknown model 'irnext-nope'"):
        irnext.create_model("irnext-nope")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (dict(pool_sizes=(2, 4)), "decreasing"),
        (dict(width=30), "multiple of 4"),
        (dict(filter_groups=5), "must divide"),
        (dict(filter_kernel=4), "odd"),
        (dict(upsample="pixelshuffle"), "upsample"),
        (dict(num_res=0), "num_res"),
    ],
)
def test_invalid_configurations_are_refused(kwargs, message):
    with pytest.raises(ValueError, match=message):
        irnext.IRNeXt(**kwargs)


def test_bad_keywords_and_values_of_a_named_model_are_input_errors():
    from irnext.errors import InputError

    with pytest.raises(InputError, match="architecture 'IRNeXt' with .*bogus"):
        irnext.create_model("irnext-test", bogus=1)
    with pytest.raises(InputError, match="architecture 'IRNeXt'"):
        irnext.create_model("irnext-test", filter_groups=0)
