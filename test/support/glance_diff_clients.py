"""The three real clients, run in this one process for one side of the differential suite.

`Side` holds what a side is (its clouds.yaml, the recording proxy in front of its Glance, the users
by role) and the clients: openstacksdk connections (one per role, kept), the `openstack` CLI
(openstackclient.shell, in-process) and the `glance` CLI (glanceclient.shell, in-process). A
CLI's outcome is its exit code and its stdout and stderr; an SDK call's is its result (resources
as plain dicts) or its exception: class, HTTP status, message. Before each step the proxy is told
its label, so what the clients send to Glance is split by scenario and step.

Heavy imports (openstack, openstackclient, glanceclient) happen in Side(): `--list` stays fast.
"""
import contextlib
import hashlib
import io
import json
import logging
import os
import sys
import time
import types
import urllib.request
import warnings

import yaml

# Client-side deprecation chatter is not what a server answers: keep it out of stderr.
warnings.simplefilter('ignore')

ROLES = ('member', 'admin', 'second')


class RoleMissing(Exception):
    """This side has no user for a role: the scenario stops, the test says why."""


def plain(value):
    """A client's result as plain JSON: resources as their server-side attributes, bytes by digest."""
    from openstack import resource

    if isinstance(value, resource.Resource):
        d = value.to_dict(computed=False)
        d.pop('location', None)
        return plain(d)
    if isinstance(value, (bytes, bytearray)):
        return {'bytes': len(value), 'md5': hashlib.md5(value).hexdigest()}
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, types.GeneratorType)):
        return [plain(v) for v in value]
    if hasattr(value, 'status_code') and hasattr(value, 'headers'):  # a requests.Response
        ctype = value.headers.get('content-type', '')
        return {'status': value.status_code, 'content_type': ctype, 'body': response_body(value)}
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return repr(value)


def response_body(response):
    body, ctype = response.content, response.headers.get('content-type', '')
    if 'json' in ctype and body:
        try:
            return json.loads(body)
        except ValueError:
            return {'unparsableJson': body.decode('utf-8', 'replace')}
    if ctype.startswith('text/'):
        return {'text': body.decode('utf-8', 'replace')}
    return plain(body)


def error_outcome(e):
    return {'error': type(e).__name__, 'status': getattr(e, 'status_code', None),
            'message': str(e)}


def ordered_set(items):
    """The distinct items in the order they came: the page's own line order, the same on both sides
    whatever ids the lines hold (sorting would order them by those ids)."""
    return dict.fromkeys(items)


def deterministic_sdk_errors(exceptions_module):
    """openstacksdk joins the lines of an HTML error body in set order (`list(set(...))` in
    openstack/exceptions.py raise_from_response), so the message of one answer varies from run to
    run, in the SDK's results and in the openstack CLI's stderr. Its module-level `set` keeps
    the body's order instead: the same lines, in one order."""
    exceptions_module.set = ordered_set


@contextlib.contextmanager
def captured():
    """stdout/stderr into buffers, and the logging handlers a CLI adds taken away after."""
    out, err = io.StringIO(), io.StringIO()
    loggers = [logging.getLogger()] + [
        lg for lg in logging.Logger.manager.loggerDict.values() if isinstance(lg, logging.Logger)]
    before = {id(lg): (list(lg.handlers), lg.level) for lg in loggers}
    argv, stdin = sys.argv, sys.stdin
    sys.stdin = NoInput()
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            yield out, err
    finally:
        sys.argv, sys.stdin = argv, stdin
        for lg in [logging.getLogger()] + [
                lg for lg in logging.Logger.manager.loggerDict.values() if isinstance(lg, logging.Logger)]:
            handlers, level = before.get(id(lg), ([], logging.NOTSET))
            lg.handlers = handlers
            lg.setLevel(level)


class NoInput(io.StringIO):
    """stdin as a terminal with nothing typed: glanceclient reads image data from a stdin that is
    not a terminal, and the CLIs would wait on a pipe."""

    def isatty(self):
        return True


def fresh_osc_clients():
    """osc-lib keeps each API client it builds in a ClientCache descriptor on the ClientManager
    CLASS: in one process, the next `openstack` command (as another user) would reuse the first
    command's image client, its session and its token. A command run from a shell starts empty."""
    from openstackclient.common import clientmanager
    from osc_lib.clientmanager import ClientCache
    for klass in clientmanager.ClientManager.__mro__:
        for attr in vars(klass).values():
            if isinstance(attr, ClientCache):
                attr._handle = None


