"""Differential scenarios: image members (sharing with the second project): add, list, show,
accept and reject as the member project, the owner's and the non-owner's refusals, and what the
member project sees in lists."""
import json

from glance_diff_registry import scenario

JSON = {'Content-Type': 'application/json'}


def second_project(s):
    """The second project's id (the member to add), looked up unrecorded."""
    s.side.need('second')
    return s.quiet('second', lambda c: c.current_project_id)


def shared_image(s, suffix):
    return s.image(suffix, visibility='shared')


def add_member(s, img, project):
    s.quiet('member', lambda c: c.image.add_member(img, member_id=project))


@scenario('members.osc-share', 'openstack', 'member',
          'openstack image add project, member list, accept, remove project')
def _(s):
    project = second_project(s)
    img = shared_image(s, 'share-osc')
    s.osc('member', 'image', 'add', 'project', img, project, '-f', 'json')
    s.osc('member', 'image', 'member', 'list', img, '-f', 'json')
    s.osc('second', 'image', 'list', '--tag', s.tag, '-f', 'json')
    s.osc('second', 'image', 'list', '--tag', s.tag, '--member-status', 'pending', '-f', 'json')
    s.osc('second', 'image', 'set', '--accept', img)
    s.osc('second', 'image', 'list', '--tag', s.tag, '-f', 'json')
    s.osc('second', 'image', 'list', '--tag', s.tag, '--shared', '-f', 'json')
    s.osc('member', 'image', 'remove', 'project', img, project)
    s.osc('second', 'image', 'show', img, '-f', 'json')


@scenario('members.sdk-crud', 'sdk', 'member',
          'SDK add_member, members, get_member, update_member, remove_member')
def _(s):
    project = second_project(s)
    img = shared_image(s, 'share-sdk')
    s.sdk('member', 'add_member', lambda c: c.image.add_member(img, member_id=project))
    s.sdk('member', 'members', lambda c: list(c.image.members(img)))
    s.sdk('member', 'get_member', lambda c: c.image.get_member(project, img))
    s.sdk('second', 'update_member accepted',
          lambda c: c.image.update_member(project, img, status='accepted'))
    s.sdk('second', 'get_member', lambda c: c.image.get_member(project, img))
    s.sdk('second', 'members (as the member)', lambda c: list(c.image.members(img)))
    s.sdk('member', 'remove_member', lambda c: c.image.remove_member(project, img, ignore_missing=False))
    s.sdk('member', 'remove_member again',
          lambda c: c.image.remove_member(project, img, ignore_missing=False))


@scenario('members.glance-reject', 'glance', 'second',
          'glance member-create/-list/-update: reject, then what is listed')
def _(s):
    project = second_project(s)
    img = shared_image(s, 'share-glance')
    s.glance('member', 'member-create', img, project)
    s.glance('member', 'member-list', '--image-id', img)
    s.glance('second', 'member-update', img, project, 'rejected')
    s.glance('second', 'image-list', '--tag', s.tag, '--member-status', 'rejected')
    s.glance('second', 'image-list', '--tag', s.tag)
    s.glance('second', 'member-update', img, project, 'maybe')
    s.glance('second', 'member-update', img, project, 'pending')
    s.glance('member', 'member-get', img, project)
    s.glance('member', 'member-delete', img, project)


@scenario('members.refusals', 'sdk', 'member',
          'owner sets a status (403), duplicate (409), private image (403), unknown (404)')
def _(s):
    project = second_project(s)
    img = shared_image(s, 'share-refuse')
    members = '/images/%s/members' % img
    s.http('member', 'POST', members, JSON, json.dumps({'member': project}))
    s.http('member', 'POST', members, JSON, json.dumps({'member': project}))
    s.http('member', 'PUT', members + '/' + project, JSON, json.dumps({'status': 'accepted'}))
    s.http('member', 'POST', members, JSON, json.dumps({'wrong': project}))
    s.http('member', 'GET', members + '/0123456789abcdef0123456789abcdef')
    s.http('member', 'DELETE', members + '/0123456789abcdef0123456789abcdef')
    private = s.image('share-private')
    s.http('member', 'POST', '/images/%s/members' % private, JSON, json.dumps({'member': project}))
    s.http('member', 'GET', '/images/%s/members' % private)
    s.http('member', 'POST', '/images/7b1c2a04-1f5e-4a4e-9c39-6f0a3c2d9e11/members', JSON,
           json.dumps({'member': project}))


@scenario('members.not-owner', 'openstack', 'second',
          'the member project cannot delete, deactivate, change or share the image (403)')
def _(s):
    project = second_project(s)
    img = shared_image(s, 'share-not-owner')
    add_member(s, img, project)
    s.quiet('second', lambda c: c.image.update_member(project, img, status='accepted'))
    s.osc('second', 'image', 'show', img, '-f', 'json')
    s.osc('second', 'image', 'delete', img)
    s.osc('second', 'image', 'set', '--deactivate', img)
    s.osc('second', 'image', 'set', '--property', 'gu_mine=1', img)
    s.http('second', 'DELETE', '/images/' + img)
    s.http('second', 'POST', '/images/%s/actions/deactivate' % img)
    s.http('second', 'POST', '/images/%s/members' % img, JSON, json.dumps({'member': project}))
    s.http('second', 'GET', '/images/%s/file' % img)


@scenario('members.visibility-change', 'sdk', 'admin',
          'members of a shared image made private, and an admin reading them')
def _(s):
    project = second_project(s)
    img = shared_image(s, 'share-private-later')
    add_member(s, img, project)
    s.sdk('admin', 'members', lambda c: list(c.image.members(img)))
    s.sdk('member', 'update_image visibility=private',
          lambda c: c.image.update_image(img, visibility='private'))
    s.sdk('second', 'get_image', lambda c: c.image.get_image(img))
    s.sdk('member', 'members', lambda c: list(c.image.members(img)))
    s.sdk('member', 'update_image visibility=shared',
          lambda c: c.image.update_image(img, visibility='shared'))
    s.sdk('second', 'get_image', lambda c: c.image.get_image(img))
