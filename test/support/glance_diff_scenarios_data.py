"""Differential scenarios: image data (upload, download, ranges), the interoperable import
(glance-direct, web-download, copy-image) and the image life cycle (deactivate, protect)."""
import hashlib
import json
import os

from glance_diff_registry import scenario

JSON = {'Content-Type': 'application/json'}
OCTETS = {'Content-Type': 'application/octet-stream'}


def md5_of(path):
    if not os.path.exists(path):
        return None
    with open(path, 'rb') as f:
        return hashlib.md5(f.read()).hexdigest()


def out_file(s, name):
    path = os.path.join(s.side.cfg['workDir'], name)
    if os.path.exists(path):
        os.remove(path)
    return path


def data_file(s):
    return s.side.cfg['dataFile']


def data_bytes(s):
    """The scenario data file's bytes (the same file on both sides)."""
    with open(data_file(s), 'rb') as f:
        return f.read()


def upload_quietly(s, role, image_id):
    """PUT the data (unrecorded): an active image both sides need."""
    payload = data_bytes(s)
    s.quiet(role, lambda c: c.image.request(
        '/images/%s/file' % image_id, 'PUT', headers=OCTETS, data=payload))


def get(c, image_id):
    return c.image.get_image(image_id)


def import_call(s, role, image_id, body, store=None):
    """POST /v2/images/{id}/import through the SDK's session (the CLIs show the image right after,
    which races the import task on any Glance), then wait unrecorded and show it once."""
    s.http(role, 'POST', '/images/%s/import' % image_id, JSON, json.dumps(body))
    s.side.settle(role, image_id, store)
    s.http(role, 'GET', '/images/' + image_id)


@scenario('data.osc-upload-save', 'openstack', 'member',
          'openstack image create --file, show, save')
def _(s):
    name = s.name('osc-data')
    out = s.osc('member', 'image', 'create', '--disk-format', 'raw', '--container-format', 'bare',
                '--file', data_file(s), '--tag', s.tag, name, '-f', 'json')
    try:
        s.track(json.loads(out['stdout']).get('id'))
    except ValueError:
        pass
    s.osc('member', 'image', 'show', name, '-f', 'json')
    saved = out_file(s, 'osc-saved.raw')
    s.osc('member', 'image', 'save', '--file', saved, name)
    s.note('md5 of the saved file', md5_of(saved))


@scenario('data.sdk-upload-download', 'sdk', 'member',
          'SDK upload (PUT file) and download, whole and streamed')
def _(s):
    img = s.image('sdk-data')
    payload = data_bytes(s)
    s.http('member', 'PUT', '/images/%s/file' % img, OCTETS, payload)
    s.sdk('member', 'get_image', lambda c: c.image.get_image(img))
    saved = out_file(s, 'sdk-saved.raw')
    s.sdk('member', 'download_image(output=)', lambda c: c.image.download_image(img, output=saved) and None)
    s.note('md5 of the saved file', md5_of(saved))
    s.http('member', 'PUT', '/images/%s/file' % img, OCTETS, payload)


@scenario('data.ranges-sdk', 'sdk', 'member', 'GET /file with Range headers (206, 416) and HEAD')
def _(s):
    img = s.image('ranges')
    upload_quietly(s, 'member', img)
    for rng in ('bytes=0-99', 'bytes=1000-', 'bytes=-10', 'bytes=99999999-', 'bytes=5-2'):
        s.http('member', 'GET', '/images/%s/file' % img, {'Range': rng})


@scenario('data.glance-upload-download', 'glance', 'member',
          'glance image-create --file, image-download, image-upload again')
def _(s):
    from glance_diff_scenarios_basics import table_value
    out = s.glance('member', 'image-create', '--name', s.name('glance-data'), '--disk-format', 'raw',
                   '--container-format', 'bare', '--file', data_file(s))
    img = s.track(table_value(out, 'id'))
    saved = out_file(s, 'glance-saved.raw')
    s.glance('member', 'image-download', '--file', saved, img)
    s.note('md5 of the saved file', md5_of(saved))
    s.glance('member', 'image-upload', '--file', data_file(s), img)


@scenario('data.no-data-download', 'openstack', 'member',
          'download an image that has no data (queued)')
def _(s):
    img = s.image('no-data')
    saved = out_file(s, 'nodata.raw')
    s.osc('member', 'image', 'save', '--file', saved, img)
    s.note('saved file exists', os.path.exists(saved))
    s.glance('member', 'image-download', '--file', saved, img)
    s.http('member', 'GET', '/images/%s/file' % img)


@scenario('import.glance-direct', 'glance', 'member',
          'glance image-stage, then import glance-direct')
def _(s):
    img = s.image('direct')
    s.glance('member', 'image-stage', '--file', data_file(s), img)
    s.http('member', 'GET', '/images/' + img)
    import_call(s, 'member', img, {'method': {'name': 'glance-direct'}})
    s.http('member', 'GET', '/images/%s/tasks' % img)


