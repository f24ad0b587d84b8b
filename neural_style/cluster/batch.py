"""Batch mode (--jobs FILE): the rows of a CSV file run in turn in one process, with the weights
loaded once and the executors reused while the size stays. A failed row is reported in one line
and the others go on."""
import collections
import csv
import dataclasses
import io
import logging
import os
import shlex
import time
from typing import Optional

from neural_style.cli.tool import OneLineErrorParser
from neural_style.errors import NstyleError
from neural_style.files.output_folder import INTERRUPTED_NOTE, write_atomically
from neural_style.flag_values import FromFlags
from neural_style.long_work import duration

JOB_COLUMNS = {'content': '--content-image', 'style': '--style-image', 'output': '--output_dir'}


def read_csv_lines(path):
    """The cells of each line of a CSV file as a spreadsheet saves it: UTF-8 with or without a byte
    order mark, UTF-16 (Excel's "Unicode text"), CRLF line ends, and ',' or, where the header has
    none, ';' (locales whose decimal mark is a comma) or a tab between the cells."""
    from neural_style.files.images import input_file_problem  # here: it loads numpy, which --help need not
    problem = input_file_problem(path)
    if problem:
        raise NstyleError('--jobs %s: %s' % (path, problem))
    try:
        with open(path, 'rb') as f:
            data = f.read()
        text = data.decode('utf-16') if data[:2] in (b'\xff\xfe', b'\xfe\xff') else data.decode('utf-8-sig')
    except OSError as error:
        raise NstyleError('--jobs %s: cannot read it (%s); give a CSV file with the header '
                          'content,style,output[,options]' % (path, error.strerror or error)) from None
    except UnicodeDecodeError as error:
        raise NstyleError('--jobs %s: not UTF-8 text (byte %d); save it as CSV UTF-8' % (path, error.start)) from None
    header = text.lstrip().split('\n', 1)[0]
    delimiter = next((d for d in (',', ';', '\t') if d in header), ',')
    try:
        return list(csv.reader(io.StringIO(text, newline=''), delimiter=delimiter))
    except csv.Error as error:
        raise NstyleError('--jobs %s: not a CSV file (%s)' % (path, error)) from None


def read_jobs(path):
    """The rows of a --jobs CSV file as (line number, {column: text}); the header must name the
    columns content, style and output, and may add options (and error, which a failures file of
    an earlier batch has: ignored, so that that file runs again as it is)."""
    lines = read_csv_lines(path)
    header = [name.strip().lower() for name in lines[0]] if lines else []
    unknown = [name for name in header if name not in JOB_COLUMNS and name not in ('options', 'error')]
    if not lines or unknown or not set(JOB_COLUMNS) <= set(header):
        raise NstyleError('--jobs %s: the first line must name the columns content,style,output and optionally '
                          'options (found %s)' % (path, ','.join(header) or 'an empty file'))
    for number, line in enumerate(lines[1:], start=2):  # zip would drop the extra cells without a word
        if len(line) > len(header) and any(cell.strip() for cell in line[len(header):]):
            raise NstyleError('--jobs %s line %d: %d cells but the header names %d columns (%s); a cell holding a '
                              'comma must be quoted, such as "--style-blend-weights 1,2"'
                              % (path, number, len(line), len(header), ','.join(header)))
    rows = [(number, dict(zip(header, (cell.strip() for cell in line))))
            for number, line in enumerate(lines[1:], start=2) if any(cell.strip() for cell in line)]
    if not rows:
        raise NstyleError('--jobs %s: no jobs below the header line' % path)
    return rows


@dataclasses.dataclass(frozen=True)
class BatchSettings(FromFlags):
    """nstyle.py's batch mode: the CSV file of jobs, and the Ray cluster to run them on (--ray's
    address, '' a local Ray; None: in this process, one after the other)."""
    jobs: Optional[str] = None
    ray: Optional[str] = None
    cpus_per_job: float = 1
    gpus_per_job: float = 0


class JobArgumentError(NstyleError):
    """A bad flag in a job's options: reported for that job, and the batch goes on."""


class JobArgumentParser(OneLineErrorParser):
    def error(self, message):
        raise JobArgumentError(message)


def without_jobs_flag(argv):
    """The command line without --jobs FILE: the flags every job shares."""
    shared, skip = [], False
    for arg in argv:
        if skip:
            skip = False
        elif arg == '--jobs':
            skip = True
        elif not arg.startswith('--jobs='):
            shared.append(arg)
    return shared


def job_args(shared_argv, row):
    """A job's GatysSettings: the shared flags, then the row's cells, then its options (the later wins)."""
    argv = list(shared_argv)
    for column, flag in JOB_COLUMNS.items():
        if row.get(column):
            argv += [flag, row[column]]
    try:
        argv += shlex.split(row.get('options') or '')
    except ValueError as error:
        raise JobArgumentError('options: %s' % error) from None
    if not row.get('output'):
        raise JobArgumentError('the output column is empty: give each job its own output folder')
    from neural_style.cli.gatys_flags import get_args
    return get_args(argv, parser_class=JobArgumentParser)


def check_distinct_outputs(jobs_file, rows, shared_argv):
    """Two jobs writing into one folder would replace each other's results: refused before any
    work. A row whose flags do not parse is left to fail alone, at its turn."""
    seen = {}
    for line, row in rows:
        try:
            output = job_args(shared_argv, row).output_dir
        except NstyleError:
            continue
        key = os.path.realpath(output or '.')
        if key in seen:
            raise NstyleError('--jobs %s: lines %d and %d both write into %s; give each job its own output folder'
                              % (jobs_file, seen[key], line, output))
        seen[key] = line


