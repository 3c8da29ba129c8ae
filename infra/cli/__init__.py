"""The command line (`ukdac`, or `python -m infra`): a Typer application.

`app.py` registers every command; each other module is one command group that parses
arguments, calls public functions of `infra.stack`, `infra.plan` and `infra.ops`, and
prints. It may import every other part of `infra`; nothing else imports it.
"""

import atexit
import gc

# A command lives for a second or a few: no cyclic garbage collection while it runs, and none
# at exit (frozen objects are left to the operating system). Measured: collecting the
# objects a plan made is a fifth of a 200-worker plan and grows faster than the plan; a
# plan leaves about 6 MB of cyclic garbage, so even the pull-request diff's eight plans stay
# small. Long-lived processes (tests, benches) keep Python's collector: the plan engine
# switches it off only while a plan runs.
gc.disable()
atexit.register(gc.freeze)
