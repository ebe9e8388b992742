"""The fixed-stride test window of FGFA / SELSA, defined once.

The test pipeline's frame sampler (``VIDRefFrameSample(method='test_with_fix_stride')``)
decides with it which frames to attach, and describes the window in every packed frame's
metainfo (``frame_stride``, ``num_left_ref_imgs``, ``num_right_ref_imgs``, with
``frame_id`` and ``ori_video_length``); the video detectors read that description back
with :func:`window_from_meta` to know which cached frames to aggregate. Both sides
evaluate the same :func:`fixed_stride_window`, so they cannot disagree.
"""

from typing import List

#: The metainfo keys describing the window (packed by ``PackTrackInputs(meta_keys=...)``).
WINDOW_META_KEYS = ('num_left_ref_imgs', 'num_right_ref_imgs', 'frame_stride')


def fixed_stride_window(
    index: int, length: int, num_left: int, num_right: int, stride: int
) -> List[int]:
    """Positions of the window ``W(t) = [clip(t + k * s) for k in -n_l..n_r]``.

    ``clip`` maps into ``[0, L - 1]``, so near the ends of the video the first / last
    frame repeats (``n_l + n_r + 1`` entries always, as in mmtrack and FGFA).

    Args:
        index (int): t, the current frame's position.
        length (int): L, the number of frames of the video.
        num_left (int): n_l >= 0.
        num_right (int): n_r >= 0.
        stride (int): s >= 1.

    Returns:
        list[int]: the window, ascending.
    """
    if num_left < 0 or num_right < 0 or stride < 1 or length < 1:
        raise ValueError(
            f'invalid test window: num_left_ref_imgs={num_left}, num_right_ref_imgs='
            f'{num_right}, frame_stride={stride}, video length {length}'
        )
    return [min(max(index + k * stride, 0), length - 1) for k in range(-num_left, num_right + 1)]


def window_from_meta(meta: dict) -> List[int]:
    """The window of the current frame as its sampler described it in the metainfo.

    Args:
        meta (dict): the current frame's metainfo: ``frame_id``, ``ori_video_length``
            (else ``video_length``) and :data:`WINDOW_META_KEYS`.

    Returns:
        list[int]: frame ids of :func:`fixed_stride_window` (frame ids are positions in a
        test video).

    Raises:
        ValueError: if the description is missing (the sampler or the packing is not
            configured for a window).
    """
    missing = [key for key in WINDOW_META_KEYS if key not in meta]
    length = meta.get('ori_video_length', meta.get('video_length'))
    if missing or length is None:
        raise ValueError(
            f'frame {meta.get("frame_id")} carries no test-window description (missing '
            f'{missing or ["ori_video_length"]}): start the test pipeline with '
            "VIDRefFrameSample(method='test_with_fix_stride') and pack "
            f'PackTrackInputs(meta_keys={WINDOW_META_KEYS})'
        )
    return fixed_stride_window(
        meta['frame_id'],
        int(length),
        int(meta['num_left_ref_imgs']),
        int(meta['num_right_ref_imgs']),
        int(meta['frame_stride']),
    )
