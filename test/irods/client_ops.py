"""Runs a list of operations through python-irodsclient 0.8.1 as one user and
reports each one's outcome, for the end-to-end tests in test/irods/.

Input (stdin, JSON):
  {"account": {"host", "port", "zone", "user", "password"},
   "ops": [{"op": NAME, ...arguments}, ...]}
Output (stdout, JSON): {"results": [one per op, in order]}, each
  {"op": NAME, "ok": true, "value": ...} or
  {"op": NAME, "ok": false, "error": EXCEPTION CLASS, "code": IRODS CODE or null, "message": TEXT}
Every op runs even when an earlier one failed; the session is built with
iRODSSession(host=, port=, user=, password=, zone=) and connects on first use.

Ops (paths are absolute iRODS paths):
  login                      open a connection (startup and native authentication)
  list path                  names in a collection (objects, then subcollections)
  collection path            a collection's path, its subcollections' paths and its objects' names (sorted)
  stat path                  an object's size
  obj_stat path              OBJ_STAT_AN 633 (no call of the client makes it): objType, ownerName, ownerZone
  read path                  an object's content (UTF-8)
  write path content         write an object with open 'w' (create or truncate)
  create path                create an empty object (DATA_OBJ_CREATE)
  mkdir path                 create a collection
  unlink path                remove an object, skipping the trash
  rmdir path                 remove a collection recursively, skipping the trash
  rename path dest           rename an object (data_objects.move: oprType 11, no keywords)
  rename_raw path dest opr_type [src_keywords] [dest_keywords]
                             a rename request built as data_objects.move builds it, with
                             this oprType and these keywords ({name: value}) on each side
  open_write path content    open an object for writing, write content and keep it open
  close path                 close what open_write opened
  id path                    an object's catalog id
  meta_add path kind a v     add an AVU (kind: d object, c collection)
  meta_get path kind         the AVUs as [name, value]
  chmod path level user [recursive]   set access (null, read, write, own, inherit, noinherit)
  acl path kind              the ACL as [user, access name]
  query_names path           GenQuery: names of objects in collections whose name starts with path
  mtime path kind            the modify time in seconds as GenQuery (DATA_MODIFY_TIME, COLL_MODIFY_TIME)
                             and a stat (633, modifyTime) answer it: {"query", "stat"} (kind: d or c)
  times path kind            create and modify time in seconds as GenQuery (DATA_CREATE_TIME and
                             DATA_MODIFY_TIME, COLL_*) and a stat (createTime, modifyTime) answer them:
                             {"query": [[create, modify], ...], "stat": [create, modify]}
"""
import json
import sys
from calendar import timegm
from xml.etree import ElementTree

from irods.access import iRODSAccess
from irods.api_number import api_number
from irods.column import Like
from irods.exception import iRODSException
from irods.message import FileOpenRequest, ObjCopyRequest, StringStringMap, iRODSMessage
from irods.meta import iRODSMeta
from irods.models import Collection, DataObject
from irods.session import iRODSSession


def model(kind):
    return {'d': DataObject, 'c': Collection}[kind]


# objects open_write left open, by path, until close
open_for_writing = {}


def rename_request(sess, src, dest, opr_type, src_keywords, dest_keywords):
    """DATA_OBJ_RENAME_AN as 0.8.1's DataObjectManager.move builds and sends
    it, with the caller's oprType and keywords instead of 11 and none."""
    def inp(path, keywords):
        return FileOpenRequest(
            objPath=path,
            createMode=0,
            openFlags=0,
            offset=0,
            dataSize=0,
            numThreads=sess.numThreads,
            oprType=opr_type,
            KeyValPair_PI=StringStringMap(keywords),
        )
    body = ObjCopyRequest(srcDataObjInp_PI=inp(src, src_keywords), destDataObjInp_PI=inp(dest, dest_keywords))
    message = iRODSMessage('RODS_API_REQ', msg=body, int_info=api_number['DATA_OBJ_RENAME_AN'])
    with sess.pool.get_connection() as conn:
        conn.send(message)
        conn.recv()


