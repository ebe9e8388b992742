"""mmtrack 1.x transform names whose arguments differ from mmdet 3.3's."""

from typing import Optional, Sequence

from mmdet.datasets.transforms import LoadTrackAnnotations as _MMDetLoadTrackAnnotations
from mmdet.datasets.transforms import PackTrackInputs as _MMDetPackTrackInputs

from .registry import TRANSFORMS

#: Per-frame metainfo mmpsla's frame samplers and video detectors use, packed by default
#: so that mmtrack configs (which list no ``meta_keys``) need not name them.
MMPSLA_META_KEYS = (
    'ori_video_length',
    'num_left_ref_imgs',
    'num_right_ref_imgs',
    'frame_stride',
    'key_frame_id',
    'is_key_frame',
)


@TRANSFORMS.register_module(name='PackTrackInputs')
class MMTrackPackTrackInputs(_MMDetPackTrackInputs):
    """mmtrack 1.x's ``PackTrackInputs`` arguments on mmdet 3.3's packing.

    mmdet packs every frame of a clip into one ``TrackDataSample`` (inputs (T, C, H, W),
    ``key_frame_flags`` marking the current / target frame), which is what mmpsla's
    detectors read; mmtrack's ``ref_prefix`` / ``num_key_frames`` split has no meaning
    there and is accepted only to be checked (one key frame). ``pack_single_img=True``
    (mmtrack's one-frame test pipelines) packs a single-frame result dict (not lists) as
    a one-frame clip whose frame is the current one.

    Args:
        ref_prefix (str): accepted for mmtrack configs; unused.
        num_key_frames (int): must be 1.
        pack_single_img (bool): the input is one frame (values, not lists).
        meta_keys (Sequence[str], optional): extra metainfo keys.
        default_meta_keys (Sequence[str]): mmdet's defaults plus
            :data:`MMPSLA_META_KEYS`.
    """

    def __init__(
        self,
        ref_prefix: str = 'ref',
        num_key_frames: int = 1,
        pack_single_img: bool = False,
        meta_keys: Optional[Sequence[str]] = None,
        default_meta_keys: Optional[Sequence[str]] = None,
    ) -> None:
        if num_key_frames != 1:
            raise ValueError(
                f'PackTrackInputs: only num_key_frames=1 is supported, got {num_key_frames}'
            )
        meta_keys = None if meta_keys is None else tuple(meta_keys)
        if default_meta_keys is None:
            super().__init__(meta_keys=meta_keys)
            self.meta_keys = tuple(dict.fromkeys(self.meta_keys + MMPSLA_META_KEYS))
        else:
            super().__init__(meta_keys=meta_keys, default_meta_keys=tuple(default_meta_keys))
        self.ref_prefix = ref_prefix
        self.pack_single_img = pack_single_img

    def transform(self, results: dict) -> dict:
        """Pack a clip (per-frame lists) or, with ``pack_single_img``, one frame."""
        if self.pack_single_img and not isinstance(results.get('img'), list):
            results = {key: [value] for key, value in results.items()}
            results['key_frame_flags'] = [True]
        elif 'key_frame_flags' not in results:
            raise ValueError(
                'PackTrackInputs: the results carry no key_frame_flags; the dataset must '
                'sample the clip (ImagenetVIDDataset(ref_img_sampler=...)) or the pipeline '
                'start with a frame sampler'
            )
        return super().transform(results)

    def __repr__(self) -> str:
        return (
            f'{type(self).__name__}(pack_single_img={self.pack_single_img}, '
            f'meta_keys={self.meta_keys}, default_meta_keys={self.default_meta_keys})'
        )


@TRANSFORMS.register_module(name='LoadTrackAnnotations')
class MMTrackLoadTrackAnnotations(_MMDetLoadTrackAnnotations):
    """mmtrack's ``LoadTrackAnnotations(with_instance_id=...)`` on mmdet 3.3's.

    mmdet's transform always loads ``gt_instances_ids``; ``with_instance_id`` is accepted
    for mmtrack configs (``False`` is refused: mmdet cannot skip the ids).
    """

    def __init__(self, with_instance_id: bool = True, **kwargs) -> None:
        if not with_instance_id:
            raise ValueError('LoadTrackAnnotations: mmdet 3.x always loads instance ids')
        super().__init__(**kwargs)