def exit_code(e):
    return e.code if isinstance(e.code, int) else (0 if e.code is None else 1)


class Side:
    def __init__(self, cfg):
        self.cfg = cfg
        self.users = cfg['users']
        os.environ['HOME'] = cfg['workDir']
        for k in [k for k in os.environ if k.startswith('OS_')]:
            del os.environ[k]
        clouds = os.path.join(cfg['workDir'], 'clouds.yaml')
        with open(clouds, 'w') as f:
            yaml.safe_dump({'clouds': {r: self._cloud(r) for r in ROLES if self.users.get(r)}}, f)
        os.environ['OS_CLIENT_CONFIG_FILE'] = clouds
        import openstack  # noqa: F401  (after OS_CLIENT_CONFIG_FILE)
        from glanceclient import shell as glance_shell
        from openstackclient import shell as osc_shell
        deterministic_sdk_errors(openstack.exceptions)
        self._openstack = openstack
        self._glance_shell = glance_shell
        self._osc_shell = osc_shell
        self._conns = {}
        self.shared = {}

    def _cloud(self, role):
        u = self.users[role]
        return {
            'auth_type': 'password',
            'auth': {'auth_url': self.cfg['authUrl'], 'username': u['username'],
                     'password': u['password'], 'project_name': u['project'],
                     'user_domain_id': 'default', 'project_domain_id': 'default'},
            'region_name': self.cfg['region'], 'interface': 'public',
            'identity_api_version': 3, 'image_api_version': 2,
            'image_endpoint_override': self.cfg['imageUrl'], 'api_timeout': 60,
        }

    def need(self, role):
        if not self.users.get(role):
            raise RoleMissing('no %s user on the %s side' % (role, self.cfg['side']))

    def mark(self, label):
        """Tell the proxy which step runs now ('' = do not record)."""
        req = urllib.request.Request(self.cfg['imageUrl'] + '/__diff/step', data=label.encode(),
                                     method='PUT')
        urllib.request.urlopen(req, timeout=10).read()

    def conn(self, role):
        self.need(role)
        if role not in self._conns:
            self._conns[role] = self.new_conn(role)
        return self._conns[role]

    def new_conn(self, role):
        self.need(role)
        return self._openstack.connect(cloud=role)

    def osc(self, role, argv):
        self.need(role)
        fresh_osc_clients()
        with captured() as (out, err):
            try:
                code = self._osc_shell.OpenStackShell().run(['--os-cloud', role] + argv)
            except SystemExit as e:
                code = exit_code(e)
        return {'exit': code, 'stdout': out.getvalue(), 'stderr': err.getvalue()}

    def glance(self, role, argv):
        self.need(role)
        # A token and the image URL: glanceclient then skips Keystone (it would authenticate
        # twice per command, ~0.5 s; Keystone's traffic is not what is compared)
        full = ['--os-auth-token', self.token(role), '--os-image-url', self.cfg['imageUrl'],
                '--timeout', '60'] + argv
        with captured() as (out, err):
            sys.argv = ['glance'] + full
            try:
                self._glance_shell.main()
                code = 0
            except SystemExit as e:
                code = exit_code(e)
        return {'exit': code, 'stdout': out.getvalue(), 'stderr': err.getvalue()}

    def token(self, role):
        return self.conn(role).auth_token

    def sdk(self, role, fn):
        conn = self.conn(role)
        try:
            value = fn(conn)
            return value, {'result': plain(value)}
        except self._openstack.exceptions.SDKException as e:
            return None, error_outcome(e)

    def settle(self, role, image_id, store=None, timeout=20):
        """Poll (unrecorded) until an import is over: its task done, and the image active with
        nothing left to import (and in `store`, for a copy), or failed. The poll count is not
        compared; a timeout is no error here (the recorded show after it tells)."""
        conn = self.conn(role)
        deadline = time.time() + timeout
        while time.time() < deadline:
            img = conn.image.get(f'/images/{image_id}').json()
            stores = (img.get('stores') or '').split(',')
            pending = img.get('os_glance_importing_to_stores')
            failed = img.get('os_glance_failed_import')
            running = img.get('os_glance_import_task')  # the task removes it when it ends
            done = (failed and not pending) or (img.get('status') == 'active' and not pending and (
                store is None or store in stores))
            if done and not running:
                return img
            time.sleep(0.25)
        return None
