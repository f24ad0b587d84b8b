"""The layout the project promises (docs/architecture.md): a package that never reaches back into the
top-level scripts, and tools whose --help answers without loading MXNet."""
import ast
import os
import subprocess
import sys

import pytest

from conftest import PROJECT

PACKAGE = os.path.join(PROJECT, 'neural_style')
SCRIPTS = {'nstyle', 'compare', 'reproduce_chapter', 'view_checkpoints', 'stylize_video', 'boost_train',
           'boost_inference', 'bench', 'find_mxnet', 'gpu_build', 'stylize'}


def project_python_files():
    listed = subprocess.run(['git', 'ls-files', '*.py'], cwd=PROJECT, capture_output=True, text=True).stdout.split()
    found = listed or [os.path.relpath(os.path.join(root, name), PROJECT)
                       for root, _, names in os.walk(PROJECT) for name in names if name.endswith('.py')]
    return [path for path in found if not path.startswith(('tests/', '.venv')) and os.path.exists(
        os.path.join(PROJECT, path))]


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
    modules = [os.path.join(root, name) for root, _, names in os.walk(PACKAGE) for name in names
               if name.endswith('.py')]
    assert len(modules) >= 20
    for path in modules:
        assert not imported_modules(path) & SCRIPTS, path


def test_the_checker_sees_a_script_import(tmp_path):
    """The check above can fail: a module importing nstyle is seen."""
    bad = tmp_path / 'bad.py'
    bad.write_text('import os\nfrom nstyle import train_nstyle\n')
    assert imported_modules(str(bad)) & SCRIPTS == {'nstyle'}


TOOLS = ['nstyle.py', 'stylize.py', 'reproduce_survey.py', 'stylize_video.py', 'compare.py', 'reproduce_chapter.py', 'view_checkpoints.py',
         'end_to_end/boost_inference.py', 'end_to_end/boost_train.py']
HELP_WITHOUT_MXNET = """
import runpy, sys
sys.argv = [sys.argv[1], '--help']
try:
    runpy.run_path(sys.argv[0], run_name='__main__')
except SystemExit as end:
    assert end.code in (0, None), end.code
print('mxnet loaded' if 'mxnet' in sys.modules else 'no mxnet')
"""


@pytest.mark.parametrize('tool', TOOLS)
def test_help_answers_without_loading_mxnet(tool):
    result = subprocess.run([sys.executable, '-c', HELP_WITHOUT_MXNET, tool], cwd=PROJECT, capture_output=True,
                            text=True)
    assert result.returncode == 0, result.stderr
    assert 'usage:' in result.stdout
    assert result.stdout.strip().splitlines()[-1] == 'no mxnet'


def test_the_help_check_sees_mxnet_loaded(tmp_path):
    """The check above can fail: a tool that imports MXNet at its top is seen."""
    tool = tmp_path / 'tool.py'
    tool.write_text('import argparse\nimport mxnet\nargparse.ArgumentParser().parse_args()\n')
    result = subprocess.run([sys.executable, '-c', HELP_WITHOUT_MXNET, str(tool)], cwd=PROJECT, capture_output=True,
                            text=True)
    assert result.stdout.strip().splitlines()[-1] == 'mxnet loaded'


def test_no_test_module_imports_another():
    """Shared test code lives in conftest.py and the helper modules (clips, weights, generator_params),
    never in a test_*.py that another imports (pytest would collect its tests twice over)."""
    tests = os.path.join(PROJECT, 'tests')
    test_modules = {name[:-3] for name in os.listdir(tests) if name.startswith('test_') and name.endswith('.py')}
    assert len(test_modules) >= 20
    for name in sorted(test_modules):
        assert not imported_modules(os.path.join(tests, name + '.py')) & test_modules, name
