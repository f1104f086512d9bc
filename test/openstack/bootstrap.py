"""Keystone objects for the reference OpenStack, run by the launcher after `keystone-manage bootstrap`.

Run with Debian's /usr/bin/python3 (a pyenv python3 may come first on PATH and lacks these
libraries). Idempotent. Input from the environment:
  REF_KEYSTONE_URL, REF_ADMIN_PASSWORD, REF_DEMO_PASSWORD, REF_DEMO_ADMIN_PASSWORD (default "demo-admin"),
  REF_GLANCE_URLS (Region=url,Region=url), REF_SWIFT_URL (the object store's catalog URL, with
  %(project_id)s; optional), REF_SWIFT_PASSWORD
`keystone-manage bootstrap` already made: user admin, project admin, roles admin/member/reader
(admin implies member implies reader), region RegionOne, the identity service and its endpoints.
"""
import json
import os

from keystoneauth1 import session
from keystoneauth1.identity import v3
from keystoneclient.v3 import client

env = os.environ
ks_url = env["REF_KEYSTONE_URL"]
glance_urls = dict(kv.split("=", 1) for kv in env["REF_GLANCE_URLS"].split(","))

auth = v3.Password(auth_url=ks_url, username="admin", password=env["REF_ADMIN_PASSWORD"],
                   project_name="admin", user_domain_id="default", project_domain_id="default")
ks = client.Client(session=session.Session(auth=auth), endpoint_override=ks_url)


def first(items):
    return items[0] if items else None


def project(name, desc):
    return first(ks.projects.list(name=name, domain="default")) or \
        ks.projects.create(name, "default", description=desc)


def user(name, password, proj):
    return first(ks.users.list(name=name, domain="default")) or \
        ks.users.create(name, domain="default", password=password, default_project=proj)


def role(name):
    return first(ks.roles.list(name=name)) or ks.roles.create(name)


def endpoint(service, region, interface, url):
    if not ks.endpoints.list(service=service, region=region, interface=interface):
        ks.endpoints.create(service, url, interface=interface, region=region)


for region in glance_urls:
    if not any(r.id == region for r in ks.regions.list()):
        ks.regions.create(id=region, description="reference region " + region)

admin_r, member_r = role("admin"), role("member")
service_p = project("service", "service users")
demo_p = project("demo", "non-admin demo project")
glance_u = user("glance", "glance", service_p)
demo_u = user("demo", env["REF_DEMO_PASSWORD"], demo_p)
ks.roles.grant(admin_r, user=glance_u, project=service_p)  # keystonemiddleware's service user
ks.roles.grant(member_r, user=demo_u, project=demo_p)      # member implies reader
# demo also gets member on a second project, so project switching can be tested
extra_p = project("demo-extra", "second project of demo")
ks.roles.grant(member_r, user=demo_u, project=extra_p)
# an admin of the demo project itself (the embedded server's `local-admin`): the admin side of
# the differential suite acts in the same project as the member
demo_admin_u = user("demo-admin", env.get("REF_DEMO_ADMIN_PASSWORD", "demo-admin"), demo_p)
ks.roles.grant(admin_r, user=demo_admin_u, project=demo_p)

# One Keystone serves every region: list it in each, so a region-scoped lookup
# (keystonemiddleware of RegionTwo's Glance, a client with region_name) finds an identity endpoint.
identity = first(ks.services.list(type="identity"))
for region in glance_urls:
    for iface in ("public", "internal", "admin"):
        endpoint(identity, region, iface, ks_url + "/")

image = first(ks.services.list(type="image")) or \
    ks.services.create("glance", type="image", description="OpenStack Image service")
for region, url in glance_urls.items():
    for iface in ("public", "internal", "admin"):
        endpoint(image, region, iface, url)

# The object store (RegionOne only: RegionTwo is a region without one). keystonemiddleware in
# Swift's proxy validates tokens as the service user swift; demo's `member` is one of its
# keystoneauth operator roles, so demo owns the account AUTH_<demo project id>.
if env.get("REF_SWIFT_URL"):
    swift_u = user("swift", env.get("REF_SWIFT_PASSWORD", "swift"), service_p)
    ks.roles.grant(admin_r, user=swift_u, project=service_p)
    object_store = first(ks.services.list(type="object-store")) or \
        ks.services.create("swift", type="object-store", description="OpenStack Object Storage")
    for iface in ("public", "internal", "admin"):
        endpoint(object_store, "RegionOne", iface, env["REF_SWIFT_URL"])

print(json.dumps({"demo_project_id": demo_p.id, "admin_project_id": first(
    ks.projects.list(name="admin", domain="default")).id, "demo_extra_project_id": extra_p.id,
    "demo_user_id": demo_u.id, "demo_admin_user_id": demo_admin_u.id}))
