"""Records the API requests python-irodsclient 0.8.1 sends for everyday work.

Reads one JSON object from standard input (host, port, zone, user, password,
coll: a collection to work in, which must not exist yet), does with the
client what its users do (make a collection, put, read, stat, checksum,
metadata, access, copy, move, remove, query, add and remove a user) and
prints one JSON list: each API request the client sent after logging in,
as {"api": N, "body": "<packed body as text>", "bs": "<data, base64>"}.
The requests are the seeds test/irods/fuzz.test.ts mutates.
"""
import base64
import json
import os
import sys
import tempfile

from irods import connection
from irods.access import iRODSAccess
from irods.models import Collection, DataObject
from irods.session import iRODSSession

recorded = []
_send = connection.Connection.send


def send(self, message):
    if message.msg_type in ('RODS_API_REQ', b'RODS_API_REQ') and message.int_info not in (703, 704):
        body = message.msg
        if body is not None and not isinstance(body, (bytes, str)):
            body = body.pack()
        if isinstance(body, bytes):
            body = body.decode('utf-8')
        recorded.append({
            'api': message.int_info,
            'body': body or '',
            'bs': base64.b64encode(message.bs or b'').decode('ascii'),
        })
    return _send(self, message)


connection.Connection.send = send

args = json.loads(sys.stdin.readline())
session = iRODSSession(host=args['host'], port=args['port'], user=args['user'],
                       password=args['password'], zone=args['zone'])
coll = args['coll']
try:
    session.collections.create(coll)
    with tempfile.NamedTemporaryFile(delete=False) as f:
        f.write(b'seed bytes\n' * 100)
    session.data_objects.put(f.name, coll + '/a.txt')
    os.unlink(f.name)
    obj = session.data_objects.get(coll + '/a.txt')
    with obj.open('r') as r:
        r.read()
    with obj.open('r+') as w:
        w.seek(5)
        w.write(b'changed')
    obj.metadata.add('attr', 'value', 'unit')
    obj.metadata.remove('attr', 'value', 'unit')
    session.permissions.set(iRODSAccess('read', coll + '/a.txt', 'public', args['zone']))
    session.permissions.get(obj)
    session.data_objects.copy(coll + '/a.txt', coll + '/b.txt')
    session.data_objects.move(coll + '/b.txt', coll + '/c.txt')
    session.data_objects.unlink(coll + '/c.txt')
    list(session.query(DataObject.name, Collection.name).filter(Collection.name == coll))
    session.users.create('seeduser', 'rodsuser')
    session.users.get('seeduser').remove()
    session.collections.get(coll).remove(recurse=True, force=True)
finally:
    session.cleanup()
print(json.dumps(recorded))
