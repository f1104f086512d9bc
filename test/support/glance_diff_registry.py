"""The scenarios of the differential suite and the steps they are made of.

A scenario is a function registered with @scenario(id, client, role, title): `client` and `role`
say what it is mainly about (for the catalogue and the test titles); its steps may use any client
as any role. Each step (`s.osc`, `s.glance`, `s.sdk`, `s.http`) labels the proxy first, then
records its outcome; `s.quiet` runs something unrecorded (setup both sides need, clean-up).
Only the standard library here: `--list` must not import the clients.
"""
import traceback

SCENARIOS = []


def scenario(sid, client, role, title):
    def register(fn):
        if any(s['id'] == sid for s in SCENARIOS):
            raise ValueError('duplicate scenario ' + sid)
        SCENARIOS.append({'id': sid, 'client': client, 'role': role, 'title': title, 'fn': fn})
        return fn
    return register


def catalogue():
    return [{k: v for k, v in s.items() if k != 'fn'} for s in SCENARIOS]


class Scenario:
    def __init__(self, side, sid):
        self.side = side
        self.sid = sid
        self.steps = []
        self.cleanup = []

    @property
    def tag(self):
        return self.side.cfg['tag']

    def name(self, suffix):
        """An image name unique to this run, the same on both sides."""
        return '%s-%s' % (self.tag, suffix)

    def _step(self, client, role, call, run):
        label = '%s#%d' % (self.sid, len(self.steps))
        self.side.mark(label)
        outcome = run()
        self.side.mark('')
        self.steps.append({'label': label, 'client': client, 'role': role, 'call': call,
                           'outcome': outcome})
        return outcome

    def osc(self, role, *argv):
        return self._step('openstack', role, ' '.join(argv), lambda: self.side.osc(role, list(argv)))

    def glance(self, role, *argv):
        return self._step('glance', role, ' '.join(argv), lambda: self.side.glance(role, list(argv)))

    def sdk(self, role, call, fn):
        """fn(conn) through openstacksdk; returns the client's value (None when it raised)."""
        box = {}

        def run():
            value, outcome = self.side.sdk(role, fn)
            box['value'] = value
            return outcome
        self._step('sdk', role, call, run)
        return box.get('value')

    def http(self, role, method, path, headers=None, body=None):
        """A request of our own through the SDK's keystoneauth session (raw API calls: bad JSON...)."""
        def call(conn):
            return conn.image.request(path, method, headers=headers or {}, data=body,
                                      raise_exc=False)
        return self.sdk(role, '%s %s' % (method, path), call)

    def note(self, what, value):
        """A value the scenario derives without a client call (a downloaded file's digest)."""
        self.steps.append({'label': '%s#%d' % (self.sid, len(self.steps)), 'client': '-', 'role': '-',
                           'call': what, 'outcome': value})
        return value

    def image(self, suffix, role='member', **attrs):
        """An image made unrecorded (setup both sides need), deleted after the scenario."""
        fields = {'name': self.name(suffix), 'disk_format': 'raw', 'container_format': 'bare',
                  'tags': [self.tag]}
        fields.update(attrs)
        return self.track(self.quiet(role, lambda c: c.image.create_image(**fields).id), role)

    def quiet(self, role, fn):
        """Unrecorded setup/clean-up through the SDK; exceptions propagate."""
        return fn(self.side.conn(role))

    def track(self, image_id, role='member'):
        """Delete this image after the scenario (unrecorded), whatever happened."""
        if image_id:
            self.cleanup.append((role, image_id))
        return image_id

    def run_cleanup(self):
        for role, image_id in reversed(self.cleanup):
            try:
                conn = self.side.conn(role)
                conn.image.request(f'/images/{image_id}', 'PATCH', raise_exc=False, headers={
                    'Content-Type': 'application/openstack-images-v2.1-json-patch'},
                    data='[{"op": "replace", "path": "/protected", "value": false}]')
                conn.image.request(f'/images/{image_id}', 'DELETE', raise_exc=False)
            except Exception:  # clean-up is best effort; a leftover has a unique name
                traceback.print_exc()
