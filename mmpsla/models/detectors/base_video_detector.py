"""Shared base class of every mmpsla video detector (PSLA, frame baseline, DFF, FGFA).

API summary for subclasses (see :class:`BaseVideoDetector` for details):

* ``__init__(rpn_head, roi_head, train_cfg, test_cfg, data_preprocessor, init_cfg)`` builds the
  task head N_t (an mmdet ``RPNHead`` + ``StandardRoIHead``, Faster R-CNN DC5 style: one
  stride-16 feature map) and the ``TrackDataPreprocessor``.
* Subclasses implement ``loss(inputs, data_samples)``, ``predict(inputs, data_samples)`` and
  ``_forward(inputs, data_samples)``; :meth:`forward` dispatches ``mode`` to them.
* Head helpers on a single feature map ``feat`` of shape (N, C, h, w):
  :meth:`head_loss` (RPN + RoI losses), :meth:`head_predict` (detections rescaled to the
  original image), :meth:`head_forward` (raw head outputs, ``mode='tensor'``).
* Frame helpers: :meth:`get_frames` picks the frames of one role (``'key'``: the frames that
  carry the loss / the current frame; ``'ref'``: reference / key frames) out of the
  (N, T, C, H, W) batch; :meth:`add_pred_to_track_samples` stores the predictions on the
  current frame.
* Batched test (B videos in lockstep, one frame of each per step): :meth:`open_streams`
  splits a batch into :class:`Stream` s (clip, sample, the video's state);
  :func:`run_batched` runs a function over items of one shape as one batch;
  :meth:`predict_heads` runs the task head; :meth:`test_step` pre-processes the clips of
  a B > 1 batch one by one (their lengths differ), so results equal batch size 1.
* Test-schedule contract (:meth:`key_frame_of`): the test pipeline marks each frame
  (``is_key_frame``, ``key_frame_id`` in its metainfo, from ``PSLAKeyFrameSchedule`` or
  ``VIDRefFrameSample``) and attaches the reference / key frames a model needs; models
  read the marks. mmtrack's ``test_cfg.key_frame_interval`` is translated into the same
  marks (streaming schedule, key frame first in each segment) for frames that carry none.
* Per-video state: one plain dict per stream (never saved in checkpoints), keyed by
  ``video_id`` (:meth:`stream_states`): empty at a video's first frame, dropped when its
  video is absent from a batch; :attr:`video_state` is the state of the stream processed
  last (with batch size 1, the video's); :meth:`reset_video_state` clears them all.
"""

import copy
from typing import Callable, Dict, List, Optional, Sequence, Tuple, Union

import torch
from mmdet.registry import MODELS
from mmdet.structures import DetDataSample, TrackDataSample
from mmengine.model import BaseModel
from mmengine.structures import InstanceData
from torch import Tensor

from ..nms_config import resolve_nms_ops

ConfigLike = Optional[Union[dict, 'torch.nn.Module']]

#: The roles :meth:`BaseVideoDetector.get_frames` understands, mapped to the
#: ``TrackDataSample`` metainfo field holding their frame indices.
FRAME_ROLES = {'key': 'key_frames_inds', 'ref': 'ref_frames_inds'}


class Stream:
    """One video of a test batch: its clip, sample and state (see :meth:`open_streams`).

    Attributes:
        inputs (Tensor): (1, T, C, H, W), the clip of this step.
        sample (TrackDataSample): its T frames' samples.
        state (dict): the video's state (kept by the detector between steps).
    """

    def __init__(self, inputs: Tensor, sample: TrackDataSample, state: Dict) -> None:
        self.inputs = inputs
        self.sample = sample
        self.state = state

    @property
    def current(self) -> int:
        """Index of the current frame in the clip."""
        return self.sample.key_frames_inds[0]

    @property
    def det_sample(self) -> DetDataSample:
        return self.sample[self.current]

    @property
    def meta(self) -> dict:
        return self.det_sample.metainfo

    def frame(self, index: Optional[int] = None) -> Tensor:
        """Frame ``index`` of the clip (default: the current one), (1, C, H, W)."""
        return self.inputs[:, self.current if index is None else index]


