"""--dtype bfloat16: the convolutions in bfloat16, everything else float32; refused where the
CPU lacks AVX512-BF16 or on a GPU. The float32 default is guarded by tests/test_golden.py."""
import re

import mxnet as mx
import numpy as np
import pytest

import model_vgg19
import nstyle
from neural_style import machine
from neural_style import mxnet_runtime as device
from neural_style.errors import NstyleError
from neural_style.gatys.losses import get_loss, style_gram_symbol
from conftest import CONTENT, STYLE

HAS_BF16 = 'avx512_bf16' in machine.cpu_flags()
SIZE = (48, 64)


def loss_symbols():
    with mx.name.NameManager():
        style, content = model_vgg19.get_symbol()
        gram, _ = style_gram_symbol(SIZE, style)
        return get_loss(gram, content)


def test_only_the_convolutions_compute_in_bfloat16():
    style_loss, content_loss = loss_symbols()
    converted = model_vgg19.bfloat16_convolutions(mx.sym.Group([style_loss, content_loss]))
    internals = converted.get_internals()
    _, types, _ = internals.infer_type(**{name: 'float32' for name in converted.list_arguments()})
    types = {name[:-len('_output')]: np.dtype(t) for name, t in zip(internals.list_outputs(), types)
             if name.endswith('_output')}
    bfloat16 = np.dtype([('bfloat16', '<u2')])  # how MXNet names the type to numpy

    def of(prefix):
        return {name: t for name, t in types.items() if re.fullmatch(prefix + r'[\d_]+', name)}

    assert len(of('conv')) == 13 and len(of('fullyconnected')) == 5  # conv1_1 ... conv5_1; 5 Grams
    assert set(of('conv').values()) == set(of('pool').values()) == {bfloat16}
    # the ReLUs that feed the Grams and the content loss stay float32 (a fast gradient sum); the others not
    taps = {'relu1_1', 'relu2_1', 'relu3_1', 'relu4_1', 'relu4_2', 'relu5_1'}
    assert model_vgg19.feature_taps(mx.sym.Group([style_loss, content_loss])) == taps
    assert {name for name, t in of('relu').items() if t == np.float32} == taps
    assert {name for name, t in of('relu').items() if t == bfloat16} == set(of('relu')) - taps
    assert set(of('fullyconnected').values()) == set(of('sum').values()) == {np.dtype(np.float32)}
    outputs = converted.infer_type(**{name: 'float32' for name in converted.list_arguments()})[1]
    assert [np.dtype(t) for t in outputs] == [np.dtype(np.float32)] * 6  # the losses


def test_refused_without_avx512_bf16(tmp_path, vgg_params, monkeypatch):
    monkeypatch.setattr(device, 'cpu_flags', lambda: {'avx2', 'fma', 'avx512f'})
    args = nstyle.get_args(['--gpu', '-1', '--dtype', 'bfloat16', '--max-long-edge', '32', '--vgg-params', vgg_params,
                            '--content-image', CONTENT, '--style-image', STYLE, '--output_dir', str(tmp_path / 'out')])
    with pytest.raises(NstyleError, match=r'^--dtype bfloat16: this CPU has no AVX512-BF16 .* use the '
                                                 r'default --dtype float32$'):
        nstyle.train_nstyle(args)
    assert not (tmp_path / 'out').exists()


def test_refused_on_a_gpu():
    with pytest.raises(NstyleError, match='runs on the CPU only.*--gpu -1'):
        device.check_bfloat16(mx.gpu(0))


# Two processors of a /proc/cpuinfo as Linux writes it (shortened): "flags" lines, and a
# "vmx flags" line that is not the instruction set.
CPUINFO = """processor\t: 0
vendor_id\t: AuthenticAMD
model name\t: AMD EPYC 9R14 96-Core Processor
flags\t\t: fpu sse2 avx2 avx512f avx512_bf16
vmx flags\t: vnmi invvpid
bugs\t\t: sysret_ss_attrs

processor\t: 1
flags\t\t: fpu sse2
"""


def test_cpu_flags_are_the_first_flags_line_of_proc_cpuinfo(tmp_path, monkeypatch):
    """machine.cpu_flags reads the fixed path /proc/cpuinfo (it takes no path): its `open` is
    pointed at a written file."""
    fake = tmp_path / 'cpuinfo'
    fake.write_text(CPUINFO)
    opened = []

    def fake_open(path, *args, **kwargs):
        opened.append(path)
        return open(fake, *args, **kwargs)

    monkeypatch.setattr(machine, 'open', fake_open, raising=False)
    assert machine.cpu_flags() == {'fpu', 'sse2', 'avx2', 'avx512f', 'avx512_bf16'}
    assert opened == ['/proc/cpuinfo']
    fake.write_text('processor\t: 0\nmodel name\t: no flags line\n')
    assert machine.cpu_flags() == set()


def test_cpu_flags_without_proc_cpuinfo_are_empty(monkeypatch):
    def no_file(path, *args, **kwargs):
        raise FileNotFoundError(2, 'No such file or directory', path)

    monkeypatch.setattr(machine, 'open', no_file, raising=False)
    assert machine.cpu_flags() == set()


def test_other_dtypes_are_refused(capsys):
    with pytest.raises(SystemExit) as exit_info:
        nstyle.get_args(['--dtype', 'float16'])
    assert exit_info.value.code == 2 and "argument --dtype: invalid choice: 'float16'" in capsys.readouterr().err


@pytest.mark.skipif(not HAS_BF16, reason='this CPU has no AVX512-BF16 instructions')
def test_bfloat16_gradient_is_close_to_float32_and_not_equal(params):
    """One forward and backward of the loss executor on the same image and targets, in both types."""
    rng = np.random.RandomState(0)
    image = rng.uniform(-60, 60, size=(1, 3) + SIZE)
    style_loss, content_loss = loss_symbols()
    results = {}
    for dtype in ('float32', 'bfloat16'):
        executor = model_vgg19.get_executor(style_loss, content_loss, SIZE, mx.cpu(), params, dtype=dtype)
        target_rng = np.random.RandomState(1)
        for name, array in executor.arg_dict.items():
            if name.startswith('target_'):
                array[:] = target_rng.uniform(0, 1e3, size=array.shape)
        executor.data[:] = image
        executor.executor.forward(is_train=True)
        executor.executor.backward([mx.nd.ones((1,)) * w for w in (1e-6,) * 5 + (1.0,)])
        results[dtype] = (executor.data_grad.asnumpy(), [o.asscalar() for o in executor.executor.outputs])
    grad32, losses32 = results['float32']
    grad16, losses16 = results['bfloat16']
    relative = np.linalg.norm(grad16 - grad32) / np.linalg.norm(grad32)
    assert 1e-5 < relative < 5e-2  # bfloat16 really ran (8-bit mantissa), and stays close
    np.testing.assert_allclose(losses16, losses32, rtol=2e-2)
