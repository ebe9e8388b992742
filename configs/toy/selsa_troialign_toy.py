# ruff: noqa: C408  (OpenMMLab configs are written with dict(...))
# Temporal RoI Align (Gong et al., AAAI 2021) on SELSA, on the toy VID set: configs/toy/
# selsa_toy.py with the RoI extractor replaced by TemporalRoIAlign (the 2 most similar points
# per reference frame, 4 temporal attention blocks) and 3 shared FCs, as mmtrack's TRoI Align
# R50 config sets them.
_base_ = ['./selsa_toy.py']

model = dict(
    detector=dict(
        roi_head=dict(
            bbox_roi_extractor=dict(
                type='TemporalRoIAlign',
                num_most_similar_points=2,
                num_temporal_attention_blocks=4,
            ),
            bbox_head=dict(num_shared_fcs=3),
        )
    )
)
