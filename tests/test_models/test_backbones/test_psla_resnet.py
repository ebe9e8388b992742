"""PSLAResNet: N_l is a weight-sharing prefix of N_f."""

import pytest
import torch

from mmpsla.models.backbones import PSLAResNet


def _tiny(**kwargs):
    cfg = {
        'depth': 18,
        'stage_blocks': (1, 1, 3, 1),
        'base_channels': 8,
        'low_level_blocks': 2,
        'feat_channels': 12,
        'norm_cfg': {'type': 'GN', 'num_groups': 4},
        'init_cfg': None,
    }
    cfg.update(kwargs)
    return PSLAResNet(**cfg)


def test_low_level_output_is_the_intermediate_activation_of_n_f():
    torch.manual_seed(0)
    net = _tiny()
    net.eval()
    x = torch.randn(2, 3, 64, 96)
    captured = {}
    handle = net.layer3[1].register_forward_hook(lambda m, i, o: captured.setdefault('f', o))
    f_h = net(x)
    handle.remove()
    f_l = net.forward_low(x)
    assert f_l.shape == (2, 32, 4, 6)  # stride 16, res4 channels
    assert f_h.shape == (2, 12, 4, 6)  # DC5: res5 keeps stride 16
    torch.testing.assert_close(f_l, captured['f'])
    torch.testing.assert_close(net.forward_high(f_l), f_h)


def test_parameters_are_shared_not_copied():
    net = _tiny()
    names = [n for n, _ in net.named_parameters()]
    assert len(names) == len(set(names))
    # N_l's modules are the first blocks of N_f: a change to res2 shows in both outputs
    x = torch.randn(1, 3, 32, 32)
    before_low, before_high = net.forward_low(x), net(x)
    with torch.no_grad():
        net.layer1[0].conv1.weight.mul_(2.0)
    assert not torch.allclose(net.forward_low(x), before_low)
    assert not torch.allclose(net(x), before_high)
    # gradients of an N_l loss reach the shared stem
    net.zero_grad()
    net.forward_low(x).sum().backward()
    assert net.conv1.weight.grad.abs().sum() > 0
    assert net.layer4[0].conv1.weight.grad is None  # res5 is not part of N_l


def test_r50_split_matches_res4b3_and_dilation():
    net = PSLAResNet(depth=50, init_cfg=None)
    assert net.stage_blocks == (3, 4, 6, 3)
    assert net.low_level_blocks == 4 and net.low_channels == 1024
    assert net.layer4[0].conv2.dilation == (2, 2) and net.layer4[0].conv2.stride == (1, 1)
    assert net.feat_conv.out_channels == 1024


def test_bad_low_level_blocks():
    with pytest.raises(ValueError, match='low_level_blocks'):
        _tiny(low_level_blocks=4)
