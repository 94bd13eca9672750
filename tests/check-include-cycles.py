#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# SPDX-FileCopyrightText: 2026 The Runner authors
"""Fails when the modules of src/ include each other in a cycle.

A module is a file's name without its extension and without a `-private`
or `-generated` suffix: runner-workspace.c, runner-workspace.h and
runner-workspace-private.h are one module. An edge A -> B means a file of A
includes a header of B. Prints each cycle found; exits 1 if there is one.
Usage: check-include-cycles.py SRC_DIR
"""
import os
import re
import sys

INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)


def module_of(name):
    base = os.path.basename(name)
    base = re.sub(r'\.(c|h)$', '', base)
    return re.sub(r'-(private|generated)$', '', base)


def graph(src):
    edges = {}
    for name in sorted(os.listdir(src)):
        if not name.endswith(('.c', '.h')):
            continue
        mod = module_of(name)
        if mod == 'main':
            continue
        with open(os.path.join(src, name), encoding='utf-8') as f:
            text = f.read()
        for inc in INCLUDE.findall(text):
            if not inc.startswith('runner-'):
                continue
            dep = module_of(inc)
            if dep != mod:
                edges.setdefault(mod, set()).add(dep)
        edges.setdefault(mod, set())
    return edges


def cycles(edges):
    """Strongly connected components with more than one module (Tarjan)."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in sorted(edges.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                found.append(sorted(comp))

    sys.setrecursionlimit(10000)
    for v in sorted(edges):
        if v not in index:
            visit(v)
    return found


def main():
    if len(sys.argv) != 2:
        print(__doc__.strip().splitlines()[-1], file=sys.stderr)
        return 2
    found = cycles(graph(sys.argv[1]))
    for comp in found:
        print('include cycle among: ' + ', '.join(comp))
    print('1..1')
    if found:
        print('not ok 1 - no include cycle among src/ modules')
        return 1
    print('ok 1 - no include cycle among src/ modules')
    return 0


if __name__ == '__main__':
    sys.exit(main())