def run_op(sess, op):
    name = op['op']
    path = op.get('path')
    if name == 'login':
        with sess.pool.get_connection():
            return sess.server_version
    if name == 'list':
        coll = sess.collections.get(path)
        return [o.name for o in coll.data_objects] + [c.name for c in coll.subcollections]
    if name == 'collection':
        coll = sess.collections.get(path)
        return {'path': coll.path, 'subcollections': sorted(c.path for c in coll.subcollections),
                'data_objects': sorted(o.name for o in coll.data_objects)}
    if name == 'stat':
        return sess.data_objects.get(path).size
    if name == 'obj_stat':
        return obj_stat(sess, path)
    if name == 'read':
        with sess.data_objects.open(path, 'r') as f:
            return f.read().decode('utf-8')
    if name == 'write':
        with sess.data_objects.open(path, 'w') as f:
            f.write(op['content'].encode('utf-8'))
        return None
    if name == 'create':
        sess.data_objects.create(path)
        return None
    if name == 'mkdir':
        sess.collections.create(path)
        return None
    if name == 'unlink':
        sess.data_objects.unlink(path, force=True)
        return None
    if name == 'rmdir':
        sess.collections.remove(path, recurse=True, force=True)
        return None
    if name == 'rename':
        sess.data_objects.move(path, op['dest'])
        return None
    if name == 'rename_raw':
        rename_request(sess, path, op['dest'], op['opr_type'], op.get('src_keywords', {}), op.get('dest_keywords', {}))
        return None
    if name == 'open_write':
        f = sess.data_objects.open(path, 'w')
        f.write(op['content'].encode('utf-8'))
        f.flush()
        open_for_writing[path] = f
        return None
    if name == 'close':
        open_for_writing.pop(path).close()
        return None
    if name == 'id':
        return int(sess.data_objects.get(path).id)
    if name == 'meta_add':
        sess.metadata.add(model(op['kind']), path, iRODSMeta(op['attribute'], op['value']))
        return None
    if name == 'meta_get':
        return [[m.name, m.value] for m in sess.metadata.get(model(op['kind']), path)]
    if name == 'chmod':
        acl = iRODSAccess(op['level'], path, op.get('user', ''), op.get('zone', sess.zone))
        sess.permissions.set(acl, recursive=bool(op.get('recursive')))
        return None
    if name == 'acl':
        target = sess.data_objects.get(path) if op['kind'] == 'd' else sess.collections.get(path)
        return [[a.user_name, a.access_name] for a in sess.permissions.get(target)]
    if name == 'query_names':
        rows = sess.query(DataObject.name, Collection.name).filter(Like(Collection.name, path + '%')).all()
        return sorted('{}/{}'.format(r[Collection.name], r[DataObject.name]) for r in rows)
    if name == 'mtime':
        return {'query': [m for _, m in query_times(sess, path, op['kind'])], 'stat': int(obj_stat_fields(sess, path)['modifyTime'])}
    if name == 'times':
        stat = obj_stat_fields(sess, path)
        return {'query': query_times(sess, path, op['kind']), 'stat': [int(stat['createTime']), int(stat['modifyTime'])]}
    raise ValueError('unknown op ' + name)


def query_times(sess, path, kind):
    """[create, modify] in seconds of each row GenQuery answers for the object or collection at path."""
    m = model(kind)
    q = sess.query(m.create_time, m.modify_time)
    if kind == 'd':
        coll, _, name = path.rpartition('/')
        q = q.filter(Collection.name == coll).filter(DataObject.name == name)
    else:
        q = q.filter(Collection.name == path)
    return [[timegm(r[m.create_time].utctimetuple()), timegm(r[m.modify_time].utctimetuple())] for r in q.all()]


def obj_stat_fields(sess, path):
    """Every field of OBJ_STAT_AN's RodsObjStat_PI, as text."""
    # the DataObjInp_PI the client sends for an open (FileOpenRequest), as OBJ_STAT_AN takes it
    request = FileOpenRequest(objPath=path, createMode=0, openFlags=0, offset=0, dataSize=-1, numThreads=0, oprType=0,
                              KeyValPair_PI=StringStringMap({}))
    with sess.pool.get_connection() as conn:
        conn.send(iRODSMessage('RODS_API_REQ', msg=request, int_info=api_number['OBJ_STAT_AN']))
        reply = conn.recv()  # raises the iRODS error of a negative status
    return {f.tag: f.text or '' for f in ElementTree.fromstring(reply.msg)}


def obj_stat(sess, path):
    fields = obj_stat_fields(sess, path)
    return {f: fields.get(f) for f in ('objType', 'ownerName', 'ownerZone')}


def outcome(sess, op):
    try:
        return {'op': op['op'], 'ok': True, 'value': run_op(sess, op)}
    except Exception as e:  # every failure is the result under test
        code = getattr(e, 'code', None) if isinstance(e, iRODSException) else None
        return {'op': op['op'], 'ok': False, 'error': type(e).__name__, 'code': code, 'message': str(e)}


def main():
    request = json.load(sys.stdin)
    a = request['account']
    sess = iRODSSession(host=a['host'], port=a['port'], user=a['user'], password=a['password'], zone=a['zone'])
    try:
        results = [outcome(sess, op) for op in request['ops']]
    finally:
        try:
            sess.cleanup()
        except Exception:  # a connection the server already closed
            pass
    json.dump({'results': results}, sys.stdout)
    return 0


if __name__ == '__main__':
    sys.exit(main())
