"""FlowNet-S, the flow network of DFF and FGFA."""

from typing import List, Optional, Sequence, Union

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmdet.registry import MODELS
from mmengine.model import BaseModule
from torch import Tensor

from .flow_warp import resize_flow


class _ConvAct(nn.Module):
    """A conv (or transposed conv) optionally followed by LeakyReLU(0.1).

    The sub-module is called ``conv`` so that state dicts keep the key layout of
    mmtrack's FlowNetSimple (``conv1.0.conv.weight``, ``deconv5.conv.weight``, ...) and
    its converted DFF/FGFA FlowNet weights load into this module unchanged.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int,
        stride: int,
        bias: bool,
        transposed: bool = False,
        act: bool = True,
    ) -> None:
        super().__init__()
        conv_cls = nn.ConvTranspose2d if transposed else nn.Conv2d
        padding = 1 if transposed else (kernel_size - 1) // 2
        self.conv = conv_cls(
            in_channels, out_channels, kernel_size, stride=stride, padding=padding, bias=bias
        )
        self.activate = nn.LeakyReLU(0.1, inplace=True) if act else nn.Identity()

    def forward(self, x: Tensor) -> Tensor:
        return self.activate(self.conv(x))


def _crop_like(x: Tensor, ref: Tensor) -> Tensor:
    """Crop the (bottom, right) excess of ``x`` (N, C, H', W') to ``ref``'s H, W."""
    return x[:, :, : ref.size(2), : ref.size(3)]


