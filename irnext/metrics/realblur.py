"""RealBlur's aligned metrics (Rim, Lee, Won, Cho, ECCV 2020, evaluation code).

RealBlur's ground truth is captured by a second camera, so prediction and target differ by a
small geometric and photometric misalignment that would dominate PSNR. The official evaluation
(copied by MPRNet, Restormer, Stripformer, FFTformer) therefore:
1. scales the prediction z by sum(x z) / sum(z z) (x the target) to match intensities;
2. finds a homography H with OpenCV's ECC (Evangelidis & Psarakis, TPAMI 2008) on the grey
   images (0.299 R + 0.587 G + 0.114 B), 5x5 binomial pre-smoothing, 100 iterations;
3. warps the prediction by H (bicubic, symmetric border) and a validity mask (nearest);
4. scores masked PSNR (squared error summed over the mask / mask sum) and the mean of the
   Gaussian-SSIM map over the mask (valid positions only), both on masked images, peak 1.

This is a re-implementation in torch (batched, float64) of that procedure, not OpenCV:
bilinear sampling here is exact where OpenCV's uses 1/32-pixel tables, and the warp returned
is the best-correlated of the 100 iterates rather than the last (see the NOTE in
`ecc_homography`), so aligned scores can differ from the official script in the last digits.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from irnext.metrics.functional import K1, K2, gaussian_kernel_1d

ECC_ITERATIONS = 100
_BINOMIAL_5 = torch.tensor([1.0, 4.0, 6.0, 4.0, 1.0]) / 16  # cv2.GaussianBlur 5x5, sigma 0
_GREY = torch.tensor([0.299, 0.587, 0.114])  # cv2.cvtColor RGB2GRAY


def _separable(images: torch.Tensor, taps: torch.Tensor) -> torch.Tensor:
    """'Same' filtering of N x 1 x H x W with OpenCV's default reflect-101 border."""
    r = taps.numel() // 2
    taps = taps.to(images)
    out = F.conv2d(F.pad(images, (0, 0, r, r), mode="reflect"), taps.view(1, 1, -1, 1))
    return F.conv2d(F.pad(out, (r, r, 0, 0), mode="reflect"), taps.view(1, 1, 1, -1))


def _pixel_grid(n: int, height: int, width: int, like: torch.Tensor) -> torch.Tensor:
    ys, xs = torch.meshgrid(
        torch.arange(height, dtype=like.dtype, device=like.device),
        torch.arange(width, dtype=like.dtype, device=like.device),
        indexing="ij",
    )
    return torch.stack([xs, ys, torch.ones_like(xs)]).expand(n, 3, height, width)


def _map(homography: torch.Tensor, grid: torch.Tensor) -> torch.Tensor:
    """Source coordinates H (x, y, 1) of every target pixel (WARP_INVERSE_MAP): N x 3 x H x W."""
    return torch.einsum("nij,njhw->nihw", homography, grid)


def _sample(images, coords, *, mode: str, padding: str = "zeros") -> torch.Tensor:
    """images at pixel coordinates coords[:, :2] / coords[:, 2] (align_corners convention)."""
    height, width = images.shape[-2:]
    u, v = coords[:, 0] / coords[:, 2], coords[:, 1] / coords[:, 2]
    grid = torch.stack([2 * u / (width - 1) - 1, 2 * v / (height - 1) - 1], dim=-1)
    return F.grid_sample(
        images, grid.to(images.dtype), mode=mode, padding_mode=padding, align_corners=True
    )


def _inside(coords: torch.Tensor, height: int, width: int) -> torch.Tensor:
    """Nearest-neighbour validity of the warped pixels (where round(H x) is in the image)."""
    u, v = coords[:, 0] / coords[:, 2], coords[:, 1] / coords[:, 2]
    inside = (u >= -0.5) & (u < width - 0.5) & (v >= -0.5) & (v < height - 0.5)
    return inside.unsqueeze(1).to(coords.dtype)


