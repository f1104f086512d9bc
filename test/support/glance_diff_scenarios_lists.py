"""Differential scenarios: listing images with filters, sorting and paging, and visibility
(public, community) as member and admin. Every list is narrowed to this run's tag: the
reference cloud is shared with other test files. Lists are sorted by name where more than one
image can come back (created_at has one-second resolution, ties fall to random ids)."""
import json

from glance_diff_registry import scenario

OCTETS = {'Content-Type': 'application/octet-stream'}


def fixtures(s):
    """The images the list scenarios filter, made once per run (by list.fixtures)."""
    return s.side.shared.get('list-fixtures') or {}


@scenario('list.fixtures', 'sdk', 'member',
          'make the images the list scenarios filter (SDK create, tag, upload)')
def _(s):
    made = {}
    specs = [('list-a', {'gu_kind': 'alpha', 'tags': [s.tag, 'red'], 'min_disk': 1}),
             ('list-b', {'gu_kind': 'beta', 'tags': [s.tag, 'blue']}),
             ('list-c', {'gu_kind': 'gamma', 'tags': [s.tag, 'red', 'blue'], 'visibility': 'community'}),
             ('list-d', {'tags': [s.tag], 'visibility': 'shared'})]
    for suffix, attrs in specs:
        fields = dict(name=s.name(suffix), disk_format='raw', container_format='bare', **attrs)
        img = s.sdk('member', 'create_image ' + suffix, lambda c, f=fields: c.image.create_image(**f))
        made[suffix] = img and s.track(img.id)
    with open(s.side.cfg['dataFile'], 'rb') as f:
        payload = f.read()
    s.http('member', 'PUT', '/images/%s/file' % made['list-a'], OCTETS, payload)
    s.side.shared['list-fixtures'] = made
    # kept for the list scenarios: list.cleanup deletes them
    s.cleanup = []


def list_http(s, role, query):
    s.http(role, 'GET', '/images?' + query)


@scenario('list.osc-filters', 'openstack', 'member',
          'openstack image list by name, tag, status, property')
def _(s):
    s.osc('member', 'image', 'list', '--name', s.name('list-a'), '-f', 'json')
    s.osc('member', 'image', 'list', '--tag', s.tag, '--tag', 'red', '--sort', 'name:asc', '-f', 'json')
    s.osc('member', 'image', 'list', '--tag', s.tag, '--status', 'active', '-f', 'json')
    s.osc('member', 'image', 'list', '--tag', s.tag, '--property', 'gu_kind=beta', '--long', '-f', 'json')
    s.osc('member', 'image', 'list', '--tag', s.tag, '--sort', 'name:desc')


@scenario('list.glance-sort', 'glance', 'member', 'glance image-list with sort keys and directions')
def _(s):
    s.glance('member', 'image-list', '--tag', s.tag, '--sort-key', 'name', '--sort-dir', 'desc')
    s.glance('member', 'image-list', '--tag', s.tag, '--sort', 'status:asc,name:desc')
    s.glance('member', 'image-list', '--tag', s.tag, '--sort-key', 'nonsense')
    s.glance('member', 'image-list', '--tag', s.tag, '--visibility', 'community')


@scenario('list.sdk-paging', 'sdk', 'member',
          'SDK images(limit=1) follows the next links through the pages')
def _(s):
    s.sdk('member', 'images(tag, sort name:asc, limit=1)', lambda c: [
        i.name for i in c.image.images(tag=s.tag, sort='name:asc', limit=1)])
    s.sdk('member', 'images(tag, sort_key=name, sort_dir=desc, limit=2)', lambda c: [
        i.name for i in c.image.images(tag=s.tag, sort_key='name', sort_dir='desc', limit=2)])


@scenario('list.raw-paging', 'sdk', 'member',
          'limit + marker by hand; a marker that is not there; a bad limit')
def _(s):
    f = fixtures(s)
    base = 'tag=%s&sort_key=name&sort_dir=asc' % s.tag
    list_http(s, 'member', base + '&limit=2')
    list_http(s, 'member', base + '&limit=2&marker=' + str(f.get('list-b')))
    list_http(s, 'member', base + '&marker=6b1d7c28-b51b-4d5a-a0b6-8d5e1f2b7c3a')
    list_http(s, 'member', base + '&limit=abc')
    list_http(s, 'member', 'tag=%s&sort=name:asc,size:desc&limit=3' % s.tag)
    list_http(s, 'member', 'tag=%s&sort=name:sideways' % s.tag)


