"""Inference API with mmtrack's VID names: ``init_model`` and ``inference_vid``."""

import copy
import os
import os.path as osp
from typing import Iterable, Iterator, List, Optional, Sequence, Union

import mmcv
import numpy as np
import torch
from mmdet.registry import MODELS
from mmdet.structures import DetDataSample
from mmengine.config import Config
from mmengine.dataset import Compose, pseudo_collate
from mmengine.registry import init_default_scope
from mmengine.runner import load_checkpoint

IMG_EXTENSIONS = ('.jpg', '.jpeg', '.png', '.bmp', '.tif', '.tiff', '.webp')
FrameLike = Union[np.ndarray, str]


def _is_pretrained_init(init_cfg) -> bool:
    items = init_cfg if isinstance(init_cfg, (list, tuple)) else [init_cfg]
    return any(isinstance(item, dict) and item.get('type') == 'Pretrained' for item in items)


def drop_pretrained_init(cfg) -> None:
    """Remove every ``init_cfg`` of type ``'Pretrained'`` in a model config, in place.

    Pretrained initialisation (ImageNet backbones, FlowNet weights) downloads files and is
    pointless when a checkpoint follows or only the structure is needed; it may sit at any
    depth (``model.backbone``, DFF/FGFA's ``model.detector.backbone`` and
    ``model.motion``).
    """
    if isinstance(cfg, dict):
        if _is_pretrained_init(cfg.get('init_cfg')):
            cfg['init_cfg'] = None
        for value in cfg.values():
            drop_pretrained_init(value)
    elif isinstance(cfg, (list, tuple)):
        for value in cfg:
            drop_pretrained_init(value)


def init_model(
    config: Union[str, Config],
    checkpoint: Optional[str] = None,
    device: str = 'cpu',
    cfg_options: Optional[dict] = None,
) -> torch.nn.Module:
    """Build a video detector from a config and optionally load a checkpoint.

    Pretrained initialisation is switched off wherever it sits in the model config (see
    :func:`drop_pretrained_init`; the weights come from ``checkpoint``); without a
    checkpoint the model keeps its random initialisation.

    Args:
        config (str | Config): Config file or object.
        checkpoint (str, optional): Checkpoint file.
        device (str): Device of the model. Defaults to ``'cpu'``.
        cfg_options (dict, optional): Overrides merged into the config.

    Returns:
        nn.Module: The model in eval mode, with ``cfg`` (the config) and ``dataset_meta``
        (from the checkpoint, when it has one) attached.
    """
    if isinstance(config, (str, os.PathLike)):
        config = Config.fromfile(str(config))
    elif not isinstance(config, Config):
        raise TypeError(f'config must be a filename or Config, got {type(config).__name__}')
    config = copy.deepcopy(config)
    if cfg_options is not None:
        config.merge_from_dict(cfg_options)
    init_default_scope(config.get('default_scope', 'mmdet'))
    import mmpsla  # noqa: F401  (registers the modules)

    model_cfg = config.model
    drop_pretrained_init(model_cfg)
    model = MODELS.build(model_cfg)
    model.init_weights()
    if checkpoint is not None:
        ckpt = load_checkpoint(model, checkpoint, map_location='cpu')
        meta = ckpt.get('meta', {}) if isinstance(ckpt, dict) else {}
        if 'dataset_meta' in meta:
            model.dataset_meta = meta['dataset_meta']
    model.cfg = config
    model.to(device)
    model.eval()
    return model


