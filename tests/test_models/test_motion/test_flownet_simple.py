import pytest
import torch
from mmdet.registry import MODELS

from mmpsla.models.motion import FlowNetSimple

MEAN = [123.675, 116.28, 103.53]
STD = [58.395, 57.12, 57.375]


def _num_params(module):
    return sum(p.numel() for p in module.parameters())


def _expected_params(width_mult=1.0):
    """FlowNet-S parameter count computed layer by layer from the architecture."""
    w = [max(1, round(c * width_mult)) for c in (64, 128, 256, 512, 512, 1024)]
    kernels = (7, 5, 5, 3, 3, 3)
    convs = (1, 1, 2, 2, 2, 2)
    total, cin = 0, 6
    for planes, k, n in zip(w, kernels, convs):
        total += cin * planes * k * k + planes  # strided conv (bias)
        total += (n - 1) * (planes * planes * 9 + planes)  # 3x3 convs (bias)
        cin = planes
    concat = w[5]
    for scale in range(6, 2, -1):
        deconv_out = max(1, w[5] // 2 ** (7 - scale))
        total += concat * deconv_out * 16  # deconv, no bias
        total += concat * 2 * 9  # predict_flow, no bias
        total += 2 * 2 * 16  # upsample_flow, no bias
        concat = w[scale - 2] + deconv_out + 2
    return total + concat * 2 * 9


def test_standard_parameter_count():
    net = FlowNetSimple(img_scale_factor=0.5)
    assert _expected_params() == 38_675_536
    assert _num_params(net) == 38_675_536  # the paper rounds FlowNet-S to 37M


def test_small_variant_parameter_count_and_repr():
    net = MODELS.build(dict(type='FlowNetSimple', img_scale_factor=0.5, width_mult=0.125))
    assert _num_params(net) == _expected_params(0.125)
    assert _num_params(net) < 1_000_000
    assert 'width_mult=0.125' in repr(net)
    assert 'img_scale_factor=0.5' in repr(net)


def test_state_dict_keys_follow_mmtrack_layout():
    keys = set(FlowNetSimple(width_mult=0.125).state_dict())
    for key in (
        'conv1.0.conv.weight',
        'conv3.1.conv.bias',
        'conv6.1.conv.weight',
        'deconv5.conv.weight',
        'deconv2.conv.weight',
        'predict_flow6.conv.weight',
        'predict_flow3.conv.weight',
        'upsample_flow5.conv.weight',
        'upsample_flow2.conv.weight',
        'predict_flow.conv.weight',
    ):
        assert key in keys
    assert not any('norm' in k for k in keys)


@pytest.mark.parametrize('size,scale', [((64, 96), 0.5), ((70, 101), 0.5), ((48, 64), 1.0)])
def test_output_shape_stride4(size, scale):
    torch.manual_seed(0)
    net = FlowNetSimple(img_scale_factor=scale, width_mult=0.125)
    imgs = torch.randn(3, 6, *size)
    flow = net(imgs, dict(img_shape=size), dict(mean=MEAN, std=STD))
    assert flow.shape == (3, 2, -(-size[0] // 4), -(-size[1] // 4))
    assert torch.isfinite(flow).all()


def test_prepare_imgs_undoes_normalisation_and_zeros_padding():
    net = FlowNetSimple(img_scale_factor=1.0, width_mult=0.125)
    raw = torch.full((1, 6, 8, 8), 255.0)
    normed = (raw - torch.tensor(MEAN * 2).view(1, 6, 1, 1)) / torch.tensor(STD * 2).view(
        1, 6, 1, 1
    )
    out = net.prepare_imgs(normed, dict(img_shape=(5, 6)), dict(mean=MEAN, std=STD))
    expected = 1.0 - torch.tensor([0.411, 0.432, 0.450] * 2).view(1, 6, 1, 1)
    torch.testing.assert_close(out[..., :5, :6], expected.expand(1, 6, 5, 6))
    assert torch.count_nonzero(out[..., 5:, :]) == 0
    assert torch.count_nonzero(out[..., :, 6:]) == 0
    half = FlowNetSimple(img_scale_factor=0.5, width_mult=0.125)
    assert half.prepare_imgs(normed).shape == (1, 6, 4, 4)


def test_flow_scaling():
    """The output is (raw prediction x flow_scale_factor), resized to stride 4."""
    torch.manual_seed(0)
    net1 = FlowNetSimple(img_scale_factor=1.0, flow_scale_factor=1.0, width_mult=0.125)
    net5 = FlowNetSimple(img_scale_factor=1.0, flow_scale_factor=5.0, width_mult=0.125)
    net5.load_state_dict(net1.state_dict())
    imgs = torch.randn(1, 6, 64, 64)
    torch.testing.assert_close(net5(imgs), 5 * net1(imgs))
    # at half resolution the prediction grid is 8 px; values are doubled to 4-px units
    net_half = FlowNetSimple(img_scale_factor=0.5, flow_scale_factor=1.0, width_mult=0.125)
    net_half.load_state_dict(net1.state_dict())
    # make the raw prediction a constant (1, -1) on the 8-px grid
    net_half.predict_flow.register_forward_hook(
        lambda m, i, o: torch.stack((torch.ones_like(o[:, 0]), -torch.ones_like(o[:, 1])), 1)
    )
    flow = net_half(torch.randn(1, 6, 64, 64))
    assert flow.shape == (1, 2, 16, 16)
    torch.testing.assert_close(flow[:, 0], torch.full((1, 16, 16), 2.0))
    torch.testing.assert_close(flow[:, 1], torch.full((1, 16, 16), -2.0))


def test_gradients_flow_to_all_layers():
    net = FlowNetSimple(img_scale_factor=0.5, width_mult=0.125)
    flow = net(torch.randn(1, 6, 64, 64))
    flow.square().mean().backward()
    for name, p in net.named_parameters():
        assert p.grad is not None and p.grad.abs().sum() > 0, name


def test_bad_arguments():
    with pytest.raises(ValueError, match='img_scale_factor'):
        FlowNetSimple(img_scale_factor=0)
    with pytest.raises(ValueError, match='width_mult'):
        FlowNetSimple(width_mult=-1)
    with pytest.raises(ValueError, match='out_indices'):
        FlowNetSimple(out_indices=(3, 4))
    net = FlowNetSimple(width_mult=0.125)
    with pytest.raises(ValueError, match='imgs'):
        net(torch.randn(1, 3, 32, 32))
