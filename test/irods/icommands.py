"""A double of iCommands 4.2.12 `iput` and `iget` (the C client, run with irodsProt=1, XML
packing), built from python-irodsclient 0.8.1's message classes: no iCommands binary is
at hand, and 0.8.1 itself puts and gets with open, read, write and close.

The facts, from iRODS at git tag 4.2.12 (irods/irods; the icommands' own mains live in
another repository, so what follows starts where they call lib/core):

Both first stat (OBJ_STAT_AN 633, a DataObjInp_PI holding only objPath) the iRODS path
(lib/core/src/miscUtil.cpp `resolveRodsTarget`, `getRodsObjType`): OBJ_PATH_DOES_NOT_EXIST
or USER_FILE_DOES_NOT_EXIST means not there. iput onto an existing collection puts
COLLECTION/<local file name>, and stats the collection (not that path) again; an iget of a
path that is not there ends with USER_INPUT_PATH_ERR before any get, one of a collection
without -r with USER_INPUT_OPTION_ERR (lib/core/src/getUtil.cpp `getCollUtil`).

iput (lib/core/src/putUtil.cpp `initCondForPut`, `putFileUtil`; lib/api/src/rcDataObjPut.cpp):
DATA_OBJ_PUT_AN 606 with DataObjInp_PI objPath, createMode (the local file's st_mode),
openFlags O_RDWR, offset 0, dataSize (the file's size), numThreads (0; -N 0 sends
NO_THREADING -1, -N n sends n), oprType PUT_OPR 1 and the keywords, in this order:
dataType "generic"; forceFlag "" (-f); destRescName (-R) or else defRescName (the
environment's irods_default_resource); regChksum "" (-k) or else verifyChksum with the
file's checksum in the environment's irods_default_hash_scheme (-K; SHA256 gives
"sha2:" + base64 of the digest); dataSize (the size again, as text); dataIncluded "" when
the size is at most irods_maximum_size_for_single_buffer_in_megabytes (32 MiB), and then
the file's bytes travel as the request's byte stream. The reply's intInfo is the status,
or the PortalOprOut_PI's l1descInx when that is negative. With dataIncluded that is all.
Otherwise, when the reply's numThreads is 0 or less (lib/core/src/rcPortalOpr.cpp
`putFile`): DATA_OBJ_WRITE_AN 676 of irods_transfer_buffer_size_for_parallel_transfer
(4 MiB) pieces on l1descInx (OpenedDataObjInp_PI l1descInx and len, the rest 0), a write
answering less than its length is SYS_COPY_LEN_ERR, as is a total other than dataSize;
then OPR_COMPLETE_AN 626 (INT_PI myInt) with l1descInx, or with the failure's code.
The environment of iRODS's own setup (scripts/irods/lib.py) sets irods_default_resource
demoResc, irods_default_hash_scheme SHA256, the 32 MiB and the 4 MiB.

iget (lib/core/src/getUtil.cpp `initCondForGet`, `getDataObjUtil`; lib/api/src/
rcDataObjGet.cpp): a local file that exists without -f is OVERWRITE_WITHOUT_FORCE_FLAG
before anything is sent. DATA_OBJ_GET_AN 608 with objPath, createMode 0, openFlags
O_RDONLY, offset 0, dataSize (the stat's size), numThreads (as iput), oprType GET_OPR 2,
keywords forceFlag "" (-f), verifyChksum "" (-K). Reply status negative: the error.
Status 0 or a byte stream: the bytes are the file (`getIncludeFile`). Otherwise, numThreads
0 or less (`getFile`): DATA_OBJ_READ_AN 675 of 4 MiB on l1descInx until one answers 0 bytes;
a total other than a non-zero dataSize is SYS_COPY_LEN_ERR; then 626 as for iput. With -K
the PortalOprOut_PI's chksum is compared with the file's (MD5 hex, or "sha2:" base64):
USER_CHKSUM_MISMATCH; no checksum from the server is only logged.

Reads one JSON object on stdin: the account and an action:
  iput  {local, path, force, checksum: "k"|"K"|null, hash_scheme: "SHA256"|"MD5",
         resource (-R), default_resource (irods_default_resource), threads, data_size (sent instead of the file's size), verify_value
         (sent instead of the file's checksum), drop_after (bytes written, then the
         connection ends without a word, as a killed client's)}
  iget  {path, local, force, verify, threads, stat (false: no stat first, dataSize 0)}
  steps {steps: [...]}   raw requests on one connection (see `run_steps`)
Prints one JSON object; `trace` lists [api, reply intInfo] of every request sent.
"""
import base64
import hashlib
import json
import os
import socket
import sys
from xml.etree import ElementTree

