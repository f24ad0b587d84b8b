"""The documentation says what is there: README.md's and docs/'s links and file paths resolve, the
module map (docs/architecture.md) names every module of the package and its "no MXNet" marks hold,
and docs/flags.md lists every flag of nstyle.py."""
import glob
import os
import re
import subprocess
import sys

from conftest import PROJECT

PAGES = [os.path.join(PROJECT, 'README.md')] + sorted(glob.glob(os.path.join(PROJECT, 'docs', '*.md')))
LINK = re.compile(r'\[[^\]]*\]\(([^)\s]+)\)')
CODE_SPAN = re.compile(r'`([^`\n]+)`')
PROJECT_PATH = re.compile(r'^[\w.-]+(/[\w.-]+)+\.(py|md|sh|txt|csv)$')  # neural_style/gatys/loss.py, docs/mrf.md
MAP = os.path.join(PROJECT, 'docs', 'architecture.md')


def without_code_blocks(text):
    return re.sub(r'^```.*?^```', '', text, flags=re.S | re.M)


def anchor(heading):
    """GitHub's anchor of a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r'[^\w\- ]', '', heading.strip().lower())
    return text.replace(' ', '-')


def anchors(path):
    text = without_code_blocks(open(path, encoding='utf-8').read())
    return {anchor(line.lstrip('#')) for line in text.splitlines() if re.match(r'#{1,6} ', line)}


def broken_links(path):
    """(link, why) for each relative link of the page whose file or heading is not there."""
    text = without_code_blocks(open(path, encoding='utf-8').read())
    broken = []
    for target in LINK.findall(text):
        if re.match(r'[a-z]+:', target):  # https:, mailto:
            continue
        file_part, _, fragment = target.partition('#')
        linked = os.path.normpath(os.path.join(os.path.dirname(path), file_part)) if file_part else path
        if not os.path.exists(linked):
            broken.append((target, 'no such file'))
        elif fragment and linked.endswith('.md') and fragment not in anchors(linked):
            broken.append((target, 'no such heading'))
    return broken


def test_every_link_resolves():
    assert len(PAGES) >= 10
    broken = {os.path.relpath(page, PROJECT): broken_links(page) for page in PAGES}
    assert {page: links for page, links in broken.items() if links} == {}


def test_the_link_check_sees_a_broken_link(tmp_path):
    """The check above can fail: a missing file and a missing heading are seen."""
    (tmp_path / 'b.md').write_text('# Only this\n')
    page = tmp_path / 'a.md'
    page.write_text('# A\n[ok](b.md#only-this) [gone](c.md) [bad](b.md#other) [self](#a) [web](https://x.org)\n')
    assert broken_links(str(page)) == [('c.md', 'no such file'), ('b.md#other', 'no such heading')]


def test_every_project_path_named_exists():
    """A path in `code` (neural_style/gatys/loss.py, docs/mrf.md; gatys/loss.py inside the package) is
    there: a moved file is seen."""
    missing = {}
    for page in PAGES:
        text = open(page, encoding='utf-8').read()
        for span in CODE_SPAN.findall(text):
            if PROJECT_PATH.match(span) and not span.startswith(('output/', 'model/', 'photos/')):
                if not any(os.path.exists(os.path.join(PROJECT, folder, span)) for folder in ('', 'neural_style')):
                    missing.setdefault(os.path.relpath(page, PROJECT), []).append(span)
    assert missing == {}


def package_modules():
    """Every module of neural_style/ as its path inside the package (gatys/loss.py), the
    subpackages' empty __init__.py files left out."""
    package = os.path.join(PROJECT, 'neural_style')
    found = []
    for path in glob.glob(os.path.join(package, '**', '*.py'), recursive=True):
        relative = os.path.relpath(path, package)
        if relative.endswith('/__init__.py'):
            continue
        found.append(relative)
    return sorted(found)


def module_map():
    """{module path in the package: whether it is marked 'no MXNet'}, from the tables of the map's
    section on the package."""
    modules, subpackage, in_package = {}, '', False
    for line in open(MAP, encoding='utf-8'):
        if line.startswith('## '):
            in_package = line.startswith('## The package')
            continue
        heading = re.match(r'`(\w+)/`: ', line)
        if heading:
            subpackage = heading.group(1) + '/'
        row = re.match(r'\| `(\w+\.py)` \|.*\| *(no MXNet)? *\|$', line.strip())
        if in_package and row:
            modules[subpackage + row.group(1)] = row.group(2) is not None
    return modules


def test_the_module_map_names_every_module():
    assert sorted(module_map()) == package_modules()


def test_modules_marked_no_mxnet_import_without_it():
    """One process imports every module the map marks 'no MXNet' and says whether MXNet came with them."""
    marked = [path for path, no_mxnet in module_map().items() if no_mxnet]
    assert len(marked) >= 15
    names = [('neural_style.' + path[:-len('.py')].replace('/', '.')).replace('.__init__', '') for path in marked]
    code = 'import importlib, sys\nfor name in sys.argv[1:]:\n    importlib.import_module(name)\n' \
           'print(sorted(name for name in sys.modules if name == "mxnet"))'
    result = subprocess.run([sys.executable, '-c', code] + names, cwd=PROJECT, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == '[]'


def test_the_flags_page_lists_every_flag_of_nstyle():
    from neural_style.cli.gatys_flags import gatys_parser
    flags = {name for action in gatys_parser()._actions for name in action.option_strings
             if name.startswith('--') and name != '--help'}
    page = open(os.path.join(PROJECT, 'docs', 'flags.md'), encoding='utf-8').read()
    listed = set(re.findall(r'^\| `(--[\w-]+)', page, flags=re.M)) | set(re.findall(r'with `(--[\w-]+)', page))
    assert len(flags) >= 40
    assert flags - listed == set()