def run_batched(items: Sequence[Sequence[Tensor]], fn: Callable) -> list:
    """Apply ``fn`` to items batched by shape, return the per-item outputs in order.

    Items whose tensors have the same shapes (beyond dim 0) are concatenated along dim
    0 and passed together, ``fn(indices, *tensors)``; the output (a tensor or a list with
    one entry per row of the first tensor) is split back per item.

    Args:
        items: per item, a tuple of tensors (n_i, ...) (n_i rows each).
        fn: ``fn(indices of the group's items, *concatenated tensors)``.

    Returns:
        list: per item, its rows of the output (a tensor (n_i, ...) or a list of n_i).
    """
    groups: Dict[tuple, List[int]] = {}
    for index, tensors in enumerate(items):
        groups.setdefault(tuple(tuple(t.shape[1:]) for t in tensors), []).append(index)
    outputs: list = [None] * len(items)
    for inds in groups.values():
        args = [torch.cat([items[i][j] for i in inds]) for j in range(len(items[inds[0]]))]
        result = fn(inds, *args)
        counts = [items[i][0].size(0) for i in inds]
        if isinstance(result, Tensor):
            parts = result.split(counts)
        else:
            starts = [sum(counts[:k]) for k in range(len(counts))]
            parts = [result[a : a + n] for a, n in zip(starts, counts)]
        for i, part in zip(inds, parts):
            outputs[i] = part
    return outputs


