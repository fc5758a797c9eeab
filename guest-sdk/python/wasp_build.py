"""``wasp-build app.py -o plugin.wasm``: a Python plugin into a WebAssembly
component, with componentize-py (the pinned one this package depends on),
wasp's WIT (shipped in this package) and its world ``user``. An app that
imports ``wasp_async`` is built for wasp:plugin@0.2 (users sharing instances)."""

import argparse
import os
import shutil
import subprocess
import sys
import tempfile

import importlib.util
import re

WORLD = "user"

# componentize-py finds a 0.2 plugin's `user` resource in a module named
# after its interface; this one is the wasp_async SDK's.
BEHAVIOUR_SHIM = "from wasp_async import _UserResource as User  # noqa: F401\n"


def main(argv=None):
    p = argparse.ArgumentParser(prog="wasp-build", description=__doc__.split("\n\n")[0].replace("``", ""))
    p.add_argument("app", help="the plugin's module file, e.g. app.py (it assigns Behaviour = export(YourUser))")
    p.add_argument("-o", "--output", required=True, help="the component to write, e.g. plugin.wasm")
    p.add_argument("-p", "--path", action="append", default=[], help="more folders on the module path (data files, helpers)")
    a = p.parse_args(argv)
    app = os.path.abspath(a.app)
    if not app.endswith(".py") or not os.path.isfile(app):
        p.error(f"{a.app}: not a Python file")
    with open(app, encoding="utf-8") as f:
        shared = re.search(r"^\s*(from|import)\s+wasp_async\b", f.read(), re.M) is not None
    sdk = "wasp_async" if shared else "wasp"
    # The installed SDK (found without importing it: it needs the component's bindings).
    here = importlib.util.find_spec(sdk).submodule_search_locations[0]
    with tempfile.TemporaryDirectory() as tmp:
        # Only the SDK goes in with the app (not the whole site-packages).
        shutil.copytree(here, os.path.join(tmp, sdk), ignore=shutil.ignore_patterns("__pycache__", "wit"))
        # With what both SDKs share.
        common = importlib.util.find_spec("wasp_common").submodule_search_locations[0]
        shutil.copytree(common, os.path.join(tmp, "wasp_common"), ignore=shutil.ignore_patterns("__pycache__"))
        if shared:
            with open(os.path.join(tmp, "behaviour.py"), "w") as f:
                f.write(BEHAVIOUR_SHIM)
        out = os.path.abspath(a.output)
        cmd = [
            sys.executable, "-c", "import sys, componentize_py; sys.argv[0] = 'componentize-py'; sys.exit(componentize_py.script())",
            "-d", os.path.join(here, "wit"), "-w", WORLD, "componentize",
            "-p", tmp, "-p", os.path.dirname(app), *[x for d in a.path for x in ("-p", os.path.abspath(d))],
            os.path.splitext(os.path.basename(app))[0], "-o", out + ".tmp",
        ]
        r = subprocess.run(cmd, stdout=subprocess.DEVNULL)
        if r.returncode != 0:
            return r.returncode
        os.replace(out + ".tmp", out)
    print(out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
