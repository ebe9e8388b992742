"""Build and install mmpsla together with its compiled PSLA operator.

The extension ``mmpsla._ext`` is built from ``ops/csrc``:

* the C++ CPU kernels are always built;
* the CUDA kernels are added when ``FORCE_CUDA=1`` is set or when torch sees a CUDA
  device and a CUDA toolkit (``TORCH_CUDA_ARCH_LIST`` selects the architectures, as
  for any torch extension);
* ``MMPSLA_WITH_OPS=0`` skips the extension entirely: the operator then refuses to run
  unless ``MMPSLA_ALLOW_REFERENCE_OP=1`` allows the slow pure-PyTorch reference.

The fingerprint of ``ops/csrc`` (``mmpsla/ops/source_hash.py``) is compiled in, so that
an extension older than its sources is detected at run time.
"""

import glob
import importlib.util
import os
import os.path as osp

from setuptools import find_packages, setup

ROOT = osp.dirname(osp.abspath(__file__))
CSRC = osp.join('ops', 'csrc')


def read_version() -> str:
    namespace: dict = {}
    with open(osp.join(ROOT, 'mmpsla', 'version.py'), encoding='utf-8') as f:
        exec(f.read(), namespace)
    return namespace['__version__']


def read_requirements(name: str) -> list:
    path = osp.join(ROOT, 'requirements', name)
    with open(path, encoding='utf-8') as f:
        lines = (line.split('#', 1)[0].strip() for line in f)
        return [line for line in lines if line]


def want_cuda() -> bool:
    if os.getenv('FORCE_CUDA', '0') == '1':
        return True
    import torch
    from torch.utils.cpp_extension import CUDA_HOME

    return torch.cuda.is_available() and CUDA_HOME is not None


def write_source_hash_header() -> str:
    """Writes build/mmpsla_generated/mmpsla_source_hash.h; returns its folder."""
    path = osp.join(ROOT, 'mmpsla', 'ops', 'source_hash.py')
    spec = importlib.util.spec_from_file_location('_mmpsla_source_hash', path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    folder = osp.join(ROOT, 'build', 'mmpsla_generated')
    os.makedirs(folder, exist_ok=True)
    text = f'#define MMPSLA_SOURCE_HASH "{module.source_hash(osp.join(ROOT, CSRC))}"\n'
    header = osp.join(folder, 'mmpsla_source_hash.h')
    if not osp.exists(header) or open(header).read() != text:
        with open(header, 'w') as f:
            f.write(text)
    return folder


def get_extensions() -> list:
    if os.getenv('MMPSLA_WITH_OPS', '1') == '0':
        return []
    from torch.utils.cpp_extension import CppExtension, CUDAExtension

    sources = sorted(glob.glob(osp.join(CSRC, '*.cpp')))
    sources += sorted(glob.glob(osp.join(CSRC, 'cpu', '*.cpp')))
    cxx_flags = ['-O3', '-std=c++17', '-fopenmp']
    define_macros = []
    extra = dict(cxx=cxx_flags)
    ext_cls = CppExtension
    if want_cuda():
        sources += sorted(glob.glob(osp.join(CSRC, 'cuda', '*.cu')))
        define_macros.append(('MMPSLA_WITH_CUDA', None))
        extra['nvcc'] = ['-O3', '-std=c++17', '--expt-relaxed-constexpr']
        ext_cls = CUDAExtension
    return [
        ext_cls(
            name='mmpsla._ext',
            sources=sources,
            include_dirs=[osp.join(ROOT, CSRC), write_source_hash_header()],
            define_macros=define_macros,
            extra_compile_args=extra,
            extra_link_args=['-fopenmp'],
        )
    ]


def get_cmdclass() -> dict:
    if os.getenv('MMPSLA_WITH_OPS', '1') == '0':
        return {}
    from torch.utils.cpp_extension import BuildExtension

    return {'build_ext': BuildExtension.with_options(use_ninja=True)}


setup(
    name='mmpsla',
    version=read_version(),
    description='Progressive Sparse Local Attention video object detection for OpenMMLab',
    long_description=open(osp.join(ROOT, 'README.md'), encoding='utf-8').read(),
    long_description_content_type='text/markdown',
    license='Apache-2.0',
    python_requires='>=3.9',
    packages=find_packages(exclude=('tests', 'tests.*', 'configs', 'tools', 'benchmarks')),
    include_package_data=True,
    install_requires=read_requirements('runtime.txt'),
    extras_require=dict(
        tests=read_requirements('tests.txt'),
        seg=read_requirements('optional.txt'),
    ),
    ext_modules=get_extensions(),
    cmdclass=get_cmdclass(),
    zip_safe=False,
)
