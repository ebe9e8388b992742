"""Streaming speed of the video segmentors (fps of key and non-key steps, side by side)."""

import time
from typing import Dict, Iterable, Mapping, Optional, Union

import mmcv
import numpy as np
import torch


def load_snippet_clips(data_list: Iterable[dict], max_snippets: Optional[int] = None):
    """Yield each snippet's frames as a (T, 3, H, W) uint8 tensor (BGR, file order).

    Args:
        data_list (Iterable[dict]): ``CityscapesVideoDataset`` data infos (``frame_paths``).
        max_snippets (int, optional): Stop after this many snippets.
    """
    for i, info in enumerate(data_list):
        if max_snippets is not None and i >= max_snippets:
            break
        frames = [mmcv.imread(path) for path in info['frame_paths']]
        yield torch.from_numpy(np.stack(frames)).permute(0, 3, 1, 2).contiguous()


def measure_seg_fps(
    model: Union[torch.nn.Module, Mapping[str, torch.nn.Module]],
    clips: Iterable[torch.Tensor],
    key_frame_interval: int,
    warmup: int = 5,
) -> Dict:
    """Frames per second of video segmentors streaming whole snippets.

    Every frame of every clip is one step (streaming schedule: the first frame of each
    segment of ``key_frame_interval`` frames is a key frame): ``model.frame_feature``
    (N_f + RFU at key frames; N_l + DenseFT, or FlowNet + warp, elsewhere), the decode
    head, the logits resized to the frame and the argmax -- what a deployed segmenter
    outputs for every frame. Pre-processing (normalisation) is not timed, nor are the
    first ``warmup`` steps. A model without key frames (the frame baseline) runs the full
    network at every step; its steps count as key steps. Several models (a dict) are
    timed side by side: each frame goes through every model in turn.

    Args:
        model (nn.Module | dict[str, nn.Module]): Video segmentor(s).
        clips (Iterable[Tensor]): (T, 3, H, W) uint8 clips (:func:`load_snippet_clips`).
        key_frame_interval (int): ``l``.
        warmup (int): Untimed leading steps. Defaults to 5.

    Returns:
        dict: ``fps``, ``key_fps``, ``nonkey_fps`` (0 without such steps), ``frames``,
        ``key_frames``, ``nonkey_frames``, ``seconds``; one such dict per name for a dict.
    """
    models = model if isinstance(model, Mapping) else {'model': model}
    times = {name: {'key': 0.0, 'nonkey': 0.0} for name in models}
    counts = {name: {'key': 0, 'nonkey': 0} for name in models}
    step = 0
    for m in models.values():
        m.eval()
    with torch.no_grad():
        for clip in clips:
            prepared = {
                name: m.data_preprocessor(dict(inputs=[clip]), False)['inputs'][0]
                for name, m in models.items()
            }
            for m in models.values():
                m.reset_video_state()
            for t in range(clip.size(0)):
                is_key = t % key_frame_interval == 0
                for name, m in models.items():
                    img = prepared[name][t : t + 1]
                    start = time.perf_counter()
                    feat = m.frame_feature(img, is_key)
                    m.seg_logits_at(feat, tuple(img.shape[-2:])).argmax(dim=1)
                    elapsed = time.perf_counter() - start
                    if step >= warmup:
                        kind = 'key' if is_key or not m.uses_key_frames else 'nonkey'
                        times[name][kind] += elapsed
                        counts[name][kind] += 1
                step += 1
    results = {}
    for name in models:
        n, s = counts[name], times[name]
        total_n, total_s = n['key'] + n['nonkey'], s['key'] + s['nonkey']
        results[name] = {
            'fps': total_n / total_s if total_s else 0.0,
            'key_fps': n['key'] / s['key'] if s['key'] else 0.0,
            'nonkey_fps': n['nonkey'] / s['nonkey'] if s['nonkey'] else 0.0,
            'frames': total_n,
            'key_frames': n['key'],
            'nonkey_frames': n['nonkey'],
            'seconds': total_s,
        }
    return results if isinstance(model, Mapping) else results['model']
