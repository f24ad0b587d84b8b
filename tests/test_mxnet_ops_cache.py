"""MXNet's operator functions from the compiled-code cache (neural_style/mxnet_ops_cache.py): the
same functions as MXNet compiles itself, computing the same numbers, the cache written once and
read after, a damaged cache (or one of another format) ignored and rewritten."""
import marshal
import os
import subprocess
import sys
import types

import pytest

from conftest import PROJECT

# In a fresh process: import MXNet (through the cache or not), then print a fingerprint of every
# generated operator function (its bytecode and constants, the operator handle masked, its names and
# docstring), and numbers computed by a few operators through mx.nd and mx.sym.
PROBE = r'''
import sys, types, hashlib
sys.path.insert(0, %(here)r)
if %(cached)r:
    import neural_style.mxnet_runtime
else:
    import neural_style.mxnet_ops_cache as ops_cache
    ops_cache.MODULES = ()  # the finder intercepts nothing: MXNet compiles its functions itself
    import neural_style.mxnet_runtime
import mxnet as mx
import numpy as np

def fingerprint(code):
    constants = tuple(fingerprint(c) if isinstance(c, types.CodeType) else
                      ('handle' if type(c) is int and c > 2 ** 40 else c) for c in code.co_consts)
    return repr((code.co_code, constants, code.co_names, code.co_varnames, code.co_firstlineno))

digest, count = hashlib.sha1(), 0
for name in sorted(m for m in sys.modules if m.startswith('mxnet')):
    for key, value in sorted(vars(sys.modules[name]).items()):
        if isinstance(value, types.FunctionType) and value.__code__.co_filename == '<string>':
            digest.update(('%%s.%%s %%s %%s' %% (name, key, fingerprint(value.__code__), value.__doc__)).encode())
            count += 1
a = np.arange(12, dtype=np.float32).reshape(3, 4)
x = mx.sym.Variable('x')
executor = mx.sym.FullyConnected(x, num_hidden=2, no_bias=True, name='fc').bind(
    mx.cpu(), {'x': mx.nd.array(a), 'fc_weight': mx.nd.array(a[:2])})
print(count, digest.hexdigest())
print((mx.nd.broadcast_add(mx.nd.array(a), mx.nd.ones((1, 4))).asnumpy() == a + 1).all(),
      (executor.forward()[0].asnumpy() == a @ a[:2].T).all())
'''


def probe(cache_home, cached):
    env = dict(os.environ, XDG_CACHE_HOME=str(cache_home))
    result = subprocess.run([sys.executable, '-c', PROBE % {'here': PROJECT, 'cached': cached}], env=env,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    return result.stdout.split('\n')[:2]


def cache_files(cache_home):
    folder = cache_home / 'neural-style'
    return sorted(folder.glob('mxnet-ops-*.marshal')) if folder.exists() else []


def test_cached_functions_are_the_ones_mxnet_compiles_and_compute_the_same(tmp_path):
    plain = probe(tmp_path / 'none', cached=False)
    assert cache_files(tmp_path / 'none') == []
    first = probe(tmp_path, cached=True)  # compiles, writes the cache
    [cache] = cache_files(tmp_path)
    written = cache.stat().st_mtime_ns
    second = probe(tmp_path, cached=True)  # reads it, learns nothing: not rewritten
    assert cache.stat().st_mtime_ns == written
    count = int(plain[0].split()[0])
    assert count > 2000  # mx.nd's, mx.sym's and the numpy interface's operators
    assert first == second == plain
    assert plain[1] == 'True True'


@pytest.mark.parametrize('damage', ['not marshal', 'another format', 'damaged codes'])
def test_a_damaged_cache_is_ignored_and_rewritten(tmp_path, damage):
    probe(tmp_path, cached=True)
    [cache] = cache_files(tmp_path)
    good = cache.read_bytes()
    saved = marshal.loads(good)
    cache.write_bytes({'not marshal': b'not a marshal file',
                       'another format': marshal.dumps({key: compile('1', '<string>', 'exec') for key in saved['codes']}),
                       'damaged codes': marshal.dumps(dict(saved, codes={key: b'x' for key in saved['codes']}))}[damage])
    assert probe(tmp_path, cached=True)[1] == 'True True'
    rewritten = marshal.loads(cache.read_bytes())
    assert rewritten['format'] == saved['format'] and rewritten['codes'].keys() == saved['codes'].keys()
    assert all(isinstance(marshal.loads(blob), types.CodeType) for blob in rewritten['codes'].values())