from irods.message import FileOpenRequest, OpenedDataObjRequest, StringStringMap, iRODSMessage
from irods.message.message import Message
from irods.message.property import IntegerProperty
from irods.session import iRODSSession

OBJ_STAT_AN, DATA_OBJ_PUT_AN, DATA_OBJ_GET_AN, OPR_COMPLETE_AN = 633, 606, 608, 626
DATA_OBJ_READ_AN, DATA_OBJ_WRITE_AN = 675, 676
O_RDONLY, O_RDWR = 0, 2
PUT_OPR, GET_OPR = 1, 2
NO_THREADING = -1
DATA_OBJ_T, COLL_OBJ_T = 1, 2
MIB = 1024 * 1024
SINGLE_BUFFER_BYTES = 32 * MIB
TRANS_BUFFER_BYTES = 4 * MIB
DEFAULT_RESOURCE = 'demoResc'
# lib/core/include/rodsErrorTable.h at 4.2.12
SYS_COPY_LEN_ERR = -27000
SYS_INVALID_PORTAL_OPR = -33000
OVERWRITE_WITHOUT_FORCE_FLAG = -312000
USER_CHKSUM_MISMATCH = -314000
USER_INPUT_PATH_ERR = -317000
USER_INPUT_OPTION_ERR = -318000
USER_FILE_DOES_NOT_EXIST = -310000
OBJ_PATH_DOES_NOT_EXIST = -358000


class IntInp(Message):
    """INT_PI (lib/core/include/rodsPackInstruct.h: "int myInt;")."""
    _name = 'INT_PI'
    myInt = IntegerProperty()


class Client(object):
    """One connection, sending requests as rcConnect's procApiRequest does and keeping the trace."""

    def __init__(self, account):
        self.sess = iRODSSession(host=account['host'], port=account['port'], user=account['user'],
                                 password=account['password'], zone=account['zone'])
        self.conn = self.sess.pool.get_connection()
        self.trace = []

    def call(self, api, body, bs=b''):
        self.conn.send(iRODSMessage('RODS_API_REQ', msg=body, bs=bs, int_info=api))
        reply = iRODSMessage.recv(self.conn.socket)
        self.trace.append([api, reply.int_info])
        return reply

    def drop(self):
        """Ends the connection as a killed client does: no disconnect message."""
        self.conn.socket.shutdown(socket.SHUT_RDWR)
        self.conn.socket.close()
        self.conn.socket = None
        self.conn.release(True)

    def close(self):
        if self.conn.socket is not None:
            self.conn.release()
        self.sess.cleanup()

    def stat(self, path):
        """rcObjStat: (status, objType, objSize)."""
        body = FileOpenRequest(objPath=path, createMode=0, openFlags=0, offset=0, dataSize=0, numThreads=0,
                               oprType=0, KeyValPair_PI=StringStringMap())
        reply = self.call(OBJ_STAT_AN, body)
        if reply.int_info < 0:
            return reply.int_info, None, 0
        out = fields(reply)
        return reply.int_info, int(out['objType']), int(out['objSize'])

    def write(self, fd, data):
        body = OpenedDataObjRequest(l1descInx=fd, len=len(data), whence=0, oprType=0, offset=0, bytesWritten=0,
                                    KeyValPair_PI=StringStringMap())
        return self.call(DATA_OBJ_WRITE_AN, body, data).int_info

    def read(self, fd, n):
        body = OpenedDataObjRequest(l1descInx=fd, len=n, whence=0, oprType=0, offset=0, bytesWritten=0,
                                    KeyValPair_PI=StringStringMap())
        reply = self.call(DATA_OBJ_READ_AN, body)
        return reply.int_info, reply.bs or b''

    def complete(self, value):
        return self.call(OPR_COMPLETE_AN, IntInp(myInt=value)).int_info


