"""Writes the password read from stdin (one line) to an iRODS authentication
file (.irodsA) as python-irodsclient 0.8.1 reads it: obfuscated with
irods.password_obfuscation.encode, salted with the uid of the user who runs
this (the same user must run the client). Mode 0600.

    /usr/bin/python3 test/irods/irods_auth_file.py PATH < password
"""
import os
import sys

from irods.password_obfuscation import encode


def main(path):
    password = sys.stdin.readline().rstrip('\n')
    if not password:
        sys.stderr.write('irods_auth_file: no password on stdin\n')
        return 2
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, 'w') as f:
        f.write(encode(password))
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1]))
