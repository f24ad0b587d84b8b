"""Batch mode (--jobs FILE): the rows of a CSV file run in turn in one process, with the weights
loaded once and the executors reused while the size stays. A failed row is reported in one line
and the others go on."""
import collections
import csv
import logging
import os
import shlex
import time

from .flags import NstyleError, OneLineErrorParser
from .reporter import duration

JOB_COLUMNS = {'content': '--content-image', 'style': '--style-image', 'output': '--output_dir'}


def read_jobs(path):
    """The rows of a --jobs CSV file as (line number, {column: text}); the header must name the
    columns content, style and output, and may add options."""
    try:
        with open(path, newline='') as f:
            lines = list(csv.reader(f))
    except (OSError, UnicodeDecodeError) as error:
        raise NstyleError('--jobs %s: cannot read it (%s); give a CSV file with the header '
                          'content,style,output[,options]' % (path, getattr(error, 'strerror', None) or error)) from None
    except csv.Error as error:
        raise NstyleError('--jobs %s: not a CSV file (%s)' % (path, error)) from None
    header = [name.strip().lower() for name in lines[0]] if lines else []
    unknown = [name for name in header if name not in JOB_COLUMNS and name != 'options']
    if not lines or unknown or not set(JOB_COLUMNS) <= set(header):
        raise NstyleError('--jobs %s: the first line must name the columns content,style,output and optionally '
                          'options (found %s)' % (path, ','.join(header) or 'an empty file'))
    rows = [(number, dict(zip(header, (cell.strip() for cell in line))))
            for number, line in enumerate(lines[1:], start=2) if any(cell.strip() for cell in line)]
    if not rows:
        raise NstyleError('--jobs %s: no jobs below the header line' % path)
    return rows


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


def job_args(get_args, shared_argv, row):
    """A job's flags, parsed by get_args(argv, parser_class): the shared ones, then the row's cells,
    then its options (the later wins)."""
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
    return get_args(argv, parser_class=JobArgumentParser)


def failure_line(error):
    """How the log names a job's failure: a problem the user can fix as its message, anything else
    (MXNet, memory ...) by its type and the first line of its message."""
    if isinstance(error, NstyleError):
        return str(error)
    return '%s: %s' % (type(error).__name__, (str(error).strip().splitlines() or [''])[0])


def job_label(index, count, jobs_file, line):
    return 'job %d of %d (%s line %d)' % (index, count, jobs_file, line)


def run_jobs(jobs_file, shared_argv, get_args, train):
    """Each row of the CSV file in turn: train(args, cache=cache) with the row's flags (job_args).
    Returns the exit status: 0 when every job finished, 1 otherwise."""
    rows = read_jobs(jobs_file)
    cache = {'executors': collections.OrderedDict()}
    failed, start = [], time.time()
    for index, (line, row) in enumerate(rows, start=1):
        label = job_label(index, len(rows), jobs_file, line)
        job_start = time.time()
        try:
            args = job_args(get_args, shared_argv, row)
            logging.info('%s: %s in the style of %s -> %s', label, args.content_image, args.style_image,
                         args.output_dir)
            train(args, cache=cache)
        except NstyleError as error:
            failed.append(index)
            logging.error('%s failed: %s', label, error)
            continue
        except KeyboardInterrupt:
            logging.error('%s interrupted: the jobs after it were not run', label)
            raise
        except Exception as error:  # an unexpected failure of one job (MXNet, memory ...) must not stop the others
            failed.append(index)
            logging.error('%s failed: %s', label, failure_line(error))
            continue
        logging.info('%s done in %s: %s', label, duration(time.time() - job_start),
                     os.path.join(args.output_dir, 'final.jpg'))
    logging.info('jobs: %d of %d done in %s%s', len(rows) - len(failed), len(rows), duration(time.time() - start),
                 '; failed: %s' % ', '.join('job %d' % i for i in failed) if failed else '')
    return 1 if failed else 0
