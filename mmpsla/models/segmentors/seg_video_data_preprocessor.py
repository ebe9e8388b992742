"""mmseg's ``SegDataPreProcessor`` for clips: one (T, 3, H, W) tensor per sample."""

from typing import Any, Dict

import torch
from mmseg.models import SegDataPreProcessor
from mmseg.registry import MODELS
from mmseg.utils import stack_batch


@MODELS.register_module()
class SegVideoDataPreProcessor(SegDataPreProcessor):
    """Normalise, pad and stack clips of frames; pad the annotated frame's label map.

    Each sample's ``inputs`` is a (T, 3, H, W) tensor (``PackSegClipInputs``), every frame
    of a sample with the same size. Colour conversion and ``(img - mean) / std`` are applied
    per frame; padding is mmseg's :func:`~mmseg.utils.stack_batch` on the frames flattened
    to (T * 3, H, W) (so ``size`` / ``size_divisor`` / ``pad_val``, the label map's
    ``seg_pad_val`` and the ``img_shape`` / ``pad_shape`` / ``padding_size`` metainfo behave
    exactly as for images). All samples of a batch must have the same T.

    Returns ``inputs`` of shape (N, T, 3, H', W'). Arguments: those of
    ``SegDataPreProcessor`` (``batch_augments`` are not supported for clips).
    """

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if self.batch_augments is not None:
            raise ValueError('SegVideoDataPreProcessor does not support batch_augments')

    def forward(self, data: dict, training: bool = False) -> Dict[str, Any]:
        """Pre-process a batch of clips (see the class docstring)."""
        data = self.cast_data(data)
        clips = data['inputs']
        data_samples = data.get('data_samples', None)
        if isinstance(clips, torch.Tensor):
            clips = list(clips)
        bad = any(clip.dim() != 4 or clip.size(1) != 3 for clip in clips)
        if bad or len({clip.size(0) for clip in clips}) != 1:
            raise ValueError(
                'SegVideoDataPreProcessor expects one (T, 3, H, W) clip per sample, with the '
                f'same T in a batch; got shapes {[tuple(c.shape) for c in clips]} (use '
                'PackSegClipInputs in the pipeline)'
            )
        num_frames = clips[0].size(0)
        if self.channel_conversion:
            clips = [clip[:, [2, 1, 0]] for clip in clips]
        clips = [clip.float() for clip in clips]
        if self._enable_normalize:
            clips = [(clip - self.mean) / self.std for clip in clips]
        flat = [clip.flatten(0, 1) for clip in clips]  # (T * 3, H, W)
        if training:
            if data_samples is None:
                raise ValueError('training needs data_samples (the annotated frames)')
            inputs, data_samples = stack_batch(
                inputs=flat,
                data_samples=data_samples,
                size=self.size,
                size_divisor=self.size_divisor,
                pad_val=self.pad_val,
                seg_pad_val=self.seg_pad_val,
            )
        else:
            if len({tuple(f.shape) for f in flat}) != 1:
                raise ValueError('the clips of a test batch must have the same size')
            if self.test_cfg:
                inputs, pad_infos = stack_batch(
                    inputs=flat,
                    size=self.test_cfg.get('size', None),
                    size_divisor=self.test_cfg.get('size_divisor', None),
                    pad_val=self.pad_val,
                    seg_pad_val=self.seg_pad_val,
                )
                for data_sample, pad_info in zip(data_samples or [], pad_infos):
                    data_sample.set_metainfo({**pad_info})
            else:
                inputs = torch.stack(flat, dim=0)
        n, _, height, width = inputs.shape
        return dict(inputs=inputs.view(n, num_frames, 3, height, width), data_samples=data_samples)
