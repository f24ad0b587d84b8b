"""Flags the chosen method does not use: an error naming them, never silently ignored. Which flags
the user gave is read from the command line itself (a flag given at its default value counts as
given). No MXNet."""
import argparse
import sys


def given_flags(parser, arglist=None):
    """The dests of the flags given on the command line, whatever their values."""
    unset = object()
    namespace = argparse.Namespace(**{action.dest: unset for action in parser._actions
                                      if action.dest is not argparse.SUPPRESS})
    parsed = parser.parse_args(sys.argv[1:] if arglist is None else arglist, namespace=namespace)
    return {dest for dest, value in vars(parsed).items() if value is not unset}


def flag_name(parser, dest):
    for action in parser._actions:
        if action.dest == dest and action.option_strings:
            return max(action.option_strings, key=len)
    return dest


def refuse_unused(parser, given, dests, reason):
    """parser.error (one line, exit 2) when any of `dests` was given: `reason` says why they are not used."""
    unused = [dest for dest in sorted(dests) if dest in given]
    if unused:
        names = [flag_name(parser, dest) for dest in unused]
        parser.error('%s %s not used %s; leave %s out' % (', '.join(names), 'is' if len(names) == 1 else 'are',
                                                          reason, 'it' if len(names) == 1 else 'them'))
