"""Procedural toy video-segmentation set in the CityScapes sequence layout."""

from .dataset import ToySegVideoDataset
from .generator import TOY_SEG_CLASSES, TOY_SEG_PALETTE, make_toy_seg

__all__ = ['ToySegVideoDataset', 'TOY_SEG_CLASSES', 'TOY_SEG_PALETTE', 'make_toy_seg']
