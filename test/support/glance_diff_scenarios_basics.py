"""Differential scenarios: discovery, schemas, info, and images without data (create, show,
update, tags, delete), and the error answers of the API reference."""
import json

from glance_diff_registry import scenario

PATCH = {'Content-Type': 'application/openstack-images-v2.1-json-patch'}
JSON = {'Content-Type': 'application/json'}
NO_SUCH = '7b1c2a04-1f5e-4a4e-9c39-6f0a3c2d9e11'


@scenario('discovery.sdk-connect', 'sdk', 'member', 'a new SDK connection discovers the image API')
def _(s):
    s.sdk('member', 'connect, then list by tag',
          lambda _c: list(s.side.new_conn('member').image.images(tag=s.tag)))


@scenario('discovery.versions-raw', 'sdk', 'member',
          'GET /, /versions, /v2, /v2/ and an unknown version')
def _(s):
    for path in ('/', '/versions', '/v2', '/v2/', '/v3/images'):
        s.sdk('member', 'GET ' + path, lambda c, p=path: c.session.get(
            s.side.cfg['imageUrl'] + p, raise_exc=False, authenticated=p.startswith('/v')))


@scenario('discovery.glance-cli', 'glance', 'member',
          'the glance CLI discovers versions and caches schemas')
def _(s):
    s.glance('member', 'image-list', '--tag', s.tag)


@scenario('schemas.image', 'sdk', 'member', 'GET /v2/schemas/image')
def _(s):
    s.sdk('member', 'get_image_schema', lambda c: c.image.get_image_schema())


@scenario('schemas.images', 'sdk', 'member', 'GET /v2/schemas/images')
def _(s):
    s.sdk('member', 'get_images_schema', lambda c: c.image.get_images_schema())


@scenario('schemas.member', 'sdk', 'member', 'GET /v2/schemas/member')
def _(s):
    s.sdk('member', 'get_member_schema', lambda c: c.image.get_member_schema())


@scenario('schemas.members', 'sdk', 'admin', 'GET /v2/schemas/members')
def _(s):
    s.sdk('admin', 'get_members_schema', lambda c: c.image.get_members_schema())


@scenario('info.import-sdk', 'sdk', 'member', 'GET /v2/info/import')
def _(s):
    # openstacksdk 0.101's get_import_info() raises before it sends anything: the raw call instead
    s.http('member', 'GET', '/info/import')


@scenario('info.import-glance', 'glance', 'admin', 'glance import-info')
def _(s):
    s.glance('admin', 'import-info')


@scenario('info.stores-glance', 'glance', 'member', 'glance stores-info')
def _(s):
    s.glance('member', 'stores-info')


@scenario('info.stores-sdk', 'sdk', 'member', 'GET /v2/info/stores')
def _(s):
    s.sdk('member', 'stores', lambda c: list(c.image.stores()))


@scenario('info.stores-detail-admin', 'sdk', 'admin', 'GET /v2/info/stores/detail as admin (200)')
def _(s):
    # raw: the glance CLI's `stores-info --detail` prints each store's folder, whose path (and so
    # the CLI's line wrapping) is each deployment's own
    s.http('admin', 'GET', '/info/stores/detail')


@scenario('info.stores-detail-member', 'sdk', 'member',
          'GET /v2/info/stores/detail as member (403)')
def _(s):
    # openstacksdk 0.101's stores() takes no `details`: the raw call instead
    s.http('member', 'GET', '/info/stores/detail')
    s.glance('member', 'stores-info', '--detail')


@scenario('images.create-osc', 'openstack', 'member',
          'openstack image create/show/delete (no data)')
def _(s):
    name = s.name('osc-create')
    out = s.osc('member', 'image', 'create', '--disk-format', 'qcow2', '--container-format', 'bare',
                '--min-disk', '1', '--property', 'gu_kind=plain', '--tag', s.tag, name, '-f', 'json')
    img = s.track(parse(out).get('id'))
    s.osc('member', 'image', 'show', name, '-f', 'json')
    s.osc('member', 'image', 'show', img)
    s.osc('member', 'image', 'delete', name)
    s.osc('member', 'image', 'show', img)


@scenario('images.create-sdk', 'sdk', 'member', 'SDK create_image (no data), get, delete twice')
def _(s):
    img = s.sdk('member', 'create_image', lambda c: c.image.create_image(
        name=s.name('sdk-create'), disk_format='raw', container_format='bare', tags=[s.tag],
        min_ram=64, gu_note='hello', visibility='private'))
    s.track(img and img.id)
    s.sdk('member', 'get_image', lambda c: c.image.get_image(img.id))
    s.sdk('member', 'delete_image', lambda c: c.image.delete_image(img.id))
    s.sdk('member', 'delete_image again', lambda c: c.image.delete_image(img.id, ignore_missing=False))


