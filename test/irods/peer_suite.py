"""Runs python-irodsclient's own test modules against a running iRODS server,
leaving out the tests on the skip list, and writes one JSON line per test.

Run with Debian's interpreter (/usr/bin/python3), which owns the package
python3-irodsclient. The tests find the server through IRODS_ENVIRONMENT_FILE
(or ~/.irods/irods_environment.json) and the password through
IRODS_AUTHENTICATION_FILE (or ~/.irods/.irodsA), as python-irodsclient 0.8.1's
irods/test/helpers.py reads them.

    /usr/bin/python3 test/irods/peer_suite.py [--skip-list FILE] [--results FILE]
        [--module-timeout SECONDS] MODULE...

MODULE is a short name (data_obj) or a module (irods.test.data_obj_test).
Progress goes to stderr, one line per test. Results (--results, default
stdout) are JSON lines:
  {"event": "module", "module": M, "tests": [ids]}   every test of M, listed or not
  {"event": "test", "id": ID, "module": M, "outcome": O, "detail": TEXT}
      O is passed, failed, error, skipped (by the test itself), listed (on the
      skip list, not run), timeout (running when the module's time ran out) or
      not_run (after the timeout)
  {"event": "done"}
  {"event": "fatal", "message": TEXT}                 a bad skip list or module
Exit status: 0 when every test that ran passed, 1 otherwise, 2 on a fatal error.
"""
import argparse
import importlib
import json
import signal
import sys
import time
import traceback
import unittest

DEFAULT_TIMEOUT = 600


class ModuleTimeout(KeyboardInterrupt):
    """Raised by the alarm when a module runs out of time. A KeyboardInterrupt,
    since unittest records every other exception as the test's error and goes
    on with the next test, which would hang the same way."""


class SkipListError(Exception):
    pass


def module_name(name):
    return name if '.' in name else 'irods.test.{}_test'.format(name)


def read_skip_list(path):
    """Test id -> reason. Each line: an id, white space, a reason."""
    listed = {}
    with open(path, encoding='utf-8') as f:
        for number, raw in enumerate(f, 1):
            line = raw.strip()
            if not line or line.startswith('#'):
                continue
            parts = line.split(None, 1)
            if len(parts) < 2 or not parts[1].strip():
                raise SkipListError('{}:{}: {} has no reason'.format(path, number, parts[0]))
            if parts[0] in listed:
                raise SkipListError('{}:{}: {} is listed twice'.format(path, number, parts[0]))
            listed[parts[0]] = parts[1].strip()
    return listed


def flatten(suite):
    for item in suite:
        if isinstance(item, unittest.TestSuite):
            yield from flatten(item)
        else:
            yield item


class Recorder(unittest.TestResult):
    """Writes each test's outcome as it ends."""

    def __init__(self, emit, module):
        super().__init__()
        self.emit = emit
        self.module = module
        self.current = None
        self.started = 0.0
        self.done = set()
        self.bad = 0

    def startTest(self, test):
        super().startTest(test)
        self.current = test.id()
        self.started = time.monotonic()

    def _record(self, test, outcome, detail=''):
        """Writes one outcome; a test that did not start (not_run) takes no time."""
        test_id = test.id()
        if test_id in self.done:  # an error in tearDown after a failure: keep the first
            return
        self.done.add(test_id)
        if outcome not in ('passed',):
            self.bad += 1
        seconds = time.monotonic() - self.started if test_id == self.current else 0.0
        self.emit({'event': 'test', 'id': test_id, 'module': self.module, 'outcome': outcome,
                   'detail': detail, 'seconds': round(seconds, 3)})
        sys.stderr.write('{:7} {} ({:.1f} s){}\n'.format(
            outcome.upper(), test_id, seconds, '\n' + indent(detail) if detail else ''))
        sys.stderr.flush()

    def addSuccess(self, test):
        super().addSuccess(test)
        self._record(test, 'passed')

    def addFailure(self, test, err):
        super().addFailure(test, err)
        self._record(test, 'failed', self.failures[-1][1])

    def addError(self, test, err):
        super().addError(test, err)
        self._record(test, 'error', self.errors[-1][1])

    def addSkip(self, test, reason):
        super().addSkip(test, reason)
        self._record(test, 'skipped', reason)

    def addExpectedFailure(self, test, err):
        super().addExpectedFailure(test, err)
        self._record(test, 'failed', 'expected failure')

    def addUnexpectedSuccess(self, test):
        super().addUnexpectedSuccess(test)
        self._record(test, 'failed', 'unexpected success')


def indent(text, last=6):
    """The end of a traceback for the progress lines; the results hold all of it."""
    return '\n'.join('        ' + line for line in text.rstrip().splitlines()[-last:])


def on_alarm(signum, frame):
    raise ModuleTimeout()


def run_module(name, listed, timeout, emit):
    """Runs one module's tests that are not listed; returns the count of bad outcomes."""
    module = importlib.import_module(name)
    tests = list(flatten(unittest.defaultTestLoader.loadTestsFromModule(module)))
    emit({'event': 'module', 'module': name, 'tests': [t.id() for t in tests]})
    recorder = Recorder(emit, name)
    to_run = []
    for test in tests:
        if test.id() in listed:
            emit({'event': 'test', 'id': test.id(), 'module': name, 'outcome': 'listed', 'detail': listed[test.id()]})
        else:
            to_run.append(test)
    sys.stderr.write('--- {}: {} tests, {} on the skip list\n'.format(name, len(tests), len(tests) - len(to_run)))
    signal.signal(signal.SIGALRM, on_alarm)
    signal.alarm(timeout)
    try:
        unittest.TestSuite(to_run).run(recorder)
    except ModuleTimeout:
        if recorder.current and recorder.current not in recorder.done:
            running = next(t for t in to_run if t.id() == recorder.current)
            recorder._record(running, 'timeout', 'the module ran out of its {} s'.format(timeout))
    finally:
        signal.alarm(0)
    for test in to_run:
        if test.id() not in recorder.done:
            recorder._record(test, 'not_run', 'the module ran out of its {} s before this test'.format(timeout))
    return recorder.bad


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--skip-list', help='test ids not to run, one per line with a reason')
    parser.add_argument('--results', help='JSON lines file (default stdout)')
    parser.add_argument('--module-timeout', type=int, default=DEFAULT_TIMEOUT, help='seconds per module')
    parser.add_argument('modules', nargs='+')
    args = parser.parse_args(argv)

    out = open(args.results, 'w', encoding='utf-8') if args.results else sys.stdout

    def emit(record):
        out.write(json.dumps(record) + '\n')
        out.flush()

    names = [module_name(m) for m in args.modules]
    try:
        listed = read_skip_list(args.skip_list) if args.skip_list else {}
        known = set()
        for name in names:
            known.update(t.id() for t in flatten(unittest.defaultTestLoader.loadTestsFromName(name)))
        # an id of a module that runs here but names no test: the list went stale
        stale = [i for i in listed if any(i.startswith(n + '.') for n in names) and i not in known]
        if stale:
            raise SkipListError('the skip list names tests that do not exist: ' + ', '.join(sorted(stale)))
    except (SkipListError, ImportError, OSError) as e:
        emit({'event': 'fatal', 'message': str(e)})
        sys.stderr.write('peer_suite: {}\n'.format(e))
        return 2

    bad = 0
    for name in names:
        try:
            bad += run_module(name, listed, args.module_timeout, emit)
        except Exception:
            emit({'event': 'fatal', 'message': 'module {} could not run: {}'.format(name, traceback.format_exc())})
            return 2
    emit({'event': 'done'})
    return 1 if bad else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