class BaseVideoDetector(BaseModel):
    """Base class of video detectors built on one Faster R-CNN task head.

    The task head N_t works on a single feature map (stride 16), like mmdet's Faster R-CNN
    DC5/C4 models: an ``RPNHead`` produces proposals and a ``StandardRoIHead`` (RoIAlign +
    box head) classifies and refines them. Subclasses decide how that feature is computed
    (per frame, propagated from a key frame, aggregated over frames, ...).

    Inputs follow mmdet's video convention (contracts 2-3): ``inputs`` is a tensor of shape
    (N, T, C, H, W) produced by ``TrackDataPreprocessor`` and ``data_samples`` a list of N
    :class:`TrackDataSample` whose ``video_data_samples`` are the T frames' DetDataSamples,
    with ``key_frames_inds`` / ``ref_frames_inds`` telling the frames' roles.

    Args:
        rpn_head (dict): Config of the RPN head (``num_classes`` is forced to 1).
        roi_head (dict): Config of the RoI head.
        train_cfg (dict, optional): Training config with ``rpn``, ``rpn_proposal`` and
            ``rcnn`` entries (mmdet two-stage convention).
        test_cfg (dict, optional): Test config with ``rpn`` and ``rcnn`` entries. In both
            configs an ``nms`` dict may name ``type='mmpsla.ops.nms'`` (the compiled CPU
            kernel, :func:`mmpsla.models.nms_config.resolve_nms_ops`) or any of mmcv's.
        data_preprocessor (dict | nn.Module, optional): Data preprocessor config, built from
            mmdet's registry. Defaults to a ``TrackDataPreprocessor`` without normalisation.
        init_cfg (dict | list, optional): Initialisation config.
    """

    def __init__(
        self,
        rpn_head: dict,
        roi_head: dict,
        train_cfg: Optional[dict] = None,
        test_cfg: Optional[dict] = None,
        data_preprocessor: ConfigLike = None,
        init_cfg: Optional[Union[dict, List[dict]]] = None,
    ) -> None:
        if data_preprocessor is None:
            data_preprocessor = {'type': 'TrackDataPreprocessor'}
        if isinstance(data_preprocessor, dict):
            data_preprocessor = MODELS.build(data_preprocessor)
        super().__init__(data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        if test_cfg is None or 'rpn' not in test_cfg or 'rcnn' not in test_cfg:
            raise ValueError(
                f'test_cfg must be a dict with "rpn" and "rcnn" entries, got {test_cfg!r}'
            )
        train_cfg, test_cfg = resolve_nms_ops(train_cfg), resolve_nms_ops(test_cfg)
        rpn_head = copy.deepcopy(dict(rpn_head))
        rpn_head.update(
            num_classes=1,
            train_cfg=train_cfg['rpn'] if train_cfg is not None else None,
            test_cfg=test_cfg['rpn'],
        )
        self.rpn_head = MODELS.build(rpn_head)
        roi_head = copy.deepcopy(dict(roi_head))
        roi_head.update(
            train_cfg=train_cfg['rcnn'] if train_cfg is not None else None,
            test_cfg=test_cfg['rcnn'],
        )
        self.roi_head = MODELS.build(roi_head)
        self.train_cfg = train_cfg
        self.test_cfg = test_cfg
        self._stream_states: Dict = {}
        self._active_state: Dict = {}

    # ------------------------------------------------------------------ dispatch
    def forward(
        self,
        inputs: Tensor,
        data_samples: Optional[List[TrackDataSample]] = None,
        mode: str = 'tensor',
    ):
        """Dispatch to :meth:`loss`, :meth:`predict` or :meth:`_forward`.

        Args:
            inputs (Tensor): Frames of shape (N, T, C, H, W).
            data_samples (list[TrackDataSample], optional): One per batch element.
            mode (str): ``'loss'``, ``'predict'`` or ``'tensor'``.

        Returns:
            dict | list[TrackDataSample] | tuple: Losses, predictions or raw head outputs.
        """
        if inputs.dim() != 5:
            raise ValueError(f'inputs must have shape (N, T, C, H, W), got {tuple(inputs.shape)}')
        if mode == 'loss':
            return self.loss(inputs, data_samples)
        if mode == 'predict':
            return self.predict(inputs, data_samples)
        if mode == 'tensor':
            return self._forward(inputs, data_samples)
        raise ValueError(f'mode must be "loss", "predict" or "tensor", got {mode!r}')

    def loss(self, inputs: Tensor, data_samples: List[TrackDataSample]) -> dict:
        """Compute the training losses. Implemented by subclasses."""
        raise NotImplementedError

    def predict(self, inputs: Tensor, data_samples: List[TrackDataSample]) -> list:
        """Predict the current frame. Implemented by subclasses."""
        raise NotImplementedError

    def _forward(self, inputs: Tensor, data_samples: Optional[List[TrackDataSample]] = None):
        """Raw head outputs without post-processing. Implemented by subclasses."""
        raise NotImplementedError

    # ------------------------------------------------------------------ task head N_t
    def head_loss(self, feat: Tensor, det_samples: Sequence[DetDataSample]) -> Dict[str, Tensor]:
        """RPN + RoI-head losses of a feature map against the frames' ground truth.

        Args:
            feat (Tensor): Feature map of shape (N, C, h, w), one per frame.
            det_samples (list[DetDataSample]): N samples with ``gt_instances``.

        Returns:
            dict[str, Tensor]: Losses; RPN ones are prefixed with ``rpn_``.
        """
        losses, proposals = self.rpn_loss_and_predict(feat, det_samples)
        losses.update(self.roi_head.loss((feat,), proposals, list(det_samples)))
        return losses

    def rpn_loss_and_predict(
        self, feat: Tensor, det_samples: Sequence[DetDataSample]
    ) -> Tuple[Dict[str, Tensor], List[InstanceData]]:
        """Class-agnostic RPN losses (prefixed ``rpn_``) and training proposals.

        Args:
            feat (Tensor): Feature map of shape (N, C, h, w), one per frame.
            det_samples (list[DetDataSample]): N samples with ``gt_instances``.

        Returns:
            tuple: ``(losses, proposals)``, proposals per frame (``train_cfg.rpn_proposal``).
        """
        self._check_feat(feat, det_samples)
        proposal_cfg = self.train_cfg.get('rpn_proposal', self.test_cfg['rpn'])
        rpn_samples = copy.deepcopy(list(det_samples))
        for sample in rpn_samples:  # the RPN is class-agnostic
            sample.gt_instances.labels = torch.zeros_like(sample.gt_instances.labels)
        rpn_losses, proposals = self.rpn_head.loss_and_predict(
            (feat,), rpn_samples, proposal_cfg=proposal_cfg
        )
        losses = {}
        for name, value in rpn_losses.items():
            key = f'rpn_{name}' if 'loss' in name and 'rpn' not in name else name
            losses[key] = value
        return losses, proposals

    def head_predict(
        self, feat: Tensor, det_samples: Sequence[DetDataSample], rescale: bool = True
    ) -> List[InstanceData]:
        """Detections of a feature map, rescaled to the original images by default.

        Args:
            feat (Tensor): Feature map of shape (N, C, h, w).
            det_samples (list[DetDataSample]): N samples (metainfo: ``img_shape``,
                ``scale_factor``, ``ori_shape``).
            rescale (bool): Map boxes back to ``ori_shape`` coordinates.

        Returns:
            list[InstanceData]: Per frame ``bboxes`` (n, 4) xyxy, ``scores`` (n,),
            ``labels`` (n,).
        """
        self._check_feat(feat, det_samples)
        x = (feat,)
        det_samples = list(det_samples)
        proposals = self.rpn_head.predict(x, det_samples, rescale=False)
        return self.roi_head.predict(x, proposals, det_samples, rescale=rescale)

    def head_forward(self, feat: Tensor, det_samples: Sequence[DetDataSample]) -> tuple:
        """Raw outputs of the head (``mode='tensor'``).

        Args:
            feat (Tensor): Feature map of shape (N, C, h, w).
            det_samples (list[DetDataSample]): N samples (metainfo only).

        Returns:
            tuple: ``(rpn_outs, roi_outs)``: the RPN's (cls_scores, bbox_preds) per level and
            the RoI head's forward outputs on the RPN proposals.
        """
        self._check_feat(feat, det_samples)
        x = (feat,)
        det_samples = list(det_samples)
        rpn_outs = self.rpn_head.forward(x)
        proposals = self.rpn_head.predict(x, det_samples, rescale=False)
        roi_outs = self.roi_head.forward(x, proposals, det_samples)
        return rpn_outs, roi_outs

    @staticmethod
    def _check_feat(feat: Tensor, det_samples: Sequence[DetDataSample]) -> None:
        if feat.dim() != 4:
            raise ValueError(f'feat must have shape (N, C, h, w), got {tuple(feat.shape)}')
        if feat.size(0) != len(det_samples):
            raise ValueError(
                f'feat has {feat.size(0)} maps but det_samples has {len(det_samples)} samples'
            )

    # ------------------------------------------------------------------ frames
    @staticmethod
    def get_frames(
        inputs: Tensor, data_samples: Sequence[TrackDataSample], role: str
    ) -> Tuple[List[Tensor], List[List[DetDataSample]]]:
        """Pick the frames of one role out of a batch of clips.

        Args:
            inputs (Tensor): Frames of shape (N, T, C, H, W).
            data_samples (list[TrackDataSample]): N samples; all must list the same frame
                indices for ``role``.
            role (str): ``'key'`` (``key_frames_inds``) or ``'ref'`` (``ref_frames_inds``).

        Returns:
            tuple: ``(imgs, samples)``: ``imgs[j]`` is the (N, C, H, W) batch of the role's
            j-th frame and ``samples[j]`` the N matching DetDataSamples.
        """
        if role not in FRAME_ROLES:
            raise ValueError(f'role must be one of {sorted(FRAME_ROLES)}, got {role!r}')
        if len(data_samples) != inputs.size(0):
            raise ValueError(
                f'inputs has batch size {inputs.size(0)} but data_samples has '
                f'{len(data_samples)} samples'
            )
        field = FRAME_ROLES[role]
        inds = [list(sample.metainfo.get(field, [])) for sample in data_samples]
        if any(ind != inds[0] for ind in inds):
            raise ValueError(f'all samples of a batch must share {field}, got {inds}')
        imgs = [inputs[:, i] for i in inds[0]]
        samples = [[sample[i] for sample in data_samples] for i in inds[0]]
        return imgs, samples

    @staticmethod
    def add_pred_to_track_samples(
        data_samples: Sequence[TrackDataSample], results: Sequence[InstanceData]
    ) -> List[TrackDataSample]:
        """Store ``results[i]`` as ``pred_instances`` of sample i's current frame.

        The current frame is ``video_data_samples[key_frames_inds[0]]`` (its ``pred_instances``
        are what the metric reads).
        """
        for sample, result in zip(data_samples, results):
            sample[sample.key_frames_inds[0]].pred_instances = result
        return list(data_samples)

    # ------------------------------------------------------------------ schedule
    def key_frame_of(self, meta: dict) -> Tuple[bool, int]:
        """``(is_key_frame, key_frame_id)`` of a test frame (the test-schedule contract).

        The marks the test pipeline put in the frame's metainfo (``is_key_frame``,
        ``key_frame_id``) decide. A frame without marks (an mmtrack 1.x test pipeline,
        which leaves the schedule to the model) gets mmtrack's ``test_cfg.key_frame_interval``
        ``l`` translated into the same marks: the streaming schedule of
        ``PSLAKeyFrameSchedule(mode='first')``, key frame ``frame_id - frame_id % l``.

        Raises:
            ValueError: If the frame has no marks and ``test_cfg`` no ``key_frame_interval``.
        """
        if 'is_key_frame' in meta and 'key_frame_id' in meta:
            return bool(meta['is_key_frame']), int(meta['key_frame_id'])
        interval = (self.test_cfg or {}).get('key_frame_interval')
        if interval is None:
            raise ValueError(
                f'frame {meta.get("frame_id")} carries no key-frame marks (is_key_frame, '
                'key_frame_id) and test_cfg has no key_frame_interval: start the test '
                'pipeline with PSLAKeyFrameSchedule or VIDRefFrameSample and pack the marks '
                "(PackTrackInputs(meta_keys=('key_frame_id', 'is_key_frame')))"
            )
        if not isinstance(interval, int) or interval < 1:
            raise ValueError(f'test_cfg.key_frame_interval must be an int >= 1, got {interval!r}')
        frame_id = meta['frame_id']
        key = frame_id - frame_id % interval
        return frame_id == key, key

    # ------------------------------------------------------------------ video state
    @property
    def video_state(self) -> Dict:
        """The state of the stream processed last (with one stream: the video's state)."""
        return self._active_state

    @video_state.setter
    def video_state(self, value: Dict) -> None:
        self._active_state = value

    def reset_video_state(self) -> None:
        """Forget everything kept about every stream."""
        self._stream_states = {}
        self._active_state = {}

    def stream_states(self, metas: Sequence[dict]) -> List[Dict]:
        """The state of each stream of a test batch, one per current-frame metainfo.

        Streams are told apart by ``video_id``. A stream's state is created empty at its
        video's first frame (``frame_id == 0``) or when its video is new; the states of
        videos absent from the batch are dropped (in the lockstep schedule a video leaves
        the batch when it ends). With one stream this is the single-video rule: a new
        video starts from an empty state.

        Raises:
            ValueError: if a metainfo lacks ``frame_id`` or two belong to one video.
        """
        ids = [meta.get('video_id') for meta in metas]
        if len(set(ids)) != len(ids):
            raise ValueError(
                f'a test batch holds one frame per video (one stream each), got video ids {ids}; '
                'to test B videos at once set test_dataloader.batch_sampler=dict(type='
                "'VideoLockstepBatchSampler') next to test_dataloader.batch_size=B, or use "
                'batch_size=1 with TrackImgSampler'
            )
        states = {}
        for meta, video_id in zip(metas, ids):
            if meta.get('frame_id') is None:
                raise ValueError('the frame metainfo must contain "frame_id"')
            state = self._stream_states.get(video_id)
            states[video_id] = {} if state is None or meta['frame_id'] == 0 else state
        self._stream_states = states
        self._active_state = states[ids[-1]] if ids else {}
        return [states[video_id] for video_id in ids]

    def open_streams(
        self, inputs: Union[Tensor, Sequence[Tensor]], data_samples: Sequence[TrackDataSample]
    ) -> List[Stream]:
        """Split a test batch into its streams, each with its video's state.

        Args:
            inputs (Tensor | list[Tensor]): see :meth:`split_clips`.
            data_samples (list[TrackDataSample]): B samples, one per video.

        Returns:
            list[Stream]: B streams, in batch order.
        """
        clips = self.split_clips(inputs, data_samples)
        metas = [s[s.key_frames_inds[0]].metainfo for s in data_samples]
        states = self.stream_states(metas)
        return [Stream(c, s, st) for c, s, st in zip(clips, data_samples, states)]

    @staticmethod
    def split_clips(
        inputs: Union[Tensor, Sequence[Tensor]], data_samples: Sequence[TrackDataSample]
    ) -> List[Tensor]:
        """The clips of a test batch, one (1, T_i, C, H_i, W_i) tensor per sample.

        Args:
            inputs (Tensor | list[Tensor]): (B, T, C, H, W), or B tensors (T_i, C, H_i,
                W_i) / (1, T_i, C, H_i, W_i) when the clips differ in length or size.
            data_samples (list[TrackDataSample]): B samples.

        Raises:
            ValueError: if the numbers of clips and samples, or of frames, differ.
        """
        if not data_samples:
            raise ValueError('test prediction needs data_samples (one TrackDataSample per clip)')
        if isinstance(inputs, Tensor):
            if inputs.dim() != 5:
                raise ValueError(
                    f'inputs must have shape (B, T, C, H, W), got {tuple(inputs.shape)}'
                )
            clips = [inputs[i : i + 1] for i in range(inputs.size(0))]
        else:
            clips = [x if x.dim() == 5 else x[None] for x in inputs]
        if len(clips) != len(data_samples) or any(x.size(0) != 1 for x in clips):
            raise ValueError(
                f'inputs hold {sum(x.size(0) for x in clips)} clips but data_samples '
                f'{len(data_samples)} samples; pass one clip per TrackDataSample'
            )
        for clip, sample in zip(clips, data_samples):
            if clip.size(1) != len(sample):
                raise ValueError(
                    f'a clip has {clip.size(1)} frames but its TrackDataSample {len(sample)}'
                )
        return clips

    def predict_heads(self, feats: Sequence[Tensor], streams: Sequence[Stream]) -> list:
        """Detections of each stream's current frame from its feature (1, C, h, w).

        Streams whose features have one shape go through the task head as one batch.

        Returns:
            list[InstanceData]: one per stream, in original-image coordinates.
        """
        results = run_batched(
            [(feat,) for feat in feats],
            lambda inds, feat: self.head_predict(feat, [streams[i].det_sample for i in inds]),
        )
        return [result[0] for result in results]

    def test_step(self, data: Union[dict, tuple, list]) -> list:
        """mmengine's ``test_step``; a batch of B > 1 videos is pre-processed clip by clip.

        The clips of a lockstep batch differ in length (a key frame or reference frames
        attached to some) and may differ in size, so each is normalised and padded alone
        -- exactly as at batch size 1 -- and :meth:`predict` receives a list of clips.
        """
        samples = data.get('data_samples') if isinstance(data, dict) else None
        if samples is None or len(samples) <= 1:
            return super().test_step(data)
        clips, packed = [], []
        for clip, sample in zip(data['inputs'], samples):
            one = self.data_preprocessor({'inputs': [clip], 'data_samples': [sample]}, False)
            clips.append(one['inputs'])
            packed.append(one['data_samples'][0])
        return self.predict(clips, packed)
