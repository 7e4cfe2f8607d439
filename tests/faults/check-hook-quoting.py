#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Static check of hook/vif-vifmac.in (tests/faults/test-trust.sh): no eval,
no source of a computed path, and no parameter or command expansion outside
double quotes except in a plain assignment (var=$(...), rc=$?), where bash
neither splits nor globs. Prints one line per finding; exit 1 when any."""
import re
import sys

ALLOWED_UNQUOTED = re.compile(r'^\s*(local\s+)?[A-Za-z_][A-Za-z0-9_]*=')


def unquoted_expansions(line):
    """Yields the columns of '$' outside quotes (comments cut)."""
    q = None
    i = 0
    while i < len(line):
        c = line[i]
        if q is None and c == '#' and (i == 0 or line[i - 1] in ' \t;'):
            return
        if c == '\\' and q != "'":
            i += 2
            continue
        if q is None and c in '"\'':
            q = c
        elif q == c:
            q = None
        elif c == '$' and q is None and i + 1 < len(line) and line[i + 1] not in '?#':
            yield i
        elif c == '`' and q is None:
            yield i
        i += 1


def main(path):
    bad = 0
    for n, line in enumerate(open(path, encoding='utf-8'), 1):
        code = line.rstrip('\n')
        if re.search(r'(^|[;&|\s])eval(\s|$)', code.split('#', 1)[0]):
            print(f'{path}:{n}: eval: {code.strip()}')
            bad += 1
        if re.match(r'^\s*(\.|source)\s+[^"]*\$', code):
            print(f'{path}:{n}: sources a computed, unquoted path: {code.strip()}')
            bad += 1
        for col in unquoted_expansions(code):
            # assignments: the right-hand side is neither split nor globbed
            if ALLOWED_UNQUOTED.match(code) or re.search(r'\bif\s+[A-Za-z_]+=\$\(', code):
                continue
            print(f'{path}:{n}:{col + 1}: unquoted expansion: {code.strip()}')
            bad += 1
    return 1 if bad else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1]))
