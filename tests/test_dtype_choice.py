"""--dtype auto's choice (neural_style.dtype_choice): the rule, the per-machine cache and its keys,
a corrupt cache. The timed check is replaced by fixed timings, except in one run of the real check
that asserts only what it returns, never a time."""
import json
import os

import pytest

from neural_style.dtype_choice import cache_path, choose_dtype

BF16_CPU = ('Test CPU with bf16', {'avx512f', 'avx512_bf16'})


class CPU:
    device_type = 'cpu'


class GPU:
    device_type = 'gpu'


class FixedTimings:
    """measure(size) -> (float32 s, bfloat16 s), counting its calls and the sizes asked."""

    def __init__(self, float32_s, bfloat16_s):
        self.timings, self.sizes = (float32_s, bfloat16_s), []

    def __call__(self, size):
        self.sizes.append(size)
        return self.timings


def choose(tmp_path, measure, cpu=BF16_CPU, mxnet_version='1.9.1', size=(400, 600)):
    return choose_dtype(CPU(), size, cache_dir=str(tmp_path), measure=measure, mxnet_version=mxnet_version, cpu=cpu)


def test_bfloat16_only_where_clearly_faster(tmp_path):
    assert choose(tmp_path / 'a', FixedTimings(1.0, 0.5))[0] == 'bfloat16'
    assert choose(tmp_path / 'b', FixedTimings(1.0, 1.5))[0] == 'float32'
    assert choose(tmp_path / 'c', FixedTimings(1.0, 0.95))[0] == 'float32'  # a near tie is noise


def test_no_measurement_without_bf16_instructions_or_on_a_gpu(tmp_path):
    never = FixedTimings(1.0, 0.1)
    dtype, reason = choose(tmp_path, never, cpu=('Old CPU', {'avx2'}))
    assert dtype == 'float32' and 'AVX512-BF16' in reason and 'Old CPU' in reason
    assert choose_dtype(GPU(), (400, 600), cache_dir=str(tmp_path), measure=never)[0] == 'float32'
    assert never.sizes == [] and os.listdir(tmp_path) == []


def test_the_cache_is_used_and_keyed_by_cpu_and_mxnet(tmp_path):
    first = FixedTimings(1.0, 0.5)
    dtype, reason = choose(tmp_path, first)
    assert dtype == 'bfloat16' and '0.50x' in reason and 'measured' in reason
    assert first.sizes == [(400, 600)]
    path = cache_path(str(tmp_path), BF16_CPU[0], '1.9.1')
    with open(path) as f:
        cached = json.load(f)
    assert cached['cpu'] == BF16_CPU[0] and cached['mxnet'] == '1.9.1'
    assert cached['sizes']['400x600'] == {'float32_s': 1.0, 'bfloat16_s': 0.5}

    again = FixedTimings(1.0, 2.0)  # would say float32: the cache answers instead
    dtype, reason = choose(tmp_path, again)
    assert (dtype, again.sizes) == ('bfloat16', []) and 'cached' in reason
    assert choose(tmp_path, again, size=(403, 605))[0] == 'bfloat16'  # rounded to the same 8s
    assert again.sizes == []

    assert choose(tmp_path, again, size=(800, 1200))[0] == 'float32'  # another size: measured, added
    assert again.sizes == [(800, 1200)]
    with open(path) as f:
        assert sorted(json.load(f)['sizes']) == ['400x600', '800x1200']

    other_cpu = FixedTimings(1.0, 2.0)
    assert choose(tmp_path, other_cpu, cpu=('Another CPU', BF16_CPU[1]))[0] == 'float32'
    other_mxnet = FixedTimings(1.0, 2.0)
    assert choose(tmp_path, other_mxnet, mxnet_version='2.0.0')[0] == 'float32'
    assert other_cpu.sizes == other_mxnet.sizes == [(400, 600)]
    assert len(set(os.listdir(tmp_path))) == 3  # one file each, no temporary left behind


def test_a_failing_check_means_float32_and_nothing_cached(tmp_path):
    def fails(size):
        raise RuntimeError('no bfloat16 kernel\nmore')
    dtype, reason = choose(tmp_path, fails)
    assert dtype == 'float32' and 'no bfloat16 kernel' in reason and '\n' not in reason
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize('content', ['{not json', '', '[1, 2]', '{"version": 1, "cpu": "Test CPU with bf16", '
                                     '"mxnet": "1.9.1", "sizes": {"400x600": {"float32_s": "x"}}}'])
def test_a_corrupt_cache_is_ignored_and_rewritten(tmp_path, content):
    path = cache_path(str(tmp_path), BF16_CPU[0], '1.9.1')
    with open(path, 'w') as f:
        f.write(content)
    measure = FixedTimings(1.0, 0.5)
    assert choose(tmp_path, measure)[0] == 'bfloat16'
    assert measure.sizes == [(400, 600)]
    with open(path) as f:
        assert json.load(f)['sizes']['400x600'] == {'float32_s': 1.0, 'bfloat16_s': 0.5}


def test_the_real_check_runs(tmp_path):
    """The timed check itself at a tiny size: whatever it measures, a choice and its reason (on a CPU
    without AVX512-BF16 there is nothing to measure, and the answer is float32)."""
    import mxnet as mx
    from neural_style.dtype_choice import cpu_model_and_flags, measure_convolutions
    if 'avx512_bf16' in cpu_model_and_flags()[1]:  # elsewhere oneDNN may have no bfloat16 kernel at all
        float32_s, bfloat16_s = measure_convolutions((32, 48), repeats=1)
        assert float32_s > 0 and bfloat16_s > 0
    dtype, reason = choose_dtype(mx.cpu(), (32, 48), cache_dir=str(tmp_path))
    assert dtype in ('float32', 'bfloat16') and reason.startswith(dtype + ':')
    if 'avx512_bf16' not in cpu_model_and_flags()[1]:
        assert dtype == 'float32'
