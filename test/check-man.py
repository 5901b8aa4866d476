#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Every program has a manual page that names every option its --help
names, and every page (with the generated xcrs-policy(5)) renders
without a warning from groff (where groff is installed). TAP.

usage: check-man.py SOURCE_ROOT BUILD_ROOT"""
import os
import re
import shutil
import subprocess
import sys

src, build = sys.argv[1], sys.argv[2]
programs = [
    ('agent/xcrs-agent', 'xcrs-agent.8'),
    ('agent/xcrsctl', 'xcrsctl.8'),
    ('agent/xcrs-terminal', 'xcrs-terminal.1'),
    ('authsrv/xcrs-authsrv', 'xcrs-authsrv.8'),
    ('authsrv/xcrs-authsrv-admin', 'xcrs-authsrv-admin.8'),
    ('authsrv/xcrs-auth-client', 'xcrs-auth-client.1'),
]
pages = [os.path.join(src, 'doc/man', p) for _, p in programs]
pages.append(os.path.join(build, 'doc/man/xcrs-policy.5'))
groff = shutil.which('groff')
n = len(programs) + len(pages)
print('1..%d' % n)
i = 0
for exe, page in programs:
    i += 1
    path = os.path.join(build, exe)
    text = open(os.path.join(src, 'doc/man', page), encoding='utf-8').read()
    text = text.replace('\\-', '-').replace('\\fB', '').replace('\\fR', '')
    out = subprocess.run([path, '--help'], capture_output=True, text=True)
    helptext = out.stdout + out.stderr
    opts = sorted(set(re.findall(r'(?<![\w-])(--[a-z][a-z0-9-]*)', helptext)))
    missing = [o for o in opts if not re.search(re.escape(o) + r'(?![a-z0-9-])',
                                                 text)]
    if out.returncode != 0 or not opts or missing:
        print('not ok %d - %s names every option of %s --help # missing: %s'
              ' (exit %d)' % (i, page, exe, ' '.join(missing), out.returncode))
    else:
        print('ok %d - %s names all %d options of %s --help' %
              (i, page, len(opts), os.path.basename(exe)))
for page in pages:
    i += 1
    name = os.path.basename(page)
    if not os.path.exists(page):
        print('not ok %d - %s exists' % (i, name))
        continue
    if not groff:
        print('ok %d - %s renders # SKIP no groff' % (i, name))
        continue
    out = subprocess.run([groff, '-k', '-man', '-ww', '-z', page],
                         capture_output=True, text=True)
    if out.returncode or out.stderr.strip():
        print('not ok %d - %s renders without warnings # %s' %
              (i, name, out.stderr.strip().replace('\n', ' | ')[:300]))
    else:
        print('ok %d - %s renders without warnings' % (i, name))