@scenario('images.create-glance', 'glance', 'member', 'glance image-create/show/delete (no data)')
def _(s):
    out = s.glance('member', 'image-create', '--name', s.name('glance-create'), '--disk-format', 'iso',
                   '--container-format', 'bare', '--property', 'gu_kind=glance', '--protected', 'False')
    img = s.track(table_value(out, 'id'))
    s.glance('member', 'image-show', img)
    s.glance('member', 'image-delete', img)
    s.glance('member', 'image-show', img)


@scenario('images.create-admin-osc', 'openstack', 'admin',
          'openstack image create as admin, with an owner-free show')
def _(s):
    out = s.osc('admin', 'image', 'create', '--disk-format', 'raw', '--container-format', 'bare',
                '--tag', s.tag, s.name('admin-create'), '-f', 'json')
    img = s.track(parse(out).get('id'), 'admin')
    s.osc('member', 'image', 'show', img, '-f', 'json')
    s.osc('admin', 'image', 'delete', img)


@scenario('images.update-osc', 'openstack', 'member',
          'openstack image set/unset properties, name, min-ram')
def _(s):
    img = s.track(s.quiet('member', lambda c: c.image.create_image(
        name=s.name('osc-update'), disk_format='raw', container_format='bare').id))
    s.osc('member', 'image', 'set', '--property', 'gu_a=1', '--property', 'gu_b=two', '--min-ram', '128',
          '--name', s.name('osc-updated'), img)
    s.osc('member', 'image', 'set', '--property', 'gu_a=one', '--os-distro', 'cirros', img)
    s.osc('member', 'image', 'unset', '--property', 'gu_b', img)
    s.osc('member', 'image', 'unset', '--property', 'gu_missing', img)
    s.osc('member', 'image', 'show', img, '-f', 'json')


@scenario('images.update-sdk', 'sdk', 'member',
          'SDK update_image: add, replace and remove properties')
def _(s):
    img = s.track(s.quiet('member', lambda c: c.image.create_image(
        name=s.name('sdk-update'), disk_format='raw', container_format='bare', gu_keep='k').id))
    s.sdk('member', 'update_image add', lambda c: c.image.update_image(img, gu_new='n', min_disk=2))
    s.sdk('member', 'update_image replace', lambda c: c.image.update_image(img, gu_new='m', name='renamed'))
    s.sdk('member', 'update_image remove', lambda c: c.image.update_image(img, gu_keep=None))
    s.sdk('member', 'get_image', lambda c: c.image.get_image(img))


@scenario('images.patch-raw', 'sdk', 'member', 'JSON patch: add, replace, remove, and the refusals')
def _(s):
    img = s.track(s.quiet('member', lambda c: c.image.create_image(
        name=s.name('patch'), disk_format='raw', container_format='bare').id))
    path = '/images/' + img

    def patch(*ops):
        s.http('member', 'PATCH', path, PATCH, json.dumps(list(ops)))
    patch({'op': 'add', 'path': '/gu_x', 'value': 'x'}, {'op': 'add', 'path': '/gu_y', 'value': 'y'})
    patch({'op': 'replace', 'path': '/gu_x', 'value': 'xx'}, {'op': 'remove', 'path': '/gu_y'})
    patch({'op': 'replace', 'path': '/gu_absent', 'value': 'v'})
    patch({'op': 'remove', 'path': '/gu_absent'})
    patch({'op': 'replace', 'path': '/status', 'value': 'active'})
    patch({'op': 'replace', 'path': '/min_disk', 'value': 'big'})
    patch({'op': 'move', 'path': '/gu_x', 'from': '/gu_z'})
    patch({'op': 'add', 'path': '/tags', 'value': ['t1', 't2', 't1']})
    patch({'op': 'replace', 'path': '/visibility', 'value': 'sideways'})


@scenario('tags.osc', 'openstack', 'member', 'openstack image set --tag / unset --tag')
def _(s):
    img = s.track(s.quiet('member', lambda c: c.image.create_image(
        name=s.name('osc-tags'), disk_format='raw', container_format='bare').id))
    # one tag per call: the openstack CLI sends several as a set, in no fixed order
    s.osc('member', 'image', 'set', '--tag', 'alpha', img)
    s.osc('member', 'image', 'set', '--tag', 'beta', img)
    s.osc('member', 'image', 'unset', '--tag', 'alpha', img)
    s.osc('member', 'image', 'show', img, '-c', 'tags', '-f', 'json')


@scenario('tags.glance-odd', 'glance', 'member',
          'glance image-tag-update/-delete with odd tags, a missing one')
