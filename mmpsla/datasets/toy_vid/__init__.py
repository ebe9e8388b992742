"""Procedural toy video-object-detection dataset (the embedded default of mmpsla).

``make_toy_vid(out_dir, seed=0)`` renders short videos of textured objects of
``TOY_CLASSES`` moving over a cluttered background and writes them as JPEG frames plus
CocoVID JSON (``annotations/train.json`` and ``annotations/val.json``)::

    out_dir/
      annotations/train.json, annotations/val.json
      Data/train/toy_train_0000/000000.jpg ...
      Data/val/toy_val_0000/000000.jpg ...

``file_name`` in the JSON is relative to ``out_dir/Data/``.

Why it is a *video* dataset: the class of an object is carried by its shape and its
texture (colours are drawn from one palette shared by all classes). About 30 % of the
frames, in short contiguous bursts, are degraded by motion blur, defocus or heavy sensor
noise, which wipes out texture and fine shape detail while the coarse blob (position,
extent) stays visible. A single-frame detector struggles on those frames; a detector that
propagates features from clean key frames (PSLA, DFF, FGFA) can recover them. Every image
records ``is_degraded`` and ``degradation`` so the metric can report both subsets.

Objects move at slow / medium / fast speeds (bouncing off the borders) and occlude each
other (``occluded`` marks boxes whose object is more than 25 % hidden; objects hidden by
more than 90 % are not annotated, like ImageNet VID); each annotation also records the
``speed`` class its object was generated with (the metric measures motion itself, FGFA-style).

Everything is a pure function of ``seed`` and the size arguments: the same call writes
byte-identical JSON and pixel-identical frames.

Default size: 48 train videos and 12 val videos of 25 frames (1200 + 300 frames, about 140
+ 35 objects), generated in a few seconds. Many short videos rather than a few long ones
give a detector more distinct object instances to learn the classes from. Measured with a
small CNN trained on ground-truth crops of the default train split and tested on the crops
of 48 fresh videos (seed 1): 0.79 accuracy on clean frames, 0.34 on degraded frames
(chance: 0.25), i.e. the degradations remove most of the class evidence.

One module per job: :mod:`.shapes` (silhouettes, textures, palette), :mod:`.motion`
(objects and their motion), :mod:`.degradation` (blur/defocus/noise and their bursts),
:mod:`.rendering` (frames and videos in memory, reusable by other toy sets) and
:mod:`.writer` (JPEG + CocoVID files, reuse of an existing set, locking).
"""

from .degradation import TOY_DEGRADATIONS, degradation_schedule, degrade_frame
from .motion import TOY_SPEEDS, ToyObject, spawn_objects
from .rendering import ToyFrame, draw_object, render_background, render_video
from .shapes import PALETTE, TOY_CLASSES, shape_mask, texture
from .writer import GENERATOR_VERSION, make_toy_vid

__all__ = [
    'make_toy_vid',
    'GENERATOR_VERSION',
    'TOY_CLASSES',
    'TOY_DEGRADATIONS',
    'TOY_SPEEDS',
    'PALETTE',
    'ToyObject',
    'ToyFrame',
    'shape_mask',
    'texture',
    'spawn_objects',
    'degrade_frame',
    'degradation_schedule',
    'render_background',
    'draw_object',
    'render_video',
]
