"""The client side of `npm run bench -- irods`: python-irodsclient 0.8.1.

Reads one JSON object from standard input: the connection (host, port, user,
password, zone) and a phase:
  put {local, path}               data_objects.put of one file
  get {path, local}               data_objects.get of one object into a local file
  get {path, local: "/dev/null"}  the same, the bytes discarded (the client's force flag
                                  lets it open a path that exists): the transfer without
                                  the client's own file writes
  put_many {locals, coll}         collections.create(coll), then a data_objects.put of each file into it
  list {coll}                     len(collections.get(coll).data_objects): every column of each object
Prints one JSON line: the phase's wall seconds and this process's CPU
seconds (user and system, os.times) over the phase alone, without the
interpreter's start, the imports and the login.

With "marks": true the phase is bracketed for the bench, which measures the
server over the same span: the driver writes "start" on stdout and waits for
a line on stdin before the phase, and writes "end" and waits again after it
(before the listing that counts the objects, and the logout).
"""
import json
import os
import sys
import time

from irods import keywords as kw
from irods.session import iRODSSession


def main():
    args = json.loads(sys.stdin.readline())
    marks = args.get('marks', False)

    def mark(name):
        if marks:
            sys.stdout.write(name + '\n')
            sys.stdout.flush()
            sys.stdin.readline()

    session = iRODSSession(host=args['host'], port=args['port'], user=args['user'], password=args['password'], zone=args['zone'])
    try:
        # log in before the clock starts
        session.pool.get_connection().release()
        phase = args['phase']
        if phase == 'put_many':
            session.collections.create(args['coll'])
        mark('start')
        cpu0 = os.times()
        t0 = time.perf_counter()
        if phase == 'put':
            session.data_objects.put(args['local'], args['path'])
        elif phase == 'get':
            options = {kw.FORCE_FLAG_KW: ''} if args['local'] == os.devnull else {}
            session.data_objects.get(args['path'], args['local'], **options)
        elif phase == 'put_many':
            coll = args['coll']
            for local in args['locals']:
                session.data_objects.put(local, coll + '/' + os.path.basename(local))
        elif phase == 'list':
            listed = len(session.collections.get(args['coll']).data_objects)
        else:
            raise ValueError('unknown phase ' + phase)
        seconds = time.perf_counter() - t0
        cpu1 = os.times()
        mark('end')
        stored = listed if phase == 'list' else None
        if phase == 'put_many':
            stored = len(session.collections.get(args['coll']).data_objects)
    finally:
        session.cleanup()
    print(json.dumps({'seconds': seconds, 'user_seconds': cpu1.user - cpu0.user, 'system_seconds': cpu1.system - cpu0.system, 'stored': stored}))


main()
