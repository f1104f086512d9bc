"""Runs a command as a whole process and writes what it cost to a JSON file: wall seconds, CPU
seconds (user + system of the command and every process it waited for) and peak RSS (KiB).
The same wrapper for every side of a benchmark: the figures are measured the same way.
usage: rusage.py OUT.json CMD [ARG...]"""
import json
import resource
import subprocess
import sys
import time

out, cmd = sys.argv[1], sys.argv[2:]
t0 = time.monotonic()
code = subprocess.run(cmd, stdout=subprocess.DEVNULL).returncode
wall = time.monotonic() - t0
r = resource.getrusage(resource.RUSAGE_CHILDREN)
with open(out, 'w') as f:
    json.dump({'code': code, 'wall': wall, 'cpu': r.ru_utime + r.ru_stime, 'maxrssKiB': r.ru_maxrss}, f)
sys.exit(code)
