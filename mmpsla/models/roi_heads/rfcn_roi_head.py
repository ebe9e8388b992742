"""R-FCN head (Dai et al. 2016): the paper's task network N_t after the RPN.

:class:`RFCNBBoxHead` holds two 1x1 convolutions on the (stride-16) feature map, producing
position-sensitive score maps for classification (``k*k*(num_classes+1)`` channels) and
class-agnostic box regression (``k*k*4`` channels). Every RoI is pooled from them by
:class:`PSRoIAlign` to ``k x k`` bins, one channel group per bin, and the bins vote (are
averaged) into ``cls_score (N, num_classes+1)`` and ``bbox_pred (N, 4)``. There are no
per-RoI fully connected layers: the head has ``(in_channels + 1) * k*k*(num_classes+1+4)``
parameters (1,757,875 for 1024 channels, k = 7 and 30 classes), against ~52M for the
two-FC Faster R-CNN head.

:class:`RFCNRoIHead` is mmdet's ``StandardRoIHead`` without an RoI extractor: its
``_bbox_forward`` hands the single-level feature map and the RoIs to the bbox head, so
mmdet's sampling, ``bbox_loss`` / ``loss_and_target``, ``predict_bbox`` / ``predict_by_feat``,
bbox coder and loss configs work unchanged.
"""

from typing import Optional, Sequence, Tuple

import torch
from mmdet.models.roi_heads import StandardRoIHead
from mmdet.models.roi_heads.bbox_heads import BBoxHead
from mmdet.registry import MODELS
from mmdet.utils import ConfigType, OptConfigType, OptMultiConfig
from torch import Tensor, nn

from ..dense_heads.slice_rpn_head import check_feat_slice
from .deform_ps_roi_pool import DeformPSRoIPool
from .ps_roi_align import PSRoIAlign


