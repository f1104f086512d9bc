"""Run one Swift WSGI server of the reference OpenStack in the foreground.

usage: swift-server.py proxy-server|account-server|container-server|object-server CONF SWIFT_DIR

Swift 2.30 reads the hash path prefix/suffix and the storage policies from /etc/swift/swift.conf
whatever `swift_dir` says (swift.common.utils.SWIFT_CONF_FILE; swift_dir only moves the rings), and
Debian ships that file with placeholder hashes. Setting SWIFT_CONF_FILE before storage_policy and
constraints are imported keeps the whole cluster inside the state folder. There is no syslog here
(no /dev/log: Swift would send its logs over UDP to nowhere), so the syslog handler is a null one
and the servers log to stderr (verbose=True), which the launcher sends to a file.
"""
import logging
import os
import sys

server, conf_path, swift_dir = sys.argv[1], sys.argv[2], sys.argv[3]

from swift.common import utils  # noqa: E402

utils.SWIFT_CONF_FILE = os.path.join(swift_dir, 'swift.conf')


class _NoSyslog(logging.NullHandler):
    def __init__(self, *args, **kwargs):
        super().__init__()


utils.ThreadSafeSysLogHandler = _NoSyslog

from swift.common import constraints, storage_policy  # noqa: E402

storage_policy.reload_storage_policies()
constraints.reload_constraints()

from swift.common.wsgi import run_wsgi  # noqa: E402

sys.exit(run_wsgi(conf_path, server, verbose=True))
