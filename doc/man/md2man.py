#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Writes xcrs-policy(5) from policy/README.md, so that the manual page
and the README are one text: headings become sections, paragraphs stay,
a table's rows become tagged paragraphs (first cell the tag, the other
cells after their column's name), code blocks stay as they are.

usage: md2man.py README.md OUT.5 DATE"""
import re
import sys


def esc(t):
    t = t.replace('\\', '\\e')
    t = re.sub(r'^([.\'])', r'\\&\1', t)
    return t


def inline(t):
    """`code` bold, **strong** bold; other markup dropped."""
    t = esc(t)
    t = re.sub(r'\*\*(.+?)\*\*', r'\\fB\1\\fR', t)
    t = re.sub(r'`([^`]+)`', r'\\fB\1\\fR', t)
    t = t.replace('-', '\\-')
    return t


def cells(line):
    return [c.strip() for c in line.strip().strip('|').split('|')]


def main():
    src, out, date = sys.argv[1], sys.argv[2], sys.argv[3]
    lines = open(src, encoding='utf-8').read().split('\n')
    o = ['.\\" Generated from policy/README.md by doc/man/md2man.py: edit that.',
         '.TH XCRS-POLICY 5 %s xcrs "File Formats"' % date,
         '.SH NAME',
         'xcrs-policy \\- the policy file of xcrs-agent (YAML)',
         '.SH SYNOPSIS',
         '.I /etc/xcrs/policy.yaml',
         '.SH DESCRIPTION']
    i = 0
    para = []

    def flush():
        if para:
            o.append('.PP')
            o.append(inline(' '.join(para)))
            para.clear()
    # the title line is the NAME
    if lines and lines[0].startswith('# '):
        i = 1
    while i < len(lines):
        ln = lines[i]
        if ln.startswith('```'):
            flush()
            o += ['.PP', '.nf', '.RS 4']
            i += 1
            while i < len(lines) and not lines[i].startswith('```'):
                o.append(esc(lines[i]).replace('-', '\\-'))
                i += 1
            o += ['.RE', '.fi']
            i += 1
            continue
        m = re.match(r'^(#+) (.*)', ln)
        if m:
            flush()
            text = re.sub(r'`', '', m.group(2))
            o.append(('.SH ' if len(m.group(1)) == 2 else '.SS ') +
                     esc(text.upper() if len(m.group(1)) == 2 else text))
            i += 1
            continue
        if ln.startswith('|'):
            flush()
            head = cells(ln)
            i += 2  # the header and its rule
            while i < len(lines) and lines[i].startswith('|'):
                row = cells(lines[i])
                o.append('.TP')
                o.append(inline(row[0]))
                parts = []
                for name, c in zip(head[1:], row[1:]):
                    if c:
                        parts.append('%s: %s' % (name, c))
                o.append(inline('; '.join(parts)) if parts else '\\&')
                i += 1
            continue
        if ln.startswith('- '):
            flush()
            item = [ln[2:]]
            i += 1
            while i < len(lines) and lines[i].startswith('  '):
                item.append(lines[i].strip())
                i += 1
            o += ['.IP \\(bu 2', inline(' '.join(item))]
            continue
        if not ln.strip():
            flush()
        else:
            para.append(ln.strip())
        i += 1
    flush()
    o += ['.SH SEE ALSO',
          '.BR xcrs-agent (8),',
          '.BR xcrsctl (8)',
          '.PP',
          'Examples: \\fI/usr/share/doc/xcrs/examples/\\fR']
    with open(out, 'w', encoding='utf-8') as f:
        f.write('\n'.join(o) + '\n')


main()
