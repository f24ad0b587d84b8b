"""MXNet's operator functions compiled once per machine, not at every start.

`import mxnet` writes a Python function for each of its ~1200 operators twice (mx.nd.*, mx.sym.*)
and for its numpy interface, as source text, and compiles each with exec(): about half a second of
the 1.1 s import (python -X importtime, cProfile: builtins.exec). The source of an operator's
function is the same at every start except for one number, the operator's handle (an address in
libmxnet.so, different in every process). This cache keeps the compiled code of each source with
that number replaced by a placeholder, and puts the process's handle back into the code's constants
before the function is made: the same bytecode as compiling the source itself, without compiling.

`compiled_once()` is a context manager around `import mxnet` (neural_style/mxnet_runtime.py): it
gives mxnet.ndarray.register and mxnet.symbol.register (the two modules that exec the sources, for
the numpy interface's operators too) an `exec` of their own that looks the code up, and afterwards
writes the cache when it learnt something. The cache is one file in ~/.cache/neural-style/
($XDG_CACHE_HOME honoured) per MXNet installation and Python version, written atomically; one that cannot be read is ignored and rewritten, one that
cannot be written costs the compiling next time, nothing else.
"""
import contextlib
import hashlib
import importlib.abc
import importlib.machinery
import importlib.util
import marshal
import os
import re
import sys
import types

from neural_style.machine import return_freed_memory

MODULES = ('mxnet.ndarray.register', 'mxnet.symbol.register')
# where the generated source passes the operator's handle: _imperative_invoke(<handle>, ... (mx.nd)
# and _symbol_creator(<handle>, ... (mx.sym)
HANDLE = re.compile(r'\b(_imperative_invoke|_symbol_creator)\((\d+),')
PLACEHOLDER = 0x5EEDC0DE5EEDC0DE  # no operator's handle: an address in the upper half of the address space
FORMAT = 2  # of the cache file: {'format': FORMAT, 'codes': {key: marshalled code}}


def cache_file(cache_dir=None):
    """One file per MXNet installation (its folder, its library's size and time) and Python version."""
    from neural_style.dtype_choice import default_cache_dir
    spec = importlib.util.find_spec('mxnet')
    folder = os.path.dirname(spec.origin) if spec and spec.origin else ''
    try:
        library = os.stat(os.path.join(folder, 'libmxnet.so'))
        installation = '%s|%d|%d' % (folder, library.st_size, library.st_mtime_ns)
    except OSError:
        installation = folder
    return os.path.join(cache_dir or default_cache_dir(), 'mxnet-ops-%s-py%d.%d.marshal' % (
        hashlib.sha1(installation.encode()).hexdigest()[:12], sys.version_info[0], sys.version_info[1]))


def with_handle(code, handle):
    """code with the PLACEHOLDER constant, in it or in the functions it defines, replaced by handle."""
    constants = tuple(handle if type(c) is int and c == PLACEHOLDER else
                      with_handle(c, handle) if isinstance(c, types.CodeType) else c for c in code.co_consts)
    return code.replace(co_consts=constants)


def cached_code(blob):
    """The code object marshalled in blob, or None where blob is not one."""
    try:
        code = marshal.loads(blob)
    except (TypeError, ValueError, EOFError):
        return None
    return code if isinstance(code, types.CodeType) else None


class CompiledOps:
    """{sha1 of a source with the placeholder: its compiled code, marshalled}, read from and written
    to path. Each code is unmarshalled when used (and copied with its handle at once): unmarshalling
    all of them first left 6 MB more resident after the import, in the holes they left."""

    def __init__(self, path):
        self.path, self.learnt, self.used = path, False, {}
        try:
            with open(path, 'rb') as f:
                saved = marshal.load(f)
            self.codes = saved['codes'] if saved['format'] == FORMAT else {}
        except (OSError, EOFError, ValueError, TypeError, KeyError, IndexError):
            self.codes = {}

    def exec_for(self, module_globals):
        """An exec() for a module whose globals are module_globals: exec(source, None, local) as the
        register modules call it, the code taken from the cache."""
        def cached_exec(source, globals_=None, locals_=None):
            globals_ = module_globals if globals_ is None else globals_
            handles = {int(number) for _, number in HANDLE.findall(source)} if isinstance(source, str) else set()
            if len(handles) != 1:  # not an operator's function: compiled as usual
                return exec(source, globals_, locals_)  # pylint: disable=exec-used
            handle = handles.pop()
            general = HANDLE.sub(lambda m: '%s(%d,' % (m.group(1), PLACEHOLDER), source)
            key = hashlib.sha1(general.encode()).hexdigest()
            blob = self.codes.get(key)
            code = cached_code(blob)
            if code is None:  # not cached, or damaged
                code = compile(general, '<string>', 'exec')
                blob, self.learnt = marshal.dumps(code), True
            self.used[key] = blob
            return exec(with_handle(code, handle), globals_, locals_)  # pylint: disable=exec-used
        return cached_exec

    def save(self):
        """The codes this start used (so that the file does not grow with other versions), atomically."""
        from neural_style.errors import NstyleError
        from neural_style.files.output_folder import write_atomically

        def write(temporary):
            with open(temporary, 'wb') as f:
                marshal.dump({'format': FORMAT, 'codes': self.used}, f)
        try:
            os.makedirs(os.path.dirname(self.path), exist_ok=True)
            write_atomically(self.path, write)
        except (OSError, NstyleError):
            pass


class RegisterModulesFinder(importlib.abc.MetaPathFinder):
    """Finds MODULES as usual and gives each, before it runs, the cache's exec."""

    def __init__(self, cache):
        self.cache, self.modules = cache, []

    def find_spec(self, name, path, target=None):
        if name not in MODULES:
            return None
        spec = importlib.machinery.PathFinder.find_spec(name, path)
        if spec is None or not hasattr(spec.loader, 'exec_module'):
            return spec
        loader, cache, modules = spec.loader, self.cache, self.modules
        run_module = loader.exec_module

        def exec_module(module):
            module.__dict__['exec'] = cache.exec_for(module.__dict__)
            modules.append((module, loader))
            run_module(module)
        loader.exec_module = exec_module
        return spec


@contextlib.contextmanager
def compiled_once(cache_dir=None):
    """Around `import mxnet`: its operator functions from the cache, the cache written when it
    learnt something. Nothing is done when MXNet is already imported."""
    if 'mxnet' in sys.modules:
        yield
        return
    cache = CompiledOps(cache_file(cache_dir))
    finder = RegisterModulesFinder(cache)
    sys.meta_path.insert(0, finder)
    try:
        yield
    finally:
        sys.meta_path.remove(finder)
        # both undone, so that nothing keeps the cache: operators registered later (mx.library.load)
        # compile as usual
        for module, loader in finder.modules:
            module.__dict__.pop('exec', None)
            loader.__dict__.pop('exec_module', None)
    if cache.learnt:  # (what it wrote: the codes used this time, so that the file follows MXNet's version)
        cache.save()
    del cache, finder
    return_freed_memory()  # the cache's 6 MB, freed, back to the system
