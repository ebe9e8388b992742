"""Base of the video detectors configured like mmtrack 1.x's (``detector=dict(...)``)."""

import copy
from typing import Dict, List, Optional, Sequence, Tuple, Union

import torch
from mmdet.registry import MODELS
from mmdet.structures import DetDataSample, TrackDataSample
from mmengine.config import ConfigDict
from torch import Tensor

from .base_video_detector import BaseVideoDetector

_DETECTOR_TYPES = (None, 'FasterRCNN', 'mmdet.FasterRCNN')
_DETECTOR_KEYS = {'backbone', 'neck', 'rpn_head', 'roi_head', 'train_cfg', 'test_cfg'}
#: mmtrack 1.x names the per-frame detector's parameters ``detector.*``.
MMTRACK_DETECTOR_PREFIX = 'detector.'


def merge_cfg(base: Optional[dict], extra: Optional[dict]) -> Optional[dict]:
    """``extra`` merged recursively over ``base`` (either may be None); never mutates.

    Nested dicts are merged key by key (``dict(rcnn=dict(sampler=dict(num=512)))`` only
    changes the sampler's ``num``); any other value replaces the base's.
    """
    if base is None and extra is None:
        return None
    merged = copy.deepcopy(dict(base or {}))
    for key, value in dict(extra or {}).items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = merge_cfg(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return ConfigDict(merged)  # attribute access, as mmdet's heads expect


def split_detector_cfg(detector: dict) -> dict:
    """Validate an mmtrack-style Faster R-CNN ``detector`` config; return its parts."""
    detector = copy.deepcopy(dict(detector))
    det_type = detector.pop('type', None)
    detector.pop('_scope_', None)
    if det_type not in _DETECTOR_TYPES:
        raise ValueError(
            f'detector must be a Faster R-CNN config (type "FasterRCNN"), got {det_type!r}'
        )
    unknown = set(detector) - _DETECTOR_KEYS
    missing = {'backbone', 'rpn_head', 'roi_head'} - set(detector)
    if unknown or missing:
        raise ValueError(
            f'detector config: unknown keys {sorted(unknown)}, missing keys '
            f'{sorted(missing)} (expected backbone, [neck], rpn_head, roi_head, '
            'train_cfg, test_cfg)'
        )
    return detector


class MMTrackStyleVideoDetector(BaseVideoDetector):
    """A video detector built from mmtrack 1.x's config fields (DFF, FGFA, SELSA).

    ``detector`` is an mmtrack-style Faster R-CNN config (``type='FasterRCNN'``
    optional): its ``backbone`` (+ optional ``neck``) is built as the feature network N_f
    (:meth:`extract_feat` -> one stride-16 map) and its ``rpn_head``/``roi_head``/
    ``train_cfg``/``test_cfg`` become :class:`BaseVideoDetector`'s task head N_t -- the
    same head PSLA and the frame baseline use, so the comparison is like for like. The
    top-level ``train_cfg``/``test_cfg`` are merged recursively over the detector's ones.
    Parameters are named ``backbone.*``, ``neck.*``, ``rpn_head.*``, ``roi_head.*``;
    checkpoints written by mmtrack 1.x (``detector.backbone.*``, ...) load too: the
    ``detector.`` prefix is dropped on load.

    Args:
        detector (dict): Faster R-CNN parts: ``backbone``, optional ``neck``,
            ``rpn_head``, ``roi_head``, ``train_cfg``, ``test_cfg``.
        train_cfg (dict, optional): merged recursively over ``detector['train_cfg']``.
        test_cfg (dict, optional): merged recursively over ``detector['test_cfg']``.
        frozen_modules (str | Sequence[str], optional): attribute paths of modules to
            freeze (no gradients, kept in eval mode), e.g. ``'motion'``; mmtrack's
            ``'detector.backbone'`` spelling is accepted and means ``'backbone'``.
        data_preprocessor (dict, optional): ``TrackDataPreprocessor`` config.
        init_cfg (dict | list[dict], optional): initialisation config.
    """

    def __init__(
        self,
        detector: dict,
        train_cfg: Optional[dict] = None,
        test_cfg: Optional[dict] = None,
        frozen_modules: Optional[Union[str, Sequence[str]]] = None,
        data_preprocessor: Optional[dict] = None,
        init_cfg: Optional[Union[dict, List[dict]]] = None,
    ) -> None:
        detector = split_detector_cfg(detector)
        super().__init__(
            rpn_head=detector['rpn_head'],
            roi_head=detector['roi_head'],
            train_cfg=merge_cfg(detector.get('train_cfg'), train_cfg),
            test_cfg=merge_cfg(detector.get('test_cfg'), test_cfg),
            data_preprocessor=data_preprocessor,
            init_cfg=init_cfg,
        )
        self.backbone = MODELS.build(detector['backbone'])
        self.neck = MODELS.build(detector['neck']) if detector.get('neck') else None
        if isinstance(frozen_modules, str):
            frozen_modules = [frozen_modules]
        self.frozen_modules = [self._strip_detector(m) for m in (frozen_modules or [])]
        self._register_load_state_dict_pre_hook(self._rename_mmtrack_keys)

    def freeze_modules(self) -> None:
        """Freeze :attr:`frozen_modules` (call after building every sub-module)."""
        for name in self.frozen_modules:
            module = self._get_submodule(name)
            module.eval()
            for param in module.parameters():
                param.requires_grad_(False)

    @staticmethod
    def _rename_mmtrack_keys(state_dict, prefix, *args) -> None:
        """Map mmtrack 1.x keys ``detector.<part>.*`` onto ``<part>.*`` (in place)."""
        head = prefix + MMTRACK_DETECTOR_PREFIX
        for key in [k for k in state_dict if k.startswith(head)]:
            state_dict[prefix + key[len(head) :]] = state_dict.pop(key)

    @staticmethod
    def _strip_detector(name: str) -> str:
        if name.startswith(MMTRACK_DETECTOR_PREFIX):
            return name[len(MMTRACK_DETECTOR_PREFIX) :]
        return name

    def _get_submodule(self, name: str) -> torch.nn.Module:
        try:
            return self.get_submodule(name)
        except AttributeError as err:
            raise ValueError(f'frozen_modules: the model has no module {name!r}') from err

    def train(self, mode: bool = True):
        """Set the train mode; frozen modules always stay in eval mode."""
        super().train(mode)
        for name in getattr(self, 'frozen_modules', []):
            self._get_submodule(name).eval()
        return self

    def extract_feat(self, img: Tensor) -> Tensor:
        """N_f: images (N, 3, H, W) -> one feature map (N, C, H/16, W/16)."""
        feat = self.backbone(img)
        if self.neck is not None:
            feat = self.neck(feat if isinstance(feat, (tuple, list)) else (feat,))
        return feat[-1] if isinstance(feat, (tuple, list)) else feat

    def uncached_frames(
        self, sample: TrackDataSample, state: Optional[Dict] = None
    ) -> Tuple[Dict, List[int], List[int]]:
        """The per-video frame cache and the frames of ``sample`` missing from it.

        Args:
            sample (TrackDataSample): the clip of one stream.
            state (dict, optional): that stream's state; defaults to :attr:`video_state`.

        Returns:
            tuple: ``(cache, frame_ids, inds)``: :attr:`video_state`'s ``'frames'`` dict
            (``frame_id`` -> what the subclass caches) and, for every frame of the sample
            not cached yet (each id once), its ``frame_id`` and its index in the sample.
        """
        state = self.video_state if state is None else state
        cache = state.setdefault('frames', {})
        frame_ids, inds = [], []
        for idx in range(len(sample)):
            frame_id = sample[idx].metainfo['frame_id']
            if frame_id not in cache and frame_id not in frame_ids:
                frame_ids.append(frame_id)
                inds.append(idx)
        return cache, frame_ids, inds

    @staticmethod
    def same_image(a: Sequence[DetDataSample], b: Sequence[DetDataSample]) -> List[bool]:
        """Per pair, whether both samples are the same image (same ``img_id``)."""
        flags = []
        for x, y in zip(a, b):
            id_x, id_y = x.metainfo.get('img_id'), y.metainfo.get('img_id')
            flags.append(id_x is not None and id_x == id_y)
        return flags
