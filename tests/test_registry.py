"""A config's ``custom_imports`` registers every mmpsla module into mmdet's registries."""

import json
import subprocess
import sys
import textwrap

import pytest

EXPECTED = {
    'MODELS': [
        'PSLAAlign',
        'DensePSLAAlign',
        'MatchTransAlign',
        'NonLocalAlign',
        'RFU',
        'DenseFT',
        'PSLAVideoDetector',
        'FrameBaselineDetector',
        'DFF',
        'FGFA',
        'FlowNetSimple',
        'EmbedAggregator',
    ],
    'DATASETS': ['ImagenetVIDDataset'],
    'TRANSFORMS': ['PSLATrainFrameSample', 'PSLAKeyFrameSchedule', 'VIDRefFrameSample'],
    'METRICS': ['VIDMetric'],
}

PROBE = textwrap.dedent(
    """
    import json, sys
    from mmengine.config import Config
    from mmengine.registry import init_default_scope
    from mmdet import registry

    cfg = Config.fromfile(sys.argv[1])   # custom_imports is executed here
    init_default_scope(cfg.default_scope)
    found = {name: sorted(getattr(registry, name).module_dict)
             for name in ('MODELS', 'DATASETS', 'TRANSFORMS', 'METRICS')}
    align = registry.MODELS.build(cfg.model)
    print(json.dumps(dict(found=found, built=type(align).__name__)))
    """
)


@pytest.fixture(scope='module')
def registered(tmp_path_factory):
    tmp = tmp_path_factory.mktemp('registry')
    config = tmp / 'plugin_config.py'
    config.write_text(
        textwrap.dedent(
            """
            default_scope = 'mmdet'
            custom_imports = dict(imports=['mmpsla'], allow_failed_imports=False)
            model = dict(type='PSLAAlign', in_channels=8, embed_channels=4, max_displacement=2)
            """
        )
    )
    probe = tmp / 'probe.py'
    probe.write_text(PROBE)
    out = subprocess.run(
        [sys.executable, str(probe), str(config)], capture_output=True, text=True, check=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize(
    'registry,name', [(reg, name) for reg, names in EXPECTED.items() for name in names]
)
def test_module_is_registered(registered, registry, name):
    assert name in registered['found'][registry]


def test_config_builds_a_registered_module(registered):
    assert registered['built'] == 'PSLAAlign'