@MODELS.register_module()
class RFCNBBoxHead(BBoxHead):
    """Position-sensitive score maps + PS-RoIAlign + average voting.

    Args:
        in_channels (int): Channels of the feature map. Defaults to 1024.
        roi_feat_size (int): ``k``, the bin grid of the position-sensitive maps. Defaults to 7.
        num_classes (int): Foreground classes. Defaults to 30.
        featmap_stride (int): Stride of the feature map (RoIs are in image pixels).
            Defaults to 16.
        sampling_ratio (int): Sampling points per bin side of PS-RoIAlign (0: adaptive).
            Defaults to 2.
        reg_class_agnostic (bool): One box per RoI (R-FCN, DFF, FGFA) instead of one per
            class. Defaults to True.
        feat_slice (Sequence[int], optional): ``(start, end)`` channels of the feature map
            the head reads; None reads all. DFF: ``(512, 1024)``, the RPN reads the other
            half (:class:`SliceRPNHead`).
        deformable (bool): Deformable PS-RoI pooling (Deformable R-FCN): two more 1x1 convs
            predict normalised per-bin offsets (``k*k*2*(num_classes+1)`` channels for the
            class maps, one offset per class; ``k*k*2`` for the box maps), pooled per RoI
            without offsets, then used to shift the bins of :class:`DeformPSRoIPool`.
            Defaults to False (PS-RoIAlign).
        sample_per_part (int): Samples per bin side of the deformable pooling. Defaults to 4
            (published).
        trans_std (float): Offset scale of the deformable pooling. Defaults to 0.1
            (published).
        init_std (float): Std of the normal initialisation of the score-map convs.
            Defaults to 0.01 (published, on an ImageNet-pretrained N_f).
        hidden_channels (int, optional): A 1x1 conv + ReLU of this width between the
            feature and the score maps (Deformable-ConvNets' ``conv_new_1``); None (DFF)
            reads the feature directly.
        vote (str): How the ``k*k`` bins vote: ``'mean'`` (published: average pooling)
            or ``'sum'``. Both give the same detector up to a factor ``k*k`` in the score
            maps' weights, but not the same training: with the mean, the scores and the
            gradient into the feature are ``1/(k*k)`` of a linear layer's on the same
            samples, and under Adam (steps of about ``lr`` per weight whatever the
            gradient's size) the scores move ``k*k`` times slower. ``'sum'`` is what
            trains from scratch on the toy set (README, Model zoo). Defaults to 'mean'.
        bias (str): Where the class and box biases live: ``'bin'`` (published: the score
            maps' convolutions carry one bias per channel, so each output's bias is the
            vote of its ``k*k`` bin biases) or ``'roi'`` (convolutions without bias and one
            learnable bias per output added after the vote: the head is then exactly a
            linear layer on the position-sensitive samples). With ``vote='sum'`` and
            ``'bin'``, Adam moves each output's bias ``k*k`` times faster than a linear
            layer's; ``'roi'`` removes that. Defaults to 'bin'.
        init_cfg (dict | list[dict], optional): Defaults to normal (std 0.01, bias 0)
            initialisation of both convolutions.
        **kwargs: Other :class:`BBoxHead` arguments (``bbox_coder``, ``loss_cls``,
            ``loss_bbox``, ``reg_decoded_bbox``, ``predict_box_type``).
    """

    def __init__(
        self,
        in_channels: int = 1024,
        roi_feat_size: int = 7,
        num_classes: int = 30,
        featmap_stride: int = 16,
        sampling_ratio: int = 2,
        reg_class_agnostic: bool = True,
        feat_slice: Optional[Sequence[int]] = None,
        deformable: bool = False,
        sample_per_part: int = 4,
        trans_std: float = 0.1,
        init_std: float = 0.01,
        hidden_channels: Optional[int] = None,
        vote: str = 'mean',
        bias: str = 'bin',
        init_cfg: OptMultiConfig = None,
        **kwargs,
    ) -> None:
        for key in ('with_avg_pool', 'with_cls', 'with_reg'):
            if key in kwargs:
                raise ValueError(f'RFCNBBoxHead does not take {key}')
        if not isinstance(roi_feat_size, int) or roi_feat_size < 1:
            raise ValueError(f'roi_feat_size must be a positive int, got {roi_feat_size!r}')
        if in_channels < 1:
            raise ValueError(f'in_channels must be positive, got {in_channels}')
        if featmap_stride <= 0:
            raise ValueError(f'featmap_stride must be positive, got {featmap_stride}')
        if vote not in ('mean', 'sum'):
            raise ValueError(f"vote must be 'mean' or 'sum', got {vote!r}")
        if bias not in ('bin', 'roi'):
            raise ValueError(f"bias must be 'bin' or 'roi', got {bias!r}")
        # with_avg_pool keeps BBoxHead's throw-away fc_cls / fc_reg small; they are removed.
        super().__init__(
            with_avg_pool=True,
            roi_feat_size=roi_feat_size,
            in_channels=in_channels,
            num_classes=num_classes,
            reg_class_agnostic=reg_class_agnostic,
            init_cfg=init_cfg,
            **kwargs,
        )
        del self.avg_pool, self.fc_cls, self.fc_reg
        self.with_avg_pool = False
        self.featmap_stride = featmap_stride
        self.vote = vote
        k = roi_feat_size
        if self.custom_cls_channels:
            self.cls_channels = self.loss_cls.get_cls_channels(self.num_classes)
        else:
            self.cls_channels = num_classes + 1
        box_dim = self.bbox_coder.encode_size
        self.reg_channels = box_dim if reg_class_agnostic else box_dim * num_classes
        self.feat_slice = check_feat_slice(feat_slice, in_channels, 'feat_slice')
        head_in = self.feat_slice[1] - self.feat_slice[0]
        self.hidden = None
        if hidden_channels is not None:
            self.hidden = nn.Sequential(nn.Conv2d(head_in, hidden_channels, 1), nn.ReLU(True))
            head_in = hidden_channels
        per_bin_bias = bias == 'bin'
        self.conv_cls = nn.Conv2d(head_in, k * k * self.cls_channels, 1, bias=per_bin_bias)
        self.conv_reg = nn.Conv2d(head_in, k * k * self.reg_channels, 1, bias=per_bin_bias)
        self.cls_bias = self.reg_bias = None
        if not per_bin_bias:  # one bias per output, after the vote (zero-initialised)
            self.cls_bias = nn.Parameter(torch.zeros(self.cls_channels))
            self.reg_bias = nn.Parameter(torch.zeros(self.reg_channels))
        self.deformable = deformable
        if deformable:
            self.conv_cls_offset = nn.Conv2d(head_in, k * k * 2 * self.cls_channels, 1)
            self.conv_reg_offset = nn.Conv2d(head_in, k * k * 2, 1)
            self.ps_roi_pool = DeformPSRoIPool(
                k, 1.0 / featmap_stride, k, sample_per_part, trans_std
            )
        else:
            self.ps_roi_align = PSRoIAlign(k, 1.0 / featmap_stride, sampling_ratio)
        if init_cfg is None:
            self.init_cfg = [
                dict(type='Normal', std=init_std, bias=0, override=dict(name='conv_cls')),
                dict(type='Normal', std=init_std, bias=0, override=dict(name='conv_reg')),
            ]
            if hidden_channels is not None:
                self.init_cfg.append(
                    dict(type='Kaiming', nonlinearity='relu', override=dict(name='hidden'))
                )
            if deformable:  # offsets start at zero (published)
                for name in ('conv_cls_offset', 'conv_reg_offset'):
                    self.init_cfg.append(dict(type='Constant', val=0, override=dict(name=name)))

    def forward(self, x: Tensor, rois: Tensor) -> Tuple[Tensor, Tensor]:
        """Score maps, PS-RoIAlign and voting.

        Args:
            x (Tensor): ``(B, in_channels, H, W)`` feature map at ``featmap_stride``.
            rois (Tensor): ``(N, 5)`` RoIs ``(batch_idx, x1, y1, x2, y2)`` in image pixels.

        Returns:
            tuple[Tensor, Tensor]: ``cls_score (N, num_classes + 1)`` and ``bbox_pred
            (N, 4)`` (``(N, 4 * num_classes)`` when not class-agnostic).
        """
        if not isinstance(x, Tensor) or x.dim() != 4:
            raise ValueError('RFCNBBoxHead takes one (B, C, H, W) feature map')
        if x.size(1) != self.in_channels:
            raise ValueError(
                f'feature map has {x.size(1)} channels, the head expects {self.in_channels}'
            )
        x = x[:, self.feat_slice[0] : self.feat_slice[1]]
        if self.hidden is not None:
            x = self.hidden(x)
        if self.deformable:
            cls_offset = self.ps_roi_pool(self.conv_cls_offset(x), rois)
            reg_offset = self.ps_roi_pool(self.conv_reg_offset(x), rois)
            cls_bins = self.ps_roi_pool(self.conv_cls(x), rois, cls_offset)
            reg_bins = self.ps_roi_pool(self.conv_reg(x), rois, reg_offset)
        else:
            cls_bins = self.ps_roi_align(self.conv_cls(x), rois)
            reg_bins = self.ps_roi_align(self.conv_reg(x), rois)
        if self.vote == 'sum':
            cls_score, bbox_pred = cls_bins.sum(dim=(2, 3)), reg_bins.sum(dim=(2, 3))
        else:
            cls_score, bbox_pred = cls_bins.mean(dim=(2, 3)), reg_bins.mean(dim=(2, 3))
        if self.cls_bias is not None:
            cls_score, bbox_pred = cls_score + self.cls_bias, bbox_pred + self.reg_bias
        return cls_score, bbox_pred