class _FrameSource:
    """Indexable access to the frames of a list, a frame folder, a video file or an iterator.

    ``length`` is None for iterators (streaming). Video files and iterators are read
    sequentially; frames read ahead are cached until they are consumed.
    """

    def __init__(self, frames) -> None:
        self._cache = {}
        self._next = 0
        self._iter: Optional[Iterator] = None
        self._capture = None
        if isinstance(frames, (str, os.PathLike)):
            path = str(frames)
            if osp.isdir(path):
                names = sorted(n for n in os.listdir(path) if n.lower().endswith(IMG_EXTENSIONS))
                if not names:
                    raise ValueError(f'frames: no image files in folder {path!r}')
                self._items: Optional[List] = [osp.join(path, n) for n in names]
            elif osp.isfile(path):
                import cv2

                self._capture = cv2.VideoCapture(path)
                if not self._capture.isOpened():
                    raise ValueError(f'frames: cannot open video file {path!r}')
                self._items = None
                count = int(self._capture.get(cv2.CAP_PROP_FRAME_COUNT))
                self.length = count if count > 0 else None
                return
            else:
                raise ValueError(f'frames: {path!r} is neither a folder nor a file')
        elif isinstance(frames, (list, tuple)):
            self._items = list(frames)
        elif isinstance(frames, np.ndarray) and frames.ndim == 4:
            self._items = list(frames)
        elif isinstance(frames, Iterable):
            self._items = None
            self._iter = iter(frames)
        else:
            raise TypeError(f'frames: unsupported type {type(frames).__name__}')
        self.length = None if self._items is None else len(self._items)

    def _read_next(self) -> Optional[np.ndarray]:
        if self._capture is not None:
            ok, img = self._capture.read()
            return img if ok else None
        try:
            return next(self._iter)
        except StopIteration:
            return None

    def get(self, index: int) -> Optional[FrameLike]:
        """Frame ``index`` (None past the end of a sequential source)."""
        if self._items is not None:
            return self._items[index] if index < len(self._items) else None
        while self._next <= index:
            frame = self._read_next()
            if frame is None:
                return self._cache.get(index)
            self._cache[self._next] = frame
            self._next += 1
        return self._cache.get(index)

    def release_before(self, index: int) -> None:
        """Forget cached frames before ``index``."""
        for key in [k for k in self._cache if k < index]:
            del self._cache[key]


def video_length(frames) -> Optional[int]:
    """Number of frames of a list, folder or video file (None for iterators)."""
    if not isinstance(frames, (str, os.PathLike, list, tuple, np.ndarray)):
        return None
    source = _FrameSource(frames)
    if source._capture is not None:
        source._capture.release()
    return source.length


def _load(frame: FrameLike) -> np.ndarray:
    if isinstance(frame, (str, os.PathLike)):
        img = mmcv.imread(str(frame))
        if img is None:
            raise ValueError(f'frames: cannot read image {frame!r}')
        return img
    if not isinstance(frame, np.ndarray) or frame.ndim != 3 or frame.shape[2] != 3:
        raise ValueError(
            'frames must be HxWx3 BGR uint8 arrays or image paths, got '
            f'{getattr(frame, "shape", type(frame).__name__)}'
        )
    return frame


def _replace_loading(transforms: Sequence[dict]) -> List[dict]:
    """Load from the in-memory ``img`` instead of files; drop annotation loading."""
    out = []
    for t in transforms:
        t = copy.deepcopy(t)
        if t['type'] in ('LoadImageFromFile', 'mmdet.LoadImageFromFile'):
            t = {'type': 'mmdet.LoadImageFromNDArray'}
        elif t['type'] in ('LoadTrackAnnotations', 'LoadAnnotations'):
            continue
        elif 'transforms' in t:
            t['transforms'] = _replace_loading(t['transforms'])
        out.append(t)
    return out


#: Test-time ``VIDRefFrameSample`` methods inference_vid can drive: DFF's and FGFA's.
REF_SAMPLER_METHODS = ('test_key_frame_interval', 'test_with_fix_stride')


def _frame_sampler(pipeline: Sequence[dict]) -> dict:
    """The transform that picks a test sample's frames: PSLA's schedule or DFF/FGFA's."""
    for t in pipeline:
        if t['type'] == 'PSLAKeyFrameSchedule':
            return t
        if t['type'] == 'VIDRefFrameSample' and t.get('method') in REF_SAMPLER_METHODS:
            return t
    raise ValueError(
        'the test pipeline must contain PSLAKeyFrameSchedule (PSLA, frame baseline) or '
        f'VIDRefFrameSample with method in {REF_SAMPLER_METHODS} (DFF, FGFA)'
    )


