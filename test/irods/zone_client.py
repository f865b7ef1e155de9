"""Drives python-irodsclient 0.8.1 for the zone story test.

Reads one JSON object from standard input: the connection (host, port, user,
password, zone) and `ops`, a list of operations to run in order in one
session. Each operation's outcome is collected, never raised, so one run can
check many refusals: {"ok": true, "value": ...} or {"ok": false, "error":
<exception class name>, "message": ...}. Prints the list as one JSON line.

Operations (each names the client call it goes through):
  login                      a connection from the pool (native auth)
  mkdir {path}               collections.create (COLL_CREATE_AN 681)
  put {local, path}          data_objects.put: open with O_CREAT|O_TRUNC, writes, close
  create {path}              data_objects.create (DATA_OBJ_CREATE_AN 601)
  overwrite {path, text}     data_objects.open(path, 'w') on an existing object, write, close
  read {path}                data_objects.open(path, 'r') (602) and read to the end: md5 and size
  get {path, local}          data_objects.get(path, local): GenQuery, then open and read into a file
  ls {path}                  collections.get (GenQuery 702): names of subcollections and objects
  query {under}              GenQuery of every data object whose collection is `under` or below it
"""
import hashlib
import json
import sys

from irods.column import Like
from irods.models import Collection, DataObject
from irods.session import iRODSSession


def md5_and_size(stream):
    h = hashlib.md5()
    size = 0
    while True:
        chunk = stream.read(8 * 1024 * 1024)
        if not chunk:
            return {'md5': h.hexdigest(), 'size': size}
        h.update(chunk)
        size += len(chunk)


def run(session, op):
    kind = op['op']
    if kind == 'login':
        conn = session.pool.get_connection()
        conn.release()
        return True
    if kind == 'mkdir':
        session.collections.create(op['path'])
        return True
    if kind == 'put':
        session.data_objects.put(op['local'], op['path'])
        return True
    if kind == 'create':
        session.data_objects.create(op['path'])
        return True
    if kind == 'overwrite':
        with session.data_objects.open(op['path'], 'w') as f:
            f.write(op['text'].encode())
        return True
    if kind == 'read':
        with session.data_objects.open(op['path'], 'r') as f:
            return md5_and_size(f)
    if kind == 'get':
        obj = session.data_objects.get(op['path'], op['local'])
        return {'size': obj.size, 'checksum': obj.checksum}
    if kind == 'ls':
        coll = session.collections.get(op['path'])
        return {
            'colls': sorted(c.name for c in coll.subcollections),
            'objs': sorted(o.name for o in coll.data_objects),
        }
    if kind == 'query':
        under = op['under']
        rows = session.query(Collection.name, DataObject.name).filter(Like(Collection.name, under + '%')).all()
        paths = (r[Collection.name] + '/' + r[DataObject.name] for r in rows)
        return sorted(p for p in paths if p.startswith(under + '/'))
    raise ValueError('unknown op ' + kind)


def main():
    args = json.load(sys.stdin)
    session = iRODSSession(host=args['host'], port=args['port'], user=args['user'], password=args['password'], zone=args['zone'])
    results = []
    try:
        for op in args['ops']:
            try:
                results.append({'ok': True, 'value': run(session, op)})
            except Exception as e:  # the outcome is the point: report it and go on
                results.append({'ok': False, 'error': type(e).__name__, 'message': str(e)})
    finally:
        session.cleanup()
    print(json.dumps(results))


main()