@MODELS.register_module()
class RFCNRoIHead(StandardRoIHead):
    """``StandardRoIHead`` for a head that pools RoIs itself (:class:`RFCNBBoxHead`).

    It takes a single-level feature tuple ``(feat,)`` (stride ``bbox_head.featmap_stride``)
    and has no RoI extractor, shared head or mask head.

    Args:
        bbox_head (dict): Config of the bbox head (e.g. ``RFCNBBoxHead``), whose
            ``forward(feat, rois)`` returns ``(cls_score, bbox_pred)``.
        train_cfg (dict, optional): R-CNN train config (assigner, sampler).
        test_cfg (dict, optional): R-CNN test config (score_thr, nms, max_per_img).
        init_cfg (dict | list[dict], optional): Initialisation config.
        bbox_roi_extractor, shared_head, mask_roi_extractor, mask_head: Must be None.
    """

    def __init__(
        self,
        bbox_head: ConfigType,
        train_cfg: OptConfigType = None,
        test_cfg: OptConfigType = None,
        init_cfg: OptMultiConfig = None,
        bbox_roi_extractor: OptConfigType = None,
        shared_head: OptConfigType = None,
        mask_roi_extractor: OptConfigType = None,
        mask_head: OptConfigType = None,
    ) -> None:
        unsupported = dict(
            bbox_roi_extractor=bbox_roi_extractor,
            shared_head=shared_head,
            mask_roi_extractor=mask_roi_extractor,
            mask_head=mask_head,
        )
        given = [k for k, v in unsupported.items() if v is not None]
        if given:
            raise ValueError(f'RFCNRoIHead pools RoIs in its bbox head; got {given}')
        if bbox_head is None:
            raise ValueError('RFCNRoIHead needs a bbox_head')
        super().__init__(
            bbox_head=bbox_head, train_cfg=train_cfg, test_cfg=test_cfg, init_cfg=init_cfg
        )

    def init_bbox_head(self, bbox_roi_extractor: Optional[ConfigType], bbox_head: ConfigType):
        """Build the bbox head only (``bbox_roi_extractor`` stays None)."""
        self.bbox_roi_extractor = None
        self.bbox_head = MODELS.build(bbox_head)

    def _bbox_forward(self, x: Sequence[Tensor], rois: Tensor) -> dict:
        """Box head forward used by ``bbox_loss``, ``predict_bbox`` and ``forward``.

        Args:
            x (tuple[Tensor]): ``(feat,)``, one ``(B, C, H, W)`` feature map.
            rois (Tensor): ``(N, 5)`` RoIs ``(batch_idx, x1, y1, x2, y2)``.

        Returns:
            dict[str, Tensor]: ``cls_score (N, num_classes + 1)``, ``bbox_pred (N, 4)`` and
            ``bbox_feats`` (None: there are no per-RoI features).
        """
        if not isinstance(x, (tuple, list)) or len(x) != 1:
            levels = len(x) if isinstance(x, (tuple, list)) else type(x).__name__
            raise ValueError(f'RFCNRoIHead takes a single-level feature tuple, got {levels}')
        cls_score, bbox_pred = self.bbox_head(x[0], rois)
        return dict(cls_score=cls_score, bbox_pred=bbox_pred, bbox_feats=None)