def _jacobian(grad_x, grad_y, homography, grid) -> torch.Tensor:
    """d warped-image / d (the 8 free entries of H), N x 8 x H x W (OpenCV's ECC Jacobian)."""
    mapped = _map(homography, grid)
    den = mapped[:, 2:3]
    gx, gy = grad_x / den, grad_y / den
    hat = -(gx * mapped[:, 0:1] + gy * mapped[:, 1:2]) / den
    x, y = grid[:, 0:1], grid[:, 1:2]
    return torch.cat([gx * x, gx * y, gx, gy * x, gy * y, gy, hat * x, hat * y], dim=1)


def ecc_homography(template: torch.Tensor, image: torch.Tensor) -> torch.Tensor:
    """Homographies H (N x 3 x 3) maximising the enhanced correlation between `template` and
    image(H x), both N x 1 x H x W grey images, by ECC's Gauss-Newton iterations from H = I."""
    n, _, height, width = template.shape
    template = _separable(template.double(), _BINOMIAL_5)
    image = _separable(image.double(), _BINOMIAL_5)
    central = torch.tensor([-0.5, 0.0, 0.5], dtype=torch.float64, device=image.device)
    grad_x = F.conv2d(F.pad(image, (1, 1, 0, 0), mode="reflect"), central.view(1, 1, 1, 3))
    grad_y = F.conv2d(F.pad(image, (0, 0, 1, 1), mode="reflect"), central.view(1, 1, 3, 1))
    grid = _pixel_grid(n, height, width, template)
    homography = torch.eye(3, dtype=torch.float64, device=image.device).repeat(n, 1, 1)
    best, best_rho = homography.clone(), torch.full_like(homography[:, 0, 0], -2.0)
    for iteration in range(ECC_ITERATIONS + 1):
        coords = _map(homography, grid)
        mask = _inside(coords, height, width)
        warped, gx, gy = _sample(
            torch.cat([image, grad_x, grad_y], 1), coords, mode="bilinear"
        ).split(1, dim=1)
        jacobian = _jacobian(gx * mask, gy * mask, homography, grid)
        delta, rho = _ecc_step(template, warped * mask, jacobian, mask)
        # NOTE: OpenCV returns the last iterate; we return the best-correlated one. They agree
        # whenever the iteration converges, but on small images (under ~100 pixels a side) the
        # Gauss-Newton step with central-difference gradients can grow from rounding noise
        # even at the exact optimum, and the last iterate would then drift away from it.
        better = rho > best_rho
        best[better], best_rho[better] = homography[better], rho[better]
        stalled = delta.isnan().any(dim=1)
        if iteration == 0 and stalled.any():
            raise ValueError("ECC alignment failed: prediction and target look uncorrelated")
        if iteration < ECC_ITERATIONS:  # a stalled image keeps its best warp from here on
            homography = torch.where(
                stalled.view(n, 1, 1), best, homography + F.pad(delta, (0, 1)).view(n, 3, 3)
            )
    return best


def _ecc_step(template, warped, jacobian, mask) -> tuple[torch.Tensor, torch.Tensor]:
    """One ECC update of the 8 parameters (N x 8; Evangelidis & Psarakis 2008) and the
    correlation coefficient rho of the current warp (N)."""
    count = mask.sum(dim=(1, 2, 3), keepdim=True)
    template_zm = (template - (template * mask).sum((1, 2, 3), keepdim=True) / count) * mask
    warped_zm = (warped - (warped * mask).sum((1, 2, 3), keepdim=True) / count) * mask
    hessian = torch.einsum("nkhw,nlhw->nkl", jacobian, jacobian)
    hessian_inv = torch.linalg.inv(hessian)

    def project(t: torch.Tensor) -> torch.Tensor:
        return torch.einsum("nkhw,nhw->nk", jacobian, t[:, 0])

    image_proj, template_proj = project(warped_zm), project(template_zm)
    image_proj_h = torch.einsum("nkl,nl->nk", hessian_inv, image_proj)
    correlation = (template_zm * warped_zm).sum(dim=(1, 2, 3))
    lambda_num = warped_zm.pow(2).sum(dim=(1, 2, 3)) - (image_proj * image_proj_h).sum(1)
    lambda_den = correlation - (template_proj * image_proj_h).sum(1)
    # OpenCV stops with an error where lambda_den <= 0 (the step would minimise correlation);
    # here such images get a NaN step and the caller decides.
    lambda_ = torch.where(lambda_den > 0, lambda_num / lambda_den, torch.nan)
    error = lambda_.view(-1, 1, 1, 1) * template_zm - warped_zm
    norms = warped_zm.pow(2).sum(dim=(1, 2, 3)) * template_zm.pow(2).sum(dim=(1, 2, 3))
    rho = correlation / norms.sqrt()
    return torch.einsum("nkl,nl->nk", hessian_inv, project(error)), rho


