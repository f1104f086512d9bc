"""One openstacksdk scenario against a cloud of clouds.yaml (OS_CLIENT_CONFIG_FILE): create with
data, tag, list by tag, update a property, download and compare, delete. Prints one JSON object
of comparable outcomes, whatever the cloud."""
import hashlib
import json
import sys

import openstack

cloud, name, path, out_path = sys.argv[1:5]
conn = openstack.connect(cloud=cloud)
outcome = {}
with open(path, 'rb') as f:
    data = f.read()
img = conn.create_image(name, filename=path, disk_format='raw', container_format='bare', wait=True, timeout=120)
img = conn.image.get_image(img.id)
outcome['create'] = {
    'status': img.status,
    'size': img.size,
    'checksum_ok': img.checksum == hashlib.md5(data).hexdigest(),
    'hash_ok': img.hash_value == hashlib.sha512(data).hexdigest(),
    'hash_algo': img.hash_algo,
}


def step(key, fn):
    """Run one step; an HTTP error is an outcome too (both clouds must answer the same)."""
    try:
        outcome[key] = fn()
    except openstack.exceptions.HttpException as e:
        outcome[key] = 'HTTP %s' % e.status_code


step('add_tag', lambda: conn.image.add_tag(img, 'gu-sdk') and None)
step('by_tag', lambda: [i.name for i in conn.image.images(tag='gu-sdk') if i.name == name])
# SDK 0.101 sends a "replace" for a property the image does not have: Glance answers 409.
step('update_new_property', lambda: conn.image.update_image(img, gu_note='staged').properties.get('gu_note'))
step('update_base', lambda: conn.image.update_image(img, min_disk=3).min_disk)
step('remove_tag', lambda: conn.image.remove_tag(img, 'gu-sdk') and None)
conn.image.download_image(img, output=out_path)
with open(out_path, 'rb') as f:
    outcome['download_ok'] = hashlib.sha512(f.read()).hexdigest() == hashlib.sha512(data).hexdigest()
conn.image.delete_image(img)
outcome['after_delete'] = conn.image.find_image(img.id) is None
print(json.dumps(outcome, sort_keys=True))