def _(s):
    img = s.image('glance-tags', tags=[])
    # one tag at a time: the CLI prints the image's tags, whose order is Glance's set order
    for tag in ('with space', 'a.b-c_d', 'x' * 255):
        s.glance('member', 'image-tag-update', img, tag)
        s.glance('member', 'image-tag-delete', img, tag)
    s.glance('member', 'image-tag-update', img, 'x' * 256)
    s.glance('member', 'image-tag-delete', img, 'never-added')
    s.glance('member', 'image-show', img)


@scenario('tags.non-ascii', 'glance', 'member',
          'a tag that is not ASCII, added and removed through the URL path')
def _(s):
    img = s.image('glance-tags-utf8', tags=[])
    s.glance('member', 'image-tag-update', img, 'ünïcödé')
    s.http('member', 'GET', '/images/' + img)
    s.glance('member', 'image-tag-delete', img, 'ünïcödé')
    s.http('member', 'GET', '/images/' + img)


@scenario('tags.sdk-raw', 'sdk', 'member',
          'PUT/DELETE /tags/{tag}: percent-encoded, repeated, on a missing image')
def _(s):
    img = s.track(s.quiet('member', lambda c: c.image.create_image(
        name=s.name('sdk-tags'), disk_format='raw', container_format='bare').id))
    s.http('member', 'PUT', '/images/%s/tags/per%%25cent' % img)
    s.http('member', 'PUT', '/images/%s/tags/per%%25cent' % img)
    s.http('member', 'PUT', '/images/%s/tags/sl%%2Fash' % img)
    s.http('member', 'DELETE', '/images/%s/tags/nope' % img)
    s.http('member', 'PUT', '/images/%s/tags/t' % NO_SUCH)
    s.http('member', 'GET', '/images/' + img)


@scenario('errors.unknown-image', 'openstack', 'member',
          'show, set, delete and download an unknown image')
def _(s):
    s.osc('member', 'image', 'show', NO_SUCH)
    s.osc('member', 'image', 'set', '--name', 'x', NO_SUCH)
    s.osc('member', 'image', 'delete', NO_SUCH)
    s.glance('member', 'image-download', NO_SUCH, '--file', '/dev/null')


@scenario('errors.bad-uuid', 'glance', 'member', 'an id that is not a UUID, through each client')
def _(s):
    s.glance('member', 'image-show', 'not-a-uuid')
    s.osc('member', 'image', 'show', 'not-a-uuid')
    s.http('member', 'GET', '/images/not-a-uuid')
    s.http('member', 'DELETE', '/images/not-a-uuid')


@scenario('errors.bad-requests', 'sdk', 'member',
          'bad JSON, bad patch content type, bad fields on create')
def _(s):
    s.http('member', 'POST', '/images', JSON, '{"name": "broken"')
    s.http('member', 'POST', '/images', JSON, '["a list"]')
    s.http('member', 'POST', '/images', JSON, '{"name": "%s", "disk_format": "floppy"}' % s.name('bad'))
    s.http('member', 'POST', '/images', JSON, '{"name": "%s", "id": "not-a-uuid"}' % s.name('bad'))
    s.http('member', 'POST', '/images', JSON, '{"name": "%s", "status": "active"}' % s.name('bad'))
    s.http('member', 'POST', '/images', JSON, '{"name": "%s"}' % ('n' * 256))
    s.http('member', 'POST', '/images', JSON, '{"min_disk": -1}')
    img = s.track(s.quiet('member', lambda c: c.image.create_image(
        name=s.name('bad-patch'), disk_format='raw', container_format='bare').id))
    s.http('member', 'PATCH', '/images/' + img, JSON, '[{"op": "add", "path": "/gu", "value": "v"}]')
    s.http('member', 'PATCH', '/images/' + img, PATCH, 'not json')
    s.http('member', 'GET', '/images?limit=-1')
    s.http('member', 'GET', '/nothing-here')


@scenario('errors.disk-format-sdk', 'sdk', 'member',
          'SDK create_image with a disk format Glance does not know')
def _(s):
    img = s.sdk('member', 'create_image floppy', lambda c: c.image.create_image(
        name=s.name('floppy'), disk_format='floppy', container_format='bare'))
    s.track(img and img.id)
    s.osc('member', 'image', 'create', '--container-format', 'nonsense', s.name('nonsense'))


def parse(out):
    try:
        return json.loads(out['stdout'])
    except ValueError:
        return {}


def table_value(out, field):
    """A field of a glance CLI property table (| field | value |)."""
    for line in out['stdout'].splitlines():
        cells = [c.strip() for c in line.strip().strip('|').split('|')]
        if len(cells) == 2 and cells[0] == field:
            return cells[1]
    return None
