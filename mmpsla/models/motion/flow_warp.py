"""Flow-guided bilinear warping of feature maps (DFF / FGFA)."""

import torch
import torch.nn.functional as F
from torch import Tensor

_PADDING_MODES = ('border', 'zeros', 'reflection')


def resize_flow(flow: Tensor, size: tuple) -> Tensor:
    """Resize a flow field to ``size`` and rescale its values to the new grid.

    Flow values are displacements measured in pixels of the flow's own grid, so
    resizing from width ``W_f`` to ``W`` multiplies the horizontal component by
    ``W / W_f`` (and the vertical one by ``H / H_f``).

    Args:
        flow (Tensor): (N, 2, H_f, W_f); channel 0 is the horizontal (x)
            displacement, channel 1 the vertical (y) one.
        size (tuple[int, int]): target (H, W).

    Returns:
        Tensor: (N, 2, H, W) flow in pixels of the new grid.
    """
    height, width = int(size[0]), int(size[1])
    if tuple(flow.shape[-2:]) == (height, width):
        return flow
    scale = flow.new_tensor([width / flow.shape[-1], height / flow.shape[-2]])
    flow = F.interpolate(flow, size=(height, width), mode='bilinear', align_corners=False)
    return flow * scale.view(1, 2, 1, 1)


def flow_warp_feats(feats: Tensor, flow: Tensor, padding_mode: str = 'border') -> Tensor:
    """Warp ``feats`` with a dense flow field (bilinear, differentiable).

    ``out[n, :, y, x] = feats[n, :, y + flow_y(y, x), x + flow_x(y, x)]``, sampled
    bilinearly (``torch.nn.functional.grid_sample`` with ``align_corners=True`` and the
    exact pixel-centre normalisation, so a zero flow is the identity and an integer
    flow is an exact shift). The flow is first resized to the feature map's size and
    its values rescaled to feature pixels with :func:`resize_flow`.

    This is the backward warping DFF and FGFA use: the flow lives on the *target*
    frame's grid and points into the *reference* frame whose features are warped.

    Border handling: samples that fall outside the feature map take, with the
    default ``padding_mode='border'`` (as DFF/FGFA/mmtrack), the value of the
    nearest border pixel; ``'zeros'`` gives zeros there, ``'reflection'`` mirrors.

    Args:
        feats (Tensor): (N, C, H, W) features of the reference frame(s).
        flow (Tensor): (N, 2, H_f, W_f) flow from the target frame to the reference
            frame, in pixels of its own grid (channel 0 = x, channel 1 = y). Any
            resolution; it is resized to (H, W).
        padding_mode (str): ``'border'`` (default), ``'zeros'`` or ``'reflection'``.

    Returns:
        Tensor: (N, C, H, W) warped features.
    """
    if feats.dim() != 4:
        raise ValueError(f'feats must be 4D (N, C, H, W), got shape {tuple(feats.shape)}')
    if flow.dim() != 4 or flow.size(1) != 2:
        raise ValueError(f'flow must have shape (N, 2, H, W), got {tuple(flow.shape)}')
    if flow.size(0) != feats.size(0):
        raise ValueError(f'flow batch ({flow.size(0)}) must equal feats batch ({feats.size(0)})')
    if padding_mode not in _PADDING_MODES:
        raise ValueError(f'padding_mode must be one of {_PADDING_MODES}, got {padding_mode!r}')
    height, width = feats.shape[-2:]
    flow = resize_flow(flow.to(feats.dtype), (height, width))
    ys = torch.arange(height, dtype=feats.dtype, device=feats.device)
    xs = torch.arange(width, dtype=feats.dtype, device=feats.device)
    grid_y, grid_x = torch.meshgrid(ys, xs, indexing='ij')
    pos_x = grid_x + flow[:, 0]
    pos_y = grid_y + flow[:, 1]
    # align_corners=True: -1 and +1 are the centres of the first and last pixels.
    norm_x = pos_x * (2.0 / max(width - 1, 1)) - 1.0
    norm_y = pos_y * (2.0 / max(height - 1, 1)) - 1.0
    grid = torch.stack((norm_x, norm_y), dim=-1)
    return F.grid_sample(
        feats, grid, mode='bilinear', padding_mode=padding_mode, align_corners=True
    )