@scenario('list.raw-filters', 'sdk', 'member',
          'filters: status, visibility, disk_format, size, in:, changes-since')
def _(s):
    for q in ('status=queued&sort_key=name', 'visibility=private', 'visibility=community',
              'visibility=all&sort_key=name', 'visibility=shared', 'visibility=bogus',
              'disk_format=raw&sort_key=name', 'size_min=1', 'size_max=10',
              'name=in:%s,%s&sort_key=name' % (s.name('list-a'), s.name('list-b')),
              'gu_kind=alpha', 'status=nonsense', 'member_status=all&sort_key=name',
              'protected=false&sort_key=name', 'os_hidden=true'):
        list_http(s, 'member', 'tag=%s&%s' % (s.tag, q))


@scenario('list.admin-views', 'openstack', 'admin',
          'admin lists: all visibilities, other projects, --long')
def _(s):
    s.osc('admin', 'image', 'list', '--tag', s.tag, '--sort', 'name:asc', '-f', 'json')
    s.osc('admin', 'image', 'list', '--tag', s.tag, '--private', '--sort', 'name:asc', '-f', 'json')
    s.osc('admin', 'image', 'list', '--tag', s.tag, '--community', '-f', 'json')
    list_http(s, 'admin', 'tag=%s&visibility=all&sort_key=name' % s.tag)


@scenario('list.second-project', 'glance', 'second',
          'what another project sees: community yes, private and shared no')
def _(s):
    s.glance('second', 'image-list', '--tag', s.tag)
    s.glance('second', 'image-list', '--tag', s.tag, '--visibility', 'community')
    s.glance('second', 'image-list', '--tag', s.tag, '--visibility', 'shared')
    s.glance('second', 'image-show', str(fixtures(s).get('list-b')))
    s.glance('second', 'image-show', str(fixtures(s).get('list-c')))


@scenario('visibility.public-member', 'openstack', 'member',
          'a member cannot make a public image (403)')
def _(s):
    s.osc('member', 'image', 'create', '--public', '--disk-format', 'raw', s.name('public-member'))
    img = s.image('to-public')
    s.osc('member', 'image', 'set', '--public', img)
    s.http('member', 'GET', '/images/' + img)


@scenario('visibility.public-admin', 'openstack', 'admin',
          'an admin makes a public image (201) all projects see')
def _(s):
    out = s.osc('admin', 'image', 'create', '--public', '--disk-format', 'raw', '--container-format',
                'bare', '--tag', s.tag, s.name('public-admin'), '-f', 'json')
    try:
        img = s.track(json.loads(out['stdout']).get('id'), 'admin')
    except ValueError:
        img = None
    s.osc('second', 'image', 'list', '--tag', s.tag, '--public', '-f', 'json')
    s.osc('second', 'image', 'show', str(img), '-f', 'json')
    s.osc('second', 'image', 'set', '--name', 'not-mine', str(img))
    s.http('member', 'DELETE', '/images/%s' % img)


@scenario('visibility.community', 'sdk', 'second',
          'a community image: other projects see it, cannot change or delete it')
def _(s):
    img = s.image('community', visibility='community')
    s.sdk('second', 'get_image', lambda c: c.image.get_image(img))
    s.sdk('second', 'update_image', lambda c: c.image.update_image(img, name='taken'))
    s.sdk('second', 'delete_image', lambda c: c.image.delete_image(img, ignore_missing=False))
    s.sdk('second', 'deactivate_image', lambda c: c.image.deactivate_image(img))
    s.sdk('second', 'add_tag', lambda c: c.image.add_tag(img, 'mine-now') and None)


@scenario('list.cleanup', 'openstack', 'member',
          'delete the list fixtures with one openstack image delete')
def _(s):
    f = fixtures(s)
    s.osc('member', 'image', 'delete', *[str(f.get(k)) for k in sorted(f)])
    s.osc('member', 'image', 'list', '--tag', s.tag, '-f', 'json')
