"""The layout the project promises (README "Files"): a package of small parts that none of the
scripts' modules reach around, functions of at most six parameters, nstyle.py near the original's
size, and tools that load MXNet only when they use it."""
import ast
import os
import subprocess
import sys

import pytest

from conftest import PROJECT

PACKAGE = os.path.join(PROJECT, 'neural_style')
SCRIPTS = {'nstyle', 'compare', 'reproduce_chapter', 'view_checkpoints', 'stylize_video', 'boost_train',
           'boost_inference', 'bench'}


def project_python_files():
    listed = subprocess.run(['git', 'ls-files', '*.py'], cwd=PROJECT, capture_output=True, text=True).stdout.split()
    found = listed or [os.path.relpath(os.path.join(root, name), PROJECT)
                       for root, _, names in os.walk(PROJECT) for name in names if name.endswith('.py')]
    return [path for path in found if not path.startswith(('tests/', '.venv')) and os.path.exists(
        os.path.join(PROJECT, path))]


def parameter_count(function):
    a = function.args
    count = len(a.posonlyargs) + len(a.args) + len(a.kwonlyargs)
    return count - (1 if a.args and a.args[0].arg in ('self', 'cls') else 0)


def test_no_function_has_more_than_six_parameters():
    too_many = []
    for path in project_python_files():
        tree = ast.parse(open(os.path.join(PROJECT, path)).read())
        too_many += ['%s:%d %s (%d)' % (path, node.lineno, node.name, parameter_count(node))
                     for node in ast.walk(tree) if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
                     and parameter_count(node) > 6]
    assert too_many == []


def imported_modules(path):
    tree = ast.parse(open(path).read())
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name.split('.')[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split('.')[0])
    return names


def test_no_module_of_the_package_imports_a_script():
    modules = [name for name in os.listdir(PACKAGE) if name.endswith('.py')]
    assert len(modules) >= 8
    for name in modules:
        assert not imported_modules(os.path.join(PACKAGE, name)) & SCRIPTS, name


def test_the_checker_sees_a_script_import(tmp_path):
    """The check above can fail: a module importing nstyle is seen."""
    bad = tmp_path / 'bad.py'
    bad.write_text('import os\nfrom nstyle import train_nstyle\n')
    assert imported_modules(str(bad)) & SCRIPTS == {'nstyle'}


def test_nstyle_is_near_the_originals_size():
    with open(os.path.join(PROJECT, 'nstyle.py')) as f:
        assert len(f.readlines()) <= 350


@pytest.mark.parametrize('module', ['view_checkpoints', 'neural_style.cli.flag_types', 'neural_style.files.images',
                                    'neural_style.files.output_folder', 'neural_style.cli.signals'])
def test_importing_leaves_mxnet_unloaded(module):
    code = 'import sys; import %s; print("mxnet" in sys.modules)' % module
    result = subprocess.run([sys.executable, '-c', code], cwd=PROJECT, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == 'False'


def test_nstyle_still_offers_the_originals_names():
    import nstyle
    for name in ('get_args', 'train_nstyle', 'PreprocessContentImage', 'PreprocessStyleImage', 'PostprocessImage',
                 'SaveImage', 'style_gram_symbol', 'get_loss', 'get_tv_grad_executor', 'NstyleError'):
        assert callable(getattr(nstyle, name)), name