def write_failures(jobs_file, rows, failures):
    """The failed rows, each with its error, as a CSV file that --jobs runs again as it is (the
    error column is ignored): beside the jobs file, or in the working directory. Returns its path."""
    name = os.path.splitext(os.path.basename(jobs_file))[0] + '.failed.csv'
    header = list(dict.fromkeys(column for _, row in rows for column in row if column != 'error')) + ['error']
    by_line = dict(rows)
    for folder in (os.path.dirname(os.path.abspath(jobs_file)), os.getcwd()):
        path = os.path.join(folder, name)
        try:
            write_atomically(path, lambda temporary: write_csv(temporary, header, [
                dict(by_line[line], error=error) for _, line, error in failures]))
            return path
        except NstyleError:
            continue
    return None


def write_csv(path, header, rows):
    with open(path, 'w', newline='') as f:
        writer = csv.DictWriter(f, header)
        writer.writeheader()
        writer.writerows(rows)


def failure_summary(jobs_file, rows, failures):
    """A readable last line however many jobs failed: the count, the first few, where the rest are."""
    shown = ', '.join('job %d (line %d: %s)' % (index, line, error[:80] + '...' * (len(error) > 80))
                      for index, line, error in failures[:SHOWN_FAILURES])
    more = ' and %d more' % (len(failures) - SHOWN_FAILURES) if len(failures) > SHOWN_FAILURES else ''
    path = write_failures(jobs_file, rows, failures)
    where = ('; every failed row with its error is in %s (run it again with --jobs %s)' % (path, path) if path else '')
    return '%d failed: %s%s%s' % (len(failures), shown, more, where)


SHOWN_FAILURES = 3


def failure_line(error):
    """How the log names a job's failure: a problem the user can fix as its message, anything else
    (MXNet, memory ...) by its type and the first line of its message."""
    if isinstance(error, NstyleError):
        return str(error)
    return '%s: %s' % (type(error).__name__, (str(error).strip().splitlines() or [''])[0])


def finished_before(args):
    """A row an earlier run of this batch finished (its final.jpg is there, with no note that the run
    was interrupted) and that --overwrite does not ask to run again: skipped, not failed, so that an
    interrupted batch is simply run again."""
    folder = args.output_dir or '.'
    return not args.overwrite and os.path.isfile(os.path.join(folder, 'final.jpg')) \
        and not os.path.exists(os.path.join(folder, INTERRUPTED_NOTE))


def resumed(args, label):
    """The row's settings for this run: a row whose earlier run was interrupted (its final.jpg is the
    image so far, interrupted.txt beside it) runs again, replacing that partial result."""
    if args.overwrite or not os.path.exists(os.path.join(args.output_dir or '.', INTERRUPTED_NOTE)):
        return args
    logging.info('%s: %s holds the result of an interrupted run (%s): running it again', label,
                 args.output_dir or '.', INTERRUPTED_NOTE)
    return dataclasses.replace(args, overwrite=True)


def skip_line(label, args):
    return '%s: skipped, %s already holds its final.jpg (an earlier run of this batch); pass --overwrite to run ' \
           'it again' % (label, args.output_dir or '.')


def job_label(index, count, jobs_file, line):
    return 'job %d of %d (%s line %d)' % (index, count, jobs_file, line)


def run_jobs(jobs_file, argv):
    """Each row of the CSV file in turn: a Gatys run (gatys/run.py) with the row's flags (job_args),
    the weights read once and the executors reused. argv: the command line, --jobs FILE among it.
    Returns the exit status: 0 when every job finished, 1 otherwise."""
    from neural_style.gatys.run import run_gatys
    shared_argv = without_jobs_flag(argv)
    rows = read_jobs(jobs_file)
    check_distinct_outputs(jobs_file, rows, shared_argv)
    reuse = ({}, collections.OrderedDict())  # the weights by path, the executors by graph and size
    failures, start = [], time.time()
    for index, (line, row) in enumerate(rows, start=1):
        label = job_label(index, len(rows), jobs_file, line)
        job_start = time.time()
        try:
            args = job_args(shared_argv, row)
            if finished_before(args):
                logging.info(skip_line(label, args))
                continue
            args = resumed(args, label)
            logging.info('%s: %s in the style of %s -> %s', label, args.content_image, args.style_image,
                         args.output_dir)
            run_gatys(args, reuse=reuse)
        except NstyleError as error:
            failures.append((index, line, str(error)))
            logging.error('%s failed: %s', label, error)
            continue
        except KeyboardInterrupt:
            logging.error('%s interrupted: the jobs after it were not run', label)
            raise
        except Exception as error:  # an unexpected failure of one job (MXNet, memory ...) must not stop the others
            failures.append((index, line, failure_line(error)))
            logging.error('%s failed: %s', label, failures[-1][2])
            continue
        logging.info('%s done in %s: %s', label, duration(time.time() - job_start),
                     os.path.join(args.output_dir, 'final.jpg'))
    logging.info('jobs: %d of %d done in %s%s', len(rows) - len(failures), len(rows), duration(time.time() - start),
                 '; ' + failure_summary(jobs_file, rows, failures) if failures else '')
    return 1 if failures else 0