def build_test_pipeline(
    cfg: Config, key_frame_interval: Optional[int] = None, mode: Optional[str] = None
) -> Compose:
    """The config's test pipeline, loading in-memory frames.

    ``key_frame_interval`` replaces the schedule's (``PSLAKeyFrameSchedule`` or DFF's
    ``VIDRefFrameSample``; FGFA's has none) and ``mode`` the PSLA schedule's.
    """
    init_default_scope(cfg.get('default_scope', 'mmdet'))
    pipeline = _replace_loading(_test_pipeline_cfg(cfg))
    sampler = _frame_sampler(pipeline)
    if mode is not None and sampler['type'] == 'PSLAKeyFrameSchedule':
        sampler['mode'] = mode
    if key_frame_interval is not None and sampler.get('method') != 'test_with_fix_stride':
        sampler['key_frame_interval'] = key_frame_interval
    return Compose(pipeline)


def _test_pipeline_cfg(cfg: Config) -> list:
    """The pipeline of the config's test dataloader (else its ``test_pipeline``)."""
    loader = cfg.get('test_dataloader', None)
    if loader is not None and loader.get('dataset', {}).get('pipeline') is not None:
        return loader['dataset']['pipeline']
    if cfg.get('test_pipeline', None) is None:
        raise ValueError('the config has no test_dataloader.dataset.pipeline nor test_pipeline')
    return cfg.test_pipeline


def inference_vid(
    model: torch.nn.Module,
    frames,
    key_frame_interval: Optional[int] = None,
    mode: Optional[str] = None,
    return_images: bool = False,
) -> Iterator[DetDataSample]:
    """Detect objects in every frame of one video, in order (a generator).

    The config's test pipeline prepares each frame: ``PSLAKeyFrameSchedule`` for PSLA and
    the frame baseline, ``VIDRefFrameSample`` (``test_key_frame_interval`` /
    ``test_with_fix_stride``) for DFF / FGFA. The model keeps its video state (F_t, DFF's
    key-frame feature, FGFA's feature buffer) between frames; it is reset at the first
    frame. Bad arguments raise at the call, before any frame is read.

    Args:
        model (nn.Module): From :func:`init_model`.
        frames: A list/tuple of HxWx3 BGR uint8 arrays or image paths, an (N, H, W, 3)
            array, a folder of frames (sorted by name), a video file (read with OpenCV), or
            an iterator of arrays/paths (length unknown: streaming).
        key_frame_interval (int, optional): l. Defaults to the config's. For DFF it
            replaces the model's ``key_frame_interval`` while the generator runs; FGFA has
            no key frames and refuses it.
        mode (str, optional): PSLA only: ``'middle'`` (key frame = segment middle, needs
            the video length and looks ahead up to l/2 frames) or ``'first'``
            (streaming). Defaults to the config's mode when the length is known,
            ``'first'`` otherwise. DFF streams (key frame = first of each segment); FGFA
            aggregates frames ahead of the current one and needs the video length.
        return_images (bool): Yield ``(image, sample)`` pairs, image the HxWx3 BGR frame.

    Yields:
        DetDataSample: Per frame, ``pred_instances`` (bboxes (n, 4) xyxy in the frame's
        pixel coordinates, scores (n,), labels (n,)) and ``frame_id``; for PSLA, the
        frame baseline and DFF also ``key_frame_id`` and ``is_key_frame``.
    """
    cfg = model.cfg
    source = _FrameSource(frames)
    sampler = dict(_frame_sampler(_test_pipeline_cfg(cfg)))
    if sampler['type'] == 'PSLAKeyFrameSchedule':
        if mode is None:
            mode = sampler.get('mode', 'middle') if source.length is not None else 'first'
        if mode not in ('middle', 'first'):
            raise ValueError(f'mode must be "middle" or "first", got {mode!r}')
        if mode == 'middle' and source.length is None:
            raise ValueError(
                'mode="middle" needs the number of frames; pass a list, a folder or a video '
                'file, or use mode="first" (streaming) for iterators'
            )
        interval = key_frame_interval or sampler.get('key_frame_interval', 10)
        pipeline = build_test_pipeline(cfg, interval, mode)
        return _run_video(model, source, pipeline, interval, return_images)
    name = type(model).__name__
    if mode is not None:
        raise ValueError(f'mode applies to the PSLA key-frame schedule; {name} has none')
    if sampler['method'] == 'test_with_fix_stride' and source.length is None:
        raise ValueError(
            f'{name} aggregates frames ahead of the current one and needs the number of '
            'frames: pass a list, a folder or a video file, not an iterator'
        )
    if key_frame_interval is not None and not hasattr(model, 'key_frame_interval'):
        raise ValueError(f'{name} has no key frames; key_frame_interval does not apply')
    pipeline = build_test_pipeline(cfg, key_frame_interval)
    # DFF's sampler looks back at its segment's key frame; FGFA's reads only ahead
    keep = key_frame_interval or sampler.get('key_frame_interval', 10)
    if sampler['method'] == 'test_with_fix_stride':
        keep = 1
    return _run_video(model, source, pipeline, keep, return_images, key_frame_interval)