@MODELS.register_module()
class FlowNetSimple(BaseModule):
    """FlowNet-S (Dosovitskiy et al., ICCV 2015) as used by DFF and FGFA.

    Encoder (stride-2 convs, LeakyReLU 0.1): conv1 (7x7, 64), conv2 (5x5, 128),
    conv3 (5x5, 256) + conv3_1, conv4 (3x3, 512) + conv4_1, conv5 (3x3, 512) + conv5_1,
    conv6 (3x3, 1024) + conv6_1. Decoder (refinement): at each scale s = 6..3 a flow
    ``predict_flow{s}`` is predicted, up-sampled (``upsample_flow{s-1}``, 4x4
    transposed conv) and concatenated with ``deconv{s-1}`` of the features and the
    encoder's skip connection; ``predict_flow`` gives the final flow at stride 4 of the
    network's input. With the standard widths (``width_mult=1``) the module has
    38,675,536 parameters (the DFF paper rounds FlowNet to 37M).

    Input: the two frames concatenated on channels, ``[current (target), reference]``.
    Output: the flow on the current frame's grid that points into the reference frame
    (``current(p) ~ reference(p + flow(p))``), i.e. what :func:`flow_warp_feats` needs to
    warp the reference frame's features onto the current frame.

    Images: the detector's data pre-processor has already normalised them
    (``(img - mean) / std``). When ``preprocess_cfg`` (with ``mean``/``std``) is given,
    the normalisation is undone and FlowNet's own one applied
    (``img / flow_img_norm_std - flow_img_norm_mean``, i.e. [0, 1] pixels minus the
    Flying Chairs mean, as mmtrack does); the padding outside ``img_shape`` is zeroed.
    Then the pair is resized by ``img_scale_factor`` (DFF/FGFA use 0.5).

    Args:
        img_scale_factor (float): resize factor of the frames before FlowNet
            (0.5 in DFF/FGFA). Defaults to 0.5.
        out_indices (Sequence[int]): encoder stages whose outputs the decoder uses.
            Only the standard ``(2, 3, 4, 5, 6)`` is supported (kept for mmtrack
            config compatibility).
        flow_scale_factor (float): multiplies the raw prediction to obtain pixels
            (FlowNet was trained on flow divided by 20 and predicts at 1/4 of it:
            DFF uses 5.0). Defaults to 5.0.
        flow_img_norm_std (Sequence[float]): FlowNet's input std, per RGB channel.
        flow_img_norm_mean (Sequence[float]): FlowNet's input mean (after dividing
            by ``flow_img_norm_std``).
        width_mult (float): multiplies every channel width. ``1.0`` is FlowNet-S; the
            toy configs use a small value (e.g. 0.125) so the baselines train on a CPU
            in minutes -- a documented toy-only deviation. Defaults to 1.0.
        init_cfg (dict | list[dict], optional): mmengine initialisation config (e.g.
            ``dict(type='Pretrained', checkpoint=...)``).
    """

    _ENC_CHANNELS = (64, 128, 256, 512, 512, 1024)
    _ENC_KERNELS = (7, 5, 5, 3, 3, 3)
    _ENC_NUM_CONVS = (1, 1, 2, 2, 2, 2)

    def __init__(
        self,
        img_scale_factor: float = 0.5,
        out_indices: Sequence[int] = (2, 3, 4, 5, 6),
        flow_scale_factor: float = 5.0,
        flow_img_norm_std: Sequence[float] = (255.0, 255.0, 255.0),
        flow_img_norm_mean: Sequence[float] = (0.411, 0.432, 0.450),
        width_mult: float = 1.0,
        init_cfg: Optional[Union[dict, List[dict]]] = None,
    ) -> None:
        super().__init__(init_cfg)
        if not img_scale_factor > 0:
            raise ValueError(f'img_scale_factor must be > 0, got {img_scale_factor}')
        if not width_mult > 0:
            raise ValueError(f'width_mult must be > 0, got {width_mult}')
        if tuple(out_indices) != (2, 3, 4, 5, 6):
            raise ValueError(f'out_indices must be (2, 3, 4, 5, 6), got {tuple(out_indices)}')
        if len(flow_img_norm_std) != 3 or len(flow_img_norm_mean) != 3:
            raise ValueError('flow_img_norm_std and flow_img_norm_mean need 3 values each')
        self.img_scale_factor = float(img_scale_factor)
        self.out_indices = tuple(out_indices)
        self.flow_scale_factor = float(flow_scale_factor)
        self.width_mult = float(width_mult)
        self.register_buffer(
            'flow_img_norm_std',
            torch.tensor(flow_img_norm_std).repeat(2).view(1, 6, 1, 1),
            persistent=False,
        )
        self.register_buffer(
            'flow_img_norm_mean',
            torch.tensor(flow_img_norm_mean).repeat(2).view(1, 6, 1, 1),
            persistent=False,
        )

        widths = [max(1, round(c * width_mult)) for c in self._ENC_CHANNELS]
        in_channels = 6
        for stage, (planes, kernel, num_convs) in enumerate(
            zip(widths, self._ENC_KERNELS, self._ENC_NUM_CONVS), 1
        ):
            layers = nn.ModuleList([_ConvAct(in_channels, planes, kernel, 2, bias=True)])
            for _ in range(1, num_convs):
                layers.append(_ConvAct(planes, planes, 3, 1, bias=True))
            self.add_module(f'conv{stage}', layers)
            in_channels = planes

        # Decoder, coarse to fine: scale s = 6, 5, 4, 3 predicts a flow from the
        # concatenated features and refines towards the skip of stage s - 1.
        concat_channels = widths[5]
        for scale in range(6, 2, -1):
            deconv_out = max(1, widths[5] // 2 ** (7 - scale))
            self.add_module(
                f'deconv{scale - 1}',
                _ConvAct(concat_channels, deconv_out, 4, 2, bias=False, transposed=True),
            )
            self.add_module(
                f'predict_flow{scale}', _ConvAct(concat_channels, 2, 3, 1, bias=False, act=False)
            )
            self.add_module(
                f'upsample_flow{scale - 1}',
                _ConvAct(2, 2, 4, 2, bias=False, transposed=True, act=False),
            )
            concat_channels = widths[scale - 2] + deconv_out + 2
        self.predict_flow = _ConvAct(concat_channels, 2, 3, 1, bias=False, act=False)

    def extra_repr(self) -> str:
        return (
            f'img_scale_factor={self.img_scale_factor}, '
            f'flow_scale_factor={self.flow_scale_factor}, width_mult={self.width_mult}'
        )

    def prepare_imgs(
        self,
        imgs: Tensor,
        metainfo: Optional[Union[dict, Sequence[dict]]] = None,
        preprocess_cfg: Optional[dict] = None,
    ) -> Tensor:
        """Turn detector-normalised frame pairs into FlowNet's input.

        Args:
            imgs (Tensor): (N, 6, H, W) ``[current, reference]`` pairs, normalised by
                the data pre-processor.
            metainfo (dict | Sequence[dict], optional): image meta (one for all pairs
                or one per pair); its ``img_shape`` (h, w) marks the valid region, the
                padding beyond it is zeroed.
            preprocess_cfg (dict, optional): the pre-processor config with ``mean`` and
                ``std`` (3 values each). ``None`` feeds ``imgs`` as they are.

        Returns:
            Tensor: (N, 6, round(H * s), round(W * s)) FlowNet input,
            s = ``img_scale_factor``.
        """
        if imgs.dim() != 4 or imgs.size(1) != 6:
            raise ValueError(f'imgs must have shape (N, 6, H, W), got {tuple(imgs.shape)}')
        x = imgs
        if preprocess_cfg is not None and preprocess_cfg.get('mean') is not None:
            mean = torch.as_tensor(preprocess_cfg['mean'], dtype=x.dtype, device=x.device)
            std = preprocess_cfg.get('std')
            std = torch.ones_like(mean) if std is None else torch.as_tensor(std).to(mean)
            x = x * std.reshape(-1).repeat(2).view(1, 6, 1, 1) + mean.reshape(-1).repeat(2).view(
                1, 6, 1, 1
            )
            x = x / self.flow_img_norm_std.to(x) - self.flow_img_norm_mean.to(x)
        if metainfo is not None:
            metas = [metainfo] * len(x) if isinstance(metainfo, dict) else list(metainfo)
            if len(metas) not in (1, len(x)):
                raise ValueError(f'metainfo has {len(metas)} entries for {len(x)} image pairs')
            metas = metas * len(x) if len(metas) == 1 else metas
            if any('img_shape' in m for m in metas):
                mask = torch.zeros_like(x[:, :1])
                for i, meta in enumerate(metas):
                    h, w = meta.get('img_shape', x.shape[-2:])[:2]
                    mask[i, :, :h, :w] = 1.0
                x = x * mask
        if self.img_scale_factor != 1.0:
            x = F.interpolate(
                x, scale_factor=self.img_scale_factor, mode='bilinear', align_corners=False
            )
        return x

    def forward(
        self,
        imgs: Tensor,
        metainfo: Optional[Union[dict, Sequence[dict]]] = None,
        preprocess_cfg: Optional[dict] = None,
    ) -> Tensor:
        """Compute the flow of each ``[current, reference]`` pair.

        Args:
            imgs (Tensor): (N, 6, H, W) normalised frame pairs (see :meth:`prepare_imgs`).
            metainfo (dict | Sequence[dict], optional): image meta with ``img_shape``.
            preprocess_cfg (dict, optional): data pre-processor config (``mean``, ``std``).

        Returns:
            Tensor: (N, 2, ceil(H / 4), ceil(W / 4)) flow at stride 4 of the input,
            in pixels of that stride-4 grid (x then y), as :func:`flow_warp_feats`
            expects. DFF's scaling is applied: raw prediction x ``flow_scale_factor``
            (pixels of the prediction grid), then rescaled to the output grid.
        """
        x = self.prepare_imgs(imgs, metainfo, preprocess_cfg)
        skips = []
        for stage in range(1, 7):
            for layer in getattr(self, f'conv{stage}'):
                x = layer(x)
            skips.append(x)
        concat = skips[5]
        for scale in range(6, 2, -1):
            skip = skips[scale - 2]
            flow = getattr(self, f'predict_flow{scale}')(concat)
            up_flow = _crop_like(getattr(self, f'upsample_flow{scale - 1}')(flow), skip)
            up_feat = _crop_like(getattr(self, f'deconv{scale - 1}')(concat), skip)
            concat = torch.cat((skip, up_feat, up_flow), dim=1)
        flow = self.predict_flow(concat) * self.flow_scale_factor
        out_size = (-(-imgs.shape[-2] // 4), -(-imgs.shape[-1] // 4))
        return resize_flow(flow, out_size)
