from .target_frame_sampler import TargetFrameSampler

__all__ = ['TargetFrameSampler']
