"""The driver of one side of the differential suite (test/integration/glance-differential.test.ts).

  glance_diff_driver.py --list          the scenario catalogue as JSON (id, client, role, title)
  glance_diff_driver.py CONFIG.json     run the scenarios on one side, write the outcomes

CONFIG: side, workDir, authUrl, region, imageUrl (the recording proxy), users {member, admin,
second: {username, password, project} or null}, tag (unique to the run, the same both sides),
dataFile, webUrl (the data over HTTP, for web-download), only (ids, optional), out.
Run with Debian's /usr/bin/python3 (the OpenStack clients live in its dist-packages).
"""
import json
import sys
import time
import traceback

import glance_diff_registry as registry
# the scenario modules register themselves
import glance_diff_scenarios_basics  # noqa: F401
import glance_diff_scenarios_data  # noqa: F401
import glance_diff_scenarios_lists  # noqa: F401
import glance_diff_scenarios_members  # noqa: F401


def run_one(side, entry):
    s = registry.Scenario(side, entry['id'])
    print('scenario', entry['id'], file=sys.stderr, flush=True)
    t0 = time.time()
    result = {'stopped': None, 'driverError': None}
    try:
        entry['fn'](s)
    except side.RoleMissing as e:
        result['stopped'] = str(e)
    except Exception as e:  # the driver itself tripped (often: an answer it did not expect)
        result['driverError'] = ''.join(traceback.format_exception_only(type(e), e)).strip()
    finally:
        side.mark('')
        s.run_cleanup()
    result['steps'] = s.steps
    result['seconds'] = round(time.time() - t0, 2)
    return result


def main():
    if sys.argv[1] == '--list':
        print(json.dumps(registry.catalogue()))
        return
    with open(sys.argv[1]) as f:
        cfg = json.load(f)
    import glance_diff_clients as clients
    side = clients.Side(cfg)
    side.RoleMissing = clients.RoleMissing
    only = set(cfg.get('only') or [])
    results = {}
    for entry in registry.SCENARIOS:
        if not only or entry['id'] in only:
            results[entry['id']] = run_one(side, entry)
    with open(cfg['out'], 'w') as f:
        json.dump(results, f)


if __name__ == '__main__':
    main()
