/**
 * The embedded server's validation messages against Glance's own: the installed Glance 25 image
 * schema and jsonschema validate the same attributes, and each message must be the same text
 * (clients print it: `openstack image set` shows the whole of it). Fails if our schema drifts
 * from Glance's (a description, an enum) or if Python's repr/pprint is imitated wrongly (a long
 * description not wrapped, keys not sorted, a quote not escaped: pprint width 80 instead of 72 fails it).
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { HttpError } from '../../src/main/core/local-glance/http-kit';
import { checkAttribute } from '../../src/main/core/local-glance/schema-check';

const CASES: [string, unknown][] = [
  ['disk_format', 'foo'],
  ['disk_format', 5],
  ['container_format', 'vhd'],
  ['visibility', 'everyone'],
  ['visibility', null],
  ['protected', 'yes'],
  ['os_hidden', 1],
  ['min_disk', 'x'],
  ['min_ram', 1.5],
  ['name', 'x'.repeat(256)],
  ['name', 'a long name with spaces '.repeat(12)],
  ['name', ["it's", 'a "list"']],
  ['owner', 5],
  ['owner', 'o'.repeat(256)],
  ['tags', 'notalist'],
  ['tags', ['ok', 't'.repeat(256)]],
  ['tags', [1]],
  ['hw_disk_bus', 3],
  ['hw_disk_bus', { nested: [true, false, null] }],
  ['description', ['x\ny', 'tab\there', 'back\\slash']],
  ['id', 'not-a-uuid'],
  ['name', 'café ünïcode'],
];

describe('validation messages, word for word as Glance 25', () => {
  it('says what Glance’s image schema says for each refused attribute', () => {
    const input = JSON.stringify(CASES.map(([k, v]) => ({ [k]: v })));
    const oracle = JSON.parse(
      execFileSync('/usr/bin/python3', [join(__dirname, '../support/glance_schema_oracle.py')], {
        input,
        encoding: 'utf8',
      }),
    ) as (string | null)[];
    const ours = CASES.map(([k, v]) => {
      try {
        checkAttribute(k, v);
        return null;
      } catch (e) {
        if (e instanceof HttpError) return e.message;
        throw e;
      }
    });
    CASES.forEach(([k, v], i) => expect({ k, v, message: ours[i] }).toEqual({ k, v, message: oracle[i] }));
  });
});
