"""The oracle for our inspector: Glance's own format inspector, as installed with python3-glance
(Debian's 25.1 with the security backports). For each file given, prints one JSON line:
{"path", "format", "virtual_size", "safe", "error"} where format is what detect_file_format()
says and safe is safety_check() (null when it raised)."""
import json
import sys

from glance.common import format_inspector as fi

for path in sys.argv[1:]:
    out = {"path": path, "format": None, "virtual_size": None, "safe": None, "error": None}
    try:
        insp = fi.detect_file_format(path)
        out["format"] = str(insp)
        out["virtual_size"] = insp.virtual_size
        try:
            out["safe"] = bool(insp.safety_check())
        except Exception as e:  # ImageFormatError: cannot be made sure of
            out["safe"] = False
            out["error"] = str(e)
    except Exception as e:
        out["error"] = str(e)
    print(json.dumps(out), flush=True)
