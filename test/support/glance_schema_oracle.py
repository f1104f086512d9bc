"""The oracle for the embedded server's validation messages: Glance 25's own image schema and
jsonschema, as installed with python3-glance. Reads a JSON list of objects on stdin; prints a JSON
list with, for each, the message Glance's schema validation raises (null when it passes)."""
import json
import sys

from glance.api.v2 import images
from glance.common import exception

schema = images.get_schema()
out = []
for obj in json.load(sys.stdin):
    try:
        schema.validate(obj)
        out.append(None)
    except exception.InvalidObject as e:
        out.append(e.msg)
print(json.dumps(out))
