"""Parallel transfers as python-irodsclient 0.9 and later make them, built from
0.8.1's message classes (Debian's python3-irodsclient has no parallel transfer).

The facts, from python-irodsclient 1.1.9 and 3.3.0 (`irods/parallel.py`
`io_main` and `_io_multipart_threaded`, `irods/data_object.py`
`replica_access_info` and `_close_replica`, `irods/message` `JSON_Message`):
against a server of 4.2.9 or later, an object over 32 MiB moves in byte
ranges, one thread and connection per range. The first thread opens the
object (602; a put: O_WRONLY|O_CREAT|O_TRUNC with the keywords numThreads and
dataSize; a get: O_RDONLY), looks it up with a GenQuery (`data_objects.get`)
and asks GET_FILE_DESCRIPTOR_INFO_APN (20000, JSON {"fd": n} in
BinBytesBuf_PI, base64) for `replica_token` and
`data_object_info.resource_hierarchy`. Every other thread opens the object
on a connection of its own (602; a put: O_WRONLY, no create, no truncate,
with numThreads, dataSize, resc_hier and replicaToken; a get: O_RDONLY with
the same keywords), seeks to its range, moves it, and closes with
REPLICA_CLOSE_APN (20004) and update_size, update_status, compute_checksum
and send_notification false. The first thread moves its own range and
closes last, with DATA_OBJ_CLOSE_AN (673), once every other thread closed.

Reads one JSON object on stdin: the account and an action:
  get  {path, local, threads}          the whole object into `local`
  put  {local, path, threads}          `local` into the object
  calls {calls: [...], conns: {...}}   raw calls (opens, writes, closes, the JSON plugin APIs
                                       such as 20000, 20004 and 20002), on the connections
                                       they name, each reporting its result or iRODS error code
Prints one JSON object.
"""
import base64
import json
import os
import sys
import threading
from xml.etree import ElementTree

from irods.api_number import api_number
from irods.exception import iRODSException
from irods.message import BinBytesBuf, FileOpenRequest, StringStringMap, iRODSMessage
from irods.session import iRODSSession

GET_FILE_DESCRIPTOR_INFO_APN = 20000
REPLICA_CLOSE_APN = 20004
O_RDONLY, O_WRONLY, O_CREAT, O_TRUNC = 0, 1, 64, 512
PART_CLOSE = {'send_notification': False, 'update_size': False, 'update_status': False, 'compute_checksum': False}


def session(a):
    return iRODSSession(host=a['host'], port=a['port'], user=a['user'], password=a['password'], zone=a['zone'])


def open_raw(sess, path, flags, keywords):
    """DATA_OBJ_OPEN_AN as 1.1.9's DataObjectManager.open sends it to a server before 4.3.1; (connection, descriptor)."""
    body = FileOpenRequest(objPath=path, createMode=0, openFlags=flags, offset=0, dataSize=-1,
                           numThreads=sess.numThreads, oprType=0, KeyValPair_PI=StringStringMap(keywords))
    conn = sess.pool.get_connection()
    conn.send(iRODSMessage('RODS_API_REQ', msg=body, int_info=api_number['DATA_OBJ_OPEN_AN']))
    return conn, conn.recv().int_info


class PluginError(Exception):
    """A plugin API's refusal: its code and the JSON the reply carried beside it (None when none)."""

    def __init__(self, code, body):
        super().__init__(code)
        self.code = code
        self.body = body


def reply_json(reply):
    """The JSON of a reply's BinBytesBuf_PI, as 3.3.0's get_json_encoded_struct reads it; None without a body."""
    if not reply.msg:
        return None
    xml = ElementTree.fromstring(reply.msg.replace(b'\0', b''))
    return json.loads(base64.b64decode(xml.find('buf').text).replace(b'\0', b'').decode())


def json_call(conn, api, value, raw=None):
    """A plugin API call with JSON in BinBytesBuf_PI, as JSON_Binary_Request packs it; the reply's JSON, or None.
    A refusal raises PluginError with the reply's JSON, which newer clients read (3.3.0: e.server_msg)."""
    text = raw if raw is not None else json.dumps(value)
    conn.send(iRODSMessage('RODS_API_REQ', msg=BinBytesBuf(buflen=len(text), buf=text), int_info=api))
    reply = iRODSMessage.recv(conn.socket)
    if reply.int_info < 0:
        raise PluginError(reply.int_info, reply_json(reply))
    return reply_json(reply)


def byte_ranges(total, threads):
    size = total // threads
    return [(i * size, total if i == threads - 1 else (i + 1) * size) for i in range(threads)]


def move_range(conn, fd, start, end, local, put):
    conn.seek_file(fd, start, 0)
    with open(local, 'rb' if put else 'r+b') as f:
        f.seek(start)
        at = start
        while at < end:
            n = min(4 * 1024 * 1024, end - at)
            if put:
                conn.write_file(fd, f.read(n))
            else:
                chunk = conn.read_file(fd, n)
                if not chunk:
                    raise IOError('short read at {}'.format(at))
                f.write(chunk)
                n = len(chunk)
            at += n


