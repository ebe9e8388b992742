"""Builders of video-level data infos for the frame-sampler tests (not a test module)."""


def make_video_infos(length, video_id=3, key_frame_id=None, target_frame_inds=None):
    """Video info as ``BaseVideoDataset`` hands it to the pipeline (frame_id = 100 + i)."""
    images = [
        {
            'img_id': 1000 + i,
            'img_path': f'v{video_id}/{i:06d}.jpg',
            'frame_id': 100 + i,
            'height': 32,
            'width': 48,
            'instances': [
                {
                    'bbox': [1.0, 2.0, 10.0, 12.0],
                    'bbox_label': 0,
                    'instance_id': 1,
                    'ignore_flag': 0,
                }
            ],
        }
        for i in range(length)
    ]
    infos = {'video_id': video_id, 'video_length': length, 'images': images}
    if key_frame_id is not None:
        infos['key_frame_id'] = key_frame_id
    if target_frame_inds is not None:
        infos['target_frame_inds'] = target_frame_inds
    return infos


def positions(results):
    """Frame positions (``img_id - 1000``) of a sampler's output."""
    return [img_id - 1000 for img_id in results['img_id']]