def fields(reply):
    """The top-level fields of a reply body (PortalOprOut_PI, RodsObjStat_PI) as text; {} without one."""
    if not reply.msg:
        return {}
    root = ElementTree.fromstring(reply.msg.replace(b'\0', b''))
    return {child.tag: (child.text or '') for child in root}


def portal_of(reply):
    out = fields(reply)
    if not out:
        return None
    return {'status': int(out['status']), 'l1descInx': int(out['l1descInx']),
            'numThreads': int(out['numThreads']), 'chksum': out.get('chksum', '')}


def checksum_of(data, scheme):
    """The client's checksum of its file: MD5 hex, or "sha2:" and the SHA-256 digest in base64."""
    if scheme == 'MD5':
        return hashlib.md5(data).hexdigest()
    return 'sha2:' + base64.b64encode(hashlib.sha256(data).digest()).decode()


def not_there(status):
    return status in (OBJ_PATH_DOES_NOT_EXIST, USER_FILE_DOES_NOT_EXIST)


def iput(client, r):
    local = r['local']
    with open(local, 'rb') as f:
        data = f.read()
    dest = r['path']
    target = dest
    status, obj_type, _ = client.stat(dest)
    if status >= 0 and obj_type == COLL_OBJ_T:
        target = dest.rstrip('/') + '/' + os.path.basename(local)
        client.stat(dest)
    size = r.get('data_size', len(data))
    keywords = {'dataType': 'generic'}
    if r.get('force'):
        keywords['forceFlag'] = ''
    if r.get('resource'):
        keywords['destRescName'] = r['resource']
    else:
        keywords['defRescName'] = r.get('default_resource', DEFAULT_RESOURCE)
    if r.get('checksum') == 'k':
        keywords['regChksum'] = ''
    elif r.get('checksum') == 'K':
        keywords['verifyChksum'] = r.get('verify_value', checksum_of(data, r.get('hash_scheme', 'SHA256')))
    keywords['dataSize'] = str(size)
    included = size <= SINGLE_BUFFER_BYTES
    if included:
        keywords['dataIncluded'] = ''
    threads = r.get('threads', 0)
    body = FileOpenRequest(objPath=target, createMode=os.stat(local).st_mode, openFlags=O_RDWR, offset=0,
                           dataSize=size, numThreads=NO_THREADING if threads == 0 and 'threads' in r else threads,
                           oprType=PUT_OPR, KeyValPair_PI=StringStringMap(keywords))
    reply = client.call(DATA_OBJ_PUT_AN, body, data[:size] if included else b'')
    status = reply.int_info
    portal = portal_of(reply)
    if portal is not None and portal['l1descInx'] < 0:
        status = portal['l1descInx']
    out = {'target': target, 'portal': portal}
    if status < 0 or included:
        return dict(out, status=status)
    if portal['numThreads'] > 0:
        raise RuntimeError('the server answered {} threads: a portal this double does not open'.format(portal['numThreads']))
    fd = portal['l1descInx']
    written = 0
    status = 0
    while written < len(data):
        piece = data[written:written + TRANS_BUFFER_BYTES]
        if client.write(fd, piece) < len(piece):
            status = SYS_COPY_LEN_ERR
            break
        written += len(piece)
        if r.get('drop_after') is not None and written >= r['drop_after']:
            client.drop()
            return dict(out, status=None, dropped=True, written=written)
    if status == 0 and size > 0 and written != size:
        status = SYS_COPY_LEN_ERR
    if status < 0:
        client.complete(status)
    else:
        status = client.complete(fd)
    return dict(out, status=status)


