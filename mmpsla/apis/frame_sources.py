"""Frame sources of the inference API: lists, arrays, frame folders, video files, iterators.

Frames are read lazily and forgotten once the loop no longer needs them, so a whole video is
never held in memory.
"""

import os
import os.path as osp
from typing import Iterable, Iterator, List, Optional, Sequence, Union

import mmcv
import numpy as np

IMG_EXTENSIONS = ('.jpg', '.jpeg', '.png', '.bmp', '.tif', '.tiff', '.webp')
FrameLike = Union[np.ndarray, str]


class FrameSource:
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
    source = FrameSource(frames)
    if source._capture is not None:
        source._capture.release()
    return source.length


def video_fps(frames) -> Optional[float]:
    """Frame rate of a video file (None for anything else or when the file has none)."""
    if not isinstance(frames, (str, os.PathLike)) or not osp.isfile(str(frames)):
        return None
    import cv2

    capture = cv2.VideoCapture(str(frames))
    try:
        fps = capture.get(cv2.CAP_PROP_FPS) if capture.isOpened() else 0.0
    finally:
        capture.release()
    return float(fps) if fps and fps > 0 else None


def load_frame(frame: FrameLike) -> np.ndarray:
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


class LazyFrames(Sequence):
    """The ``images`` list of a video's info; frames are read on access and cached."""

    def __init__(self, source: FrameSource) -> None:
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
            img = load_frame(frame)
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


class CurrentFrame(Sequence):
    """The ``images`` of a stream whose frames arrive one by one (the per-frame API).

    It has ``frame_id + 1`` entries, of which only the current one, ``frame_id``, holds an
    image: the streaming frame samplers attach no other frame, they only read an earlier
    frame's ``frame_id`` (a segment's key frame), which in a stream is its index.
    """

    def __init__(self, img: np.ndarray, frame_id: int) -> None:
        self.frame_id = frame_id
        self._info = {
            'img': img,
            'img_path': None,
            'img_id': frame_id,
            'frame_id': frame_id,
            'ori_shape': img.shape[:2],
        }

    def __len__(self) -> int:
        return self.frame_id + 1

    def __getitem__(self, index):
        if not 0 <= index <= self.frame_id:
            raise IndexError(f'frame {index} is not in the stream (frames 0..{self.frame_id})')
        return self._info if index == self.frame_id else {'frame_id': index}
