"""Test pipelines of the inference API: a config's test pipeline, rewritten to load frames
from memory and to start with the frame sampler that marks key / reference frames (the
test-schedule contract), for mmpsla's configs and mmtrack 1.x's alike."""

import copy
from typing import List, Optional, Sequence

from mmengine.config import Config
from mmengine.dataset import Compose
from mmengine.registry import init_default_scope

from ..datasets.transforms.vid_ref_frame_sample import ref_img_sampler_to_transform

#: Test-time ``VIDRefFrameSample`` methods (DFF's key frames, FGFA's / SELSA's windows).
REF_SAMPLER_METHODS = (
    'test_key_frame_interval',
    'test_with_fix_stride',
    'test_with_adaptive_stride',
)
_LOADERS = ('LoadImageFromFile', 'mmdet.LoadImageFromFile', 'mmtrack.LoadImageFromFile')
_ANNOTATIONS = ('LoadTrackAnnotations', 'LoadAnnotations', 'mmdet.LoadTrackAnnotations')
_PACKERS = ('PackTrackInputs', 'mmdet.PackTrackInputs', 'mmtrack.PackTrackInputs')


def replace_loading(transforms: Sequence[dict]) -> List[dict]:
    """Load from the in-memory ``img`` instead of files; drop annotation loading."""
    out = []
    for t in transforms:
        t = copy.deepcopy(dict(t))
        if t['type'] in _LOADERS:
            t = {'type': 'mmdet.LoadImageFromNDArray'}
        elif t['type'] in _ANNOTATIONS:
            continue
        elif 'transforms' in t:
            t['transforms'] = replace_loading(t['transforms'])
        out.append(t)
    return out


def is_frame_sampler(transform: dict) -> bool:
    """Whether a transform config is a test-time frame sampler mmpsla's loop can drive."""
    if transform['type'] == 'PSLAKeyFrameSchedule':
        return True
    return transform['type'] == 'VIDRefFrameSample' and transform.get('method') in (
        REF_SAMPLER_METHODS
    )


def test_dataset_cfg(cfg: Config) -> dict:
    """The config's test dataset (its ``pipeline`` else the top-level ``test_pipeline``)."""
    loader = cfg.get('test_dataloader', None)
    dataset = dict(loader.get('dataset', {})) if loader is not None else {}
    if dataset.get('pipeline') is None:
        if cfg.get('test_pipeline', None) is None:
            raise ValueError('the config has no test_dataloader.dataset.pipeline nor test_pipeline')
        dataset['pipeline'] = cfg.test_pipeline
    return dataset


def scheduled_pipeline(cfg: Config, test_cfg: Optional[dict] = None) -> List[dict]:
    """The test pipeline (configs), starting with a frame sampler.

    mmpsla's configs already start with one. mmtrack 1.x's do not: their dataset's
    ``ref_img_sampler`` is translated into ``VIDRefFrameSample`` (as the ``mmtrack``
    dataset does), and a pipeline without one (DFF) gets the key-frame schedule of the
    model's ``test_cfg.key_frame_interval``, its per-frame transforms wrapped in a
    ``TransformBroadcaster``.

    Raises:
        ValueError: If no sampler can be derived.
    """
    dataset = test_dataset_cfg(cfg)
    pipeline = [dict(t) for t in dataset['pipeline']]
    if pipeline and is_frame_sampler(pipeline[0]):
        return pipeline
    sampler = ref_img_sampler_to_transform(dataset.get('ref_img_sampler'))
    if sampler is None and (test_cfg or {}).get('key_frame_interval') is not None:
        sampler = dict(
            type='VIDRefFrameSample',
            method='test_key_frame_interval',
            key_frame_interval=test_cfg['key_frame_interval'],
        )
    if sampler is None or not is_frame_sampler(sampler):
        raise ValueError(
            'the test pipeline must start with PSLAKeyFrameSchedule (PSLA, frame baseline) or '
            f'VIDRefFrameSample with method in {REF_SAMPLER_METHODS} (DFF, FGFA, SELSA); '
            "mmtrack configs need test_dataloader.dataset.ref_img_sampler or the model's "
            'test_cfg.key_frame_interval'
        )
    if not any(t['type'] == 'TransformBroadcaster' for t in pipeline):
        per_frame = [t for t in pipeline if t['type'] not in _PACKERS]
        packers = [t for t in pipeline if t['type'] in _PACKERS]
        pipeline = [dict(type='TransformBroadcaster', transforms=per_frame), *packers]
    return [sampler, *pipeline]


def build_test_pipeline(
    cfg: Config,
    key_frame_interval: Optional[int] = None,
    mode: Optional[str] = None,
    test_cfg: Optional[dict] = None,
    causal_window: Optional[dict] = None,
) -> Compose:
    """The config's test pipeline, loading in-memory frames.

    Args:
        cfg (Config): The model's config.
        key_frame_interval (int, optional): Replaces the schedule's ``l``
            (``PSLAKeyFrameSchedule`` or DFF's ``VIDRefFrameSample``).
        mode (str, optional): Replaces ``PSLAKeyFrameSchedule``'s mode.
        test_cfg (dict, optional): The model's test_cfg (mmtrack's ``key_frame_interval``).
        causal_window (dict, optional): ``frame_stride`` / ``num_left_ref_imgs``: turn a
            window sampler (FGFA, SELSA) into the causal fixed-stride window
            ``[t - n * s, ..., t]`` of the per-frame API.

    Returns:
        Compose: the pipeline, built in the config's default scope.
    """
    init_default_scope(cfg.get('default_scope', 'mmdet'))
    pipeline = replace_loading(scheduled_pipeline(cfg, test_cfg))
    sampler = pipeline[0]
    if sampler['type'] == 'PSLAKeyFrameSchedule':
        if mode is not None:
            sampler['mode'] = mode
        if key_frame_interval is not None:
            sampler['key_frame_interval'] = key_frame_interval
    elif sampler['method'] == 'test_key_frame_interval':
        if key_frame_interval is not None:
            sampler['key_frame_interval'] = key_frame_interval
    elif causal_window is not None:
        sampler.clear()
        sampler.update(
            type='VIDRefFrameSample',
            method='test_with_fix_stride',
            frame_range=[-int(causal_window['num_left_ref_imgs']), 0],
            stride=int(causal_window['frame_stride']),
        )
    return Compose(pipeline)