def transfer(a, path, local, threads, put):
    sess = session(a)
    try:
        keywords = {'numThreads': str(threads)}
        if put:
            total = os.path.getsize(local)
            keywords['dataSize'] = str(total)
            conn0, fd0 = open_raw(sess, path, O_WRONLY | O_CREAT | O_TRUNC, keywords)
        else:
            conn0, fd0 = open_raw(sess, path, O_RDONLY, {})
        # the object is in the catalog from here on, as the client expects
        registered = sess.data_objects.get(path)
        registered = {'size': registered.size, 'checksum': registered.checksum}
        if not put:
            total = conn0.seek_file(fd0, 0, 2)
            conn0.seek_file(fd0, 0, 0)
            with open(local, 'wb') as f:
                f.truncate(total)
        info = json_call(conn0, GET_FILE_DESCRIPTOR_INFO_APN, {'fd': fd0})
        token = info.get('replica_token', '')
        hier = (info.get('data_object_info') or {}).get('resource_hierarchy', '')
        ranges = byte_ranges(total, threads)
        errors = []

        def part(start, end):
            try:
                extra = dict(keywords, resc_hier=hier, replicaToken=token)
                conn, fd = open_raw(sess, path, O_WRONLY if put else O_RDONLY, extra)
                move_range(conn, fd, start, end, local, put)
                json_call(conn, REPLICA_CLOSE_APN, dict(PART_CLOSE, fd=fd))
                conn.release()
            except Exception as e:  # reported below
                errors.append('{}: {}'.format(type(e).__name__, e))

        workers = [threading.Thread(target=part, args=r) for r in ranges[1:]]
        for w in workers:
            w.start()
        move_range(conn0, fd0, ranges[0][0], ranges[0][1], local, put)
        for w in workers:
            w.join()
        if errors:
            return {'ok': False, 'errors': errors, 'token': token}
        conn0.close_file(fd0)
        conn0.release()
        return {'ok': True, 'token': token, 'hier': hier, 'info': info, 'bytes': total, 'registered': registered}
    finally:
        sess.cleanup()


def run_calls(a, calls, conns):
    """Raw calls, each on the connection it names (`conn`, default "main": `a`'s; others are
    made for the accounts in `conns` on first use). "$token" in an open's keywords is the
    replica token the last info call answered."""
    sessions = {}
    connections = {}
    token = ''

    def connection(name):
        if name not in connections:
            account = a if name == 'main' else conns[name]
            sess = sessions.setdefault(name, session(account))
            connections[name] = sess.pool.get_connection()
        return connections[name]

    results = []
    try:
        for c in calls:
            conn = connection(c.get('conn', 'main'))
            try:
                if c['call'] == 'open':
                    keywords = {k: (token if v == '$token' else v) for k, v in c.get('keywords', {}).items()}
                    body = FileOpenRequest(objPath=c['path'], createMode=0, openFlags=c['flags'], offset=0, dataSize=-1,
                                           numThreads=0, oprType=0, KeyValPair_PI=StringStringMap(keywords))
                    conn.send(iRODSMessage('RODS_API_REQ', msg=body, int_info=api_number['DATA_OBJ_OPEN_AN']))
                    value = conn.recv().int_info
                elif c['call'] == 'write':
                    if 'offset' in c:
                        conn.seek_file(c['fd'], c['offset'], 0)
                    value = conn.write_file(c['fd'], c['data'].encode())
                elif c['call'] == 'close':
                    conn.close_file(c['fd'])
                    value = None
                elif c['call'] == 'info':
                    value = json_call(conn, GET_FILE_DESCRIPTOR_INFO_APN, c.get('json'), c.get('raw'))
                    token = (value or {}).get('replica_token', token)
                elif c['call'] == 'replica_close':
                    value = json_call(conn, REPLICA_CLOSE_APN, c.get('json'), c.get('raw'))
                elif c['call'] == 'json_api':
                    value = json_call(conn, c['api'], c.get('json'), c.get('raw'))
                elif c['call'] == 'stat':
                    o = sessions[c.get('conn', 'main')].data_objects.get(c['path'])
                    value = {'size': o.size, 'checksum': o.checksum}
                elif c['call'] == 'drop':
                    # the connection ends without closing what it opened, as a client that dies
                    conn.disconnect()
                    conn.release(True)
                    del connections[c.get('conn', 'main')]
                    value = None
                else:
                    raise ValueError('unknown call ' + c['call'])
                results.append({'ok': True, 'value': value})
            except PluginError as e:
                results.append(dict({'ok': False, 'code': e.code}, **({'body': e.body} if e.body is not None else {})))
            except iRODSException as e:
                results.append({'ok': False, 'code': getattr(e, 'code', None)})
            except KeyError as e:  # a code python-irodsclient 0.8.1 does not know
                results.append({'ok': False, 'code': e.args[0] if e.args else None})
        for conn in connections.values():
            conn.release()
    finally:
        for sess in sessions.values():
            sess.cleanup()
    return {'results': results}


def main():
    request = json.load(sys.stdin)
    a = request['account']
    action = request['action']
    if action == 'calls':
        out = run_calls(a, request['calls'], request.get('conns', {}))
    else:
        out = transfer(a, request['path'], request['local'], request['threads'], action == 'put')
    json.dump(out, sys.stdout)


if __name__ == '__main__':
    main()