@scenario('import.glance-direct-sdk', 'sdk', 'member',
          'SDK stage_image and import_image(glance-direct)')
def _(s):
    img = s.image('direct-sdk')
    payload = data_bytes(s)
    s.sdk('member', 'stage_image', lambda c: c.image.stage_image(get(c, img), data=payload) and None)
    s.sdk('member', 'import_image glance-direct',
          lambda c: c.image.import_image(get(c, img), method='glance-direct'))
    s.side.settle('member', img)
    s.sdk('member', 'get_image', lambda c: c.image.get_image(img))


@scenario('import.web-download', 'sdk', 'member',
          'import web-download from a local HTTP server, and a missing URL')
def _(s):
    img = s.image('web')
    uri = s.side.cfg['webUrl'] + '/image.raw'
    s.sdk('member', 'import_image web-download',
          lambda c: c.image.import_image(get(c, img), method='web-download', uri=uri))
    s.side.settle('member', img)
    s.sdk('member', 'get_image', lambda c: c.image.get_image(img))
    saved = out_file(s, 'web-saved.raw')
    s.glance('member', 'image-download', '--file', saved, img)
    s.note('md5 of the saved file', md5_of(saved))
    bad = s.image('web-missing')
    missing = s.side.cfg['webUrl'] + '/missing'
    import_call(s, 'member', bad, {'method': {'name': 'web-download', 'uri': missing}})


@scenario('import.bad-requests', 'sdk', 'member',
          'import refusals: unknown method, no uri, wrong state, not staged')
def _(s):
    img = s.image('import-bad')
    for body in ({'method': {'name': 'teleport'}}, {'method': {'name': 'web-download'}},
                 {'method': {'name': 'glance-direct'}}, {'nomethod': True},
                 {'method': {'name': 'copy-image'}, 'stores': ['cold']}):
        s.http('member', 'POST', '/images/%s/import' % img, JSON, json.dumps(body))


@scenario('import.copy-image-admin', 'sdk', 'admin',
          'copy-image to the second store as admin (202, then in both stores)')
def _(s):
    img = s.image('copy', role='admin')
    upload_quietly(s, 'admin', img)
    import_call(s, 'admin', img, {'method': {'name': 'copy-image'}, 'stores': ['cold']}, store='cold')
    import_call(s, 'admin', img, {'method': {'name': 'copy-image'}, 'stores': ['nowhere']})
    s.glance('admin', 'image-show', img)


@scenario('import.copy-image-member', 'glance', 'member',
          'copy-image as member (403), and all-stores')
def _(s):
    img = s.image('copy-member')
    upload_quietly(s, 'member', img)
    s.glance('member', 'image-import', '--import-method', 'copy-image', '--stores', 'cold', img)
    s.sdk('member', 'import_image copy-image all_stores',
          lambda c: c.image.import_image(get(c, img), method='copy-image', all_stores=True))


@scenario('lifecycle.deactivate', 'openstack', 'member',
          'deactivate: download as member 403, as admin 200, reactivate')
def _(s):
    img = s.image('deactivate')
    upload_quietly(s, 'member', img)
    s.osc('member', 'image', 'set', '--deactivate', img)
    s.osc('member', 'image', 'show', img, '-c', 'status', '-f', 'value')
    s.http('member', 'GET', '/images/%s/file' % img)
    saved = out_file(s, 'deactivated.raw')
    s.glance('admin', 'image-download', '--file', saved, img)
    s.note('md5 of the saved file', md5_of(saved))
    s.glance('member', 'image-reactivate', img)
    s.http('member', 'POST', '/images/%s/actions/reactivate' % img)
    s.http('member', 'POST', '/images/%s/actions/explode' % img)


@scenario('lifecycle.deactivate-admin-sdk', 'sdk', 'admin',
          'SDK deactivate/reactivate as admin, and of a queued image')
def _(s):
    img = s.image('deactivate-admin')
    s.sdk('admin', 'deactivate_image queued', lambda c: c.image.deactivate_image(img))
    upload_quietly(s, 'member', img)
    s.sdk('admin', 'deactivate_image', lambda c: c.image.deactivate_image(img))
    s.sdk('admin', 'get_image', lambda c: c.image.get_image(img))
    s.sdk('admin', 'reactivate_image', lambda c: c.image.reactivate_image(img))
    s.sdk('admin', 'get_image', lambda c: c.image.get_image(img))


@scenario('lifecycle.protected', 'openstack', 'member',
          'a protected image cannot be deleted (403) until unprotected')
def _(s):
    img = s.image('protected')
    s.osc('member', 'image', 'set', '--protected', img)
    s.osc('member', 'image', 'delete', img)
    s.http('member', 'DELETE', '/images/' + img)
    s.glance('admin', 'image-delete', img)
    s.osc('member', 'image', 'set', '--unprotected', img)
    s.osc('member', 'image', 'delete', img)