def _run_video(
    model: torch.nn.Module,
    source: '_FrameSource',
    pipeline: Compose,
    keep: int,
    return_images: bool,
    key_frame_interval: Optional[int] = None,
) -> Iterator:
    """Feed the frames of ``source`` through ``pipeline`` and ``model`` one by one.

    ``keep`` frames before the current one stay readable (the PSLA schedule looks back at
    its segment's key frame). ``key_frame_interval`` replaces a DFF model's while the
    generator runs.
    """
    saved = getattr(model, 'key_frame_interval', None)
    if key_frame_interval is not None and saved is not None:
        model.key_frame_interval = key_frame_interval
    try:
        yield from _frame_results(model, source, pipeline, keep, return_images)
    finally:
        if saved is not None:
            model.key_frame_interval = saved


def _frame_results(model, source, pipeline, keep, return_images) -> Iterator:
    if hasattr(model, 'reset_video_state'):
        model.reset_video_state()
    device = next(model.parameters()).device

    images = _LazyFrames(source)
    index = 0
    while source.length is None or index < source.length:
        if source.get(index) is None:
            break
        images.length = source.length if source.length is not None else index + 1
        video_infos = {
            'video_id': 0,
            'video_length': images.length,
            'images': images,
            'key_frame_id': index,
        }
        data = pseudo_collate([pipeline(video_infos)])
        with torch.no_grad():
            result = model.test_step(data)[0]
        current = result[result.key_frames_inds[0]]
        current = current.cpu() if device.type != 'cpu' else current
        yield (images[index]['img'], current) if return_images else current
        images.release_before(index + 1 - keep)
        index += 1


class _LazyFrames(Sequence):
    """The ``images`` list of a video's info; frames are read on access and cached."""

    def __init__(self, source: _FrameSource) -> None:
        self._source = source
        self._frames = {}
        self.length = 0

    def __len__(self) -> int:
        return self.length

    def __getitem__(self, index):
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(self.length))]
        if not 0 <= index < self.length:
            raise IndexError(index)
        if index not in self._frames:
            frame = self._source.get(index)
            if frame is None:
                raise IndexError(f'frame {index} is not available')
            img = _load(frame)
            self._frames[index] = {
                'img': img,
                'img_path': None,
                'img_id': index,
                'frame_id': index,
                'ori_shape': img.shape[:2],
            }
        return self._frames[index]

    def release_before(self, index: int) -> None:
        """Forget the frames before ``index`` (here and in the source's read-ahead cache)."""
        for key in [k for k in self._frames if k < index]:
            del self._frames[key]
        self._source.release_before(index)