def _warp_bicubic_symmetric(images: torch.Tensor, coords: torch.Tensor) -> torch.Tensor:
    """cv2.warpPerspective INTER_CUBIC + BORDER_REFLECT: pad symmetrically, then sample."""
    pad = 4
    padded = torch.cat([images[..., :pad].flip(-1), images, images[..., -pad:].flip(-1)], -1)
    padded = torch.cat([padded[..., :pad, :].flip(-2), padded, padded[..., -pad:, :].flip(-2)], -2)
    shifted = coords.clone()
    shifted[:, 0] += pad * coords[:, 2]
    shifted[:, 1] += pad * coords[:, 2]
    return _sample(padded, shifted, mode="bicubic", padding="border")


def align(prediction: torch.Tensor, target: torch.Tensor):
    """(aligned prediction, target, mask), all masked, N x 3 x H x W float64."""
    x, z = target.double(), prediction.double()
    scale = (x * z).sum(dim=(1, 2, 3)) / (z * z).sum(dim=(1, 2, 3)).clamp_min(1e-12)
    z = z * scale.view(-1, 1, 1, 1)
    grey = _GREY.to(x).view(1, 3, 1, 1)
    homography = ecc_homography((x * grey).sum(1, keepdim=True), (z * grey).sum(1, keepdim=True))
    n, _, height, width = x.shape
    coords = _map(homography, _pixel_grid(n, height, width, x))
    mask = _inside(coords, height, width).expand_as(x)
    return _warp_bicubic_symmetric(z, coords) * mask, x * mask, mask


def masked_scores(aligned, target, mask) -> dict[str, torch.Tensor]:
    """RealBlur's masked PSNR (peak 1) and masked Gaussian SSIM of already masked images."""
    error = (aligned - target).pow(2).sum(dim=(1, 2, 3)) / mask.sum(dim=(1, 2, 3))
    taps = gaussian_kernel_1d(size=11, sigma=1.5, device=aligned.device)
    channels = aligned.shape[1]

    def filt(t: torch.Tensor) -> torch.Tensor:
        rows = taps.view(1, 1, -1, 1).expand(channels, 1, -1, 1)
        cols = taps.view(1, 1, 1, -1).expand(channels, 1, 1, -1)
        return F.conv2d(F.conv2d(t, rows, groups=channels), cols, groups=channels)

    c1, c2 = K1**2, K2**2
    mu_x, mu_y = filt(aligned), filt(target)
    var_x, var_y = filt(aligned**2) - mu_x**2, filt(target**2) - mu_y**2
    cov = filt(aligned * target) - mu_x * mu_y
    ssim_map = ((2 * mu_x * mu_y + c1) * (2 * cov + c2)) / (
        (mu_x**2 + mu_y**2 + c1) * (var_x + var_y + c2)
    )
    inner = mask[..., 5:-5, 5:-5]
    per_channel = (ssim_map * inner).sum(dim=(2, 3)) / inner.sum(dim=(2, 3))
    return {"psnr_db": 10 * torch.log10(1.0 / error), "ssim": per_channel.mean(dim=1)}