def iget(client, r):
    src = r['path']
    local = r['local']
    size = 0
    if r.get('stat', True):
        status, obj_type, size = client.stat(src)
        if not_there(status):
            return {'status': USER_INPUT_PATH_ERR}
        if obj_type == COLL_OBJ_T:
            return {'status': USER_INPUT_OPTION_ERR}
    if os.path.exists(local) and not r.get('force'):
        return {'status': OVERWRITE_WITHOUT_FORCE_FLAG}
    keywords = {}
    if r.get('force'):
        keywords['forceFlag'] = ''
    if r.get('verify'):
        keywords['verifyChksum'] = ''
    threads = r.get('threads', 0)
    body = FileOpenRequest(objPath=src, createMode=0, openFlags=O_RDONLY, offset=0, dataSize=size,
                           numThreads=NO_THREADING if threads == 0 and 'threads' in r else threads,
                           oprType=GET_OPR, KeyValPair_PI=StringStringMap(keywords))
    reply = client.call(DATA_OBJ_GET_AN, body)
    status = reply.int_info
    portal = portal_of(reply)
    if portal is not None and portal['l1descInx'] < 0:
        status = portal['l1descInx']
    out = {'portal': portal}
    if status < 0:
        return dict(out, status=status)
    if status == 0 or reply.bs:
        with open(local, 'wb') as f:
            f.write(reply.bs or b'')
        status = 0
    elif portal is None:
        return dict(out, status=SYS_INVALID_PORTAL_OPR)
    elif portal['numThreads'] > 0:
        raise RuntimeError('the server answered {} threads: a portal this double does not open'.format(portal['numThreads']))
    else:
        total = 0
        got = 0
        with open(local, 'wb') as f:
            while True:
                got, chunk = client.read(portal['l1descInx'], TRANS_BUFFER_BYTES)
                if got <= 0:
                    break
                f.write(chunk)
                total += got
        if got >= 0:
            status = 0 if size == 0 or total == size else SYS_COPY_LEN_ERR
        else:
            status = got
        if status < 0:
            client.complete(status)
        else:
            status = client.complete(portal['l1descInx'])
    if status >= 0 and r.get('verify') and portal is not None and portal['chksum']:
        with open(local, 'rb') as f:
            mine = checksum_of(f.read(), 'SHA256' if portal['chksum'].startswith('sha2:') else 'MD5')
        if mine != portal['chksum']:
            status = USER_CHKSUM_MISMATCH
    return dict(out, status=status)


def run_steps(client, steps):
    """Raw requests on one connection, each reporting {"value": intInfo, ...}:
      put {path, data (text), keywords, data_size, included (default true)}   606; value and portal
      get {path, keywords}          608; value, portal and the bytes (text)
      write {fd, data}              676
      read {fd, len}                675; value and the bytes
      complete {value}              626
    """
    results = []
    for s in steps:
        if s['call'] == 'put':
            data = s.get('data', '').encode()
            keywords = dict(s.get('keywords', {}))
            keywords.setdefault('dataSize', str(s.get('data_size', len(data))))
            if s.get('included', True):
                keywords['dataIncluded'] = ''
            body = FileOpenRequest(objPath=s['path'], createMode=0o100644, openFlags=O_RDWR, offset=0,
                                   dataSize=s.get('data_size', len(data)), numThreads=0, oprType=PUT_OPR,
                                   KeyValPair_PI=StringStringMap(keywords))
            reply = client.call(DATA_OBJ_PUT_AN, body, data if s.get('included', True) else b'')
            results.append({'value': reply.int_info, 'portal': portal_of(reply)})
        elif s['call'] == 'get':
            body = FileOpenRequest(objPath=s['path'], createMode=0, openFlags=O_RDONLY, offset=0, dataSize=0,
                                   numThreads=0, oprType=GET_OPR, KeyValPair_PI=StringStringMap(s.get('keywords', {})))
            reply = client.call(DATA_OBJ_GET_AN, body)
            results.append({'value': reply.int_info, 'portal': portal_of(reply),
                            'data': (reply.bs or b'').decode('latin-1')})
        elif s['call'] == 'write':
            results.append({'value': client.write(s['fd'], s['data'].encode())})
        elif s['call'] == 'read':
            value, data = client.read(s['fd'], s['len'])
            results.append({'value': value, 'data': data.decode('latin-1')})
        elif s['call'] == 'complete':
            results.append({'value': client.complete(s['value'])})
        else:
            raise ValueError('unknown call ' + s['call'])
    return {'results': results}


def main():
    request = json.load(sys.stdin)
    client = Client(request['account'])
    try:
        action = request['action']
        if action == 'iput':
            out = iput(client, request)
        elif action == 'iget':
            out = iget(client, request)
        elif action == 'steps':
            out = run_steps(client, request['steps'])
        else:
            raise ValueError('unknown action ' + action)
    finally:
        client.close()
    out['trace'] = client.trace
    json.dump(out, sys.stdout)


if __name__ == '__main__':
    main()
