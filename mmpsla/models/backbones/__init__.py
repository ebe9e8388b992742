"""Backbones: the key/non-key split of one ResNet (N_f and its prefix N_l)."""

from .psla_resnet import PSLAResNet

__all__ = ['PSLAResNet']
