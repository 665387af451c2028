#!/usr/bin/env python3
"""Fails when modules of app/src import each other in a circle.

Two levels: the crate's top-level modules (`crate::<module>` references
between folders such as `activity`, `live`, `store`, `model`), and the files
of one folder (`super::<file>` references). Comments are not imports and are
left out. A circle at either level is printed with its members."""
import os
import re
import sys

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "app", "src")


def code_of(path):
    with open(path, encoding="utf-8") as f:
        return "\n".join(line.split("//", 1)[0] for line in f)


def module_path(path):
    parts = os.path.relpath(path, ROOT)[:-3].split(os.sep)
    return parts[:-1] if parts[-1] == "mod" else parts


def circles(graph):
    """Strongly connected components of more than one node (Tarjan)."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(node):
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for other in graph.get(node, ()):
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in on_stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            component = []
            while True:
                other = stack.pop()
                on_stack.discard(other)
                component.append(other)
                if other == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in list(graph):
        if node not in index:
            visit(node)
    return found


def main():
    sys.setrecursionlimit(10_000)
    folders, files = {}, {}
    for directory, _, names in os.walk(ROOT):
        for name in names:
            if not name.endswith(".rs"):
                continue
            path = os.path.join(directory, name)
            module = module_path(path)
            code = code_of(path)
            top = module[0] if module and module[0] != "lib" else "lib"
            for other in re.findall(r"\bcrate::(\w+)", code):
                if other != top:
                    folders.setdefault(top, set()).add(other)
            if len(module) >= 2:
                me = "/".join(module)
                parent = module[:-1] if not path.endswith("mod.rs") else module[:-1]
                for other in re.findall(r"\bsuper::(\w+)", code):
                    target = "/".join(parent + [other])
                    if target != me and os.path.exists(os.path.join(ROOT, target + ".rs")):
                        files.setdefault(me, set()).add(target)
    problems = [("modules", c) for c in circles(folders)] + [("files", c) for c in circles(files)]
    for level, members in problems:
        print(f"import circle between {level}: {' -> '.join(members)}")
    if problems:
        return 1
    print(f"no import circles among {len(folders)} modules and their files")
    return 0


if __name__ == "__main__":
    sys.exit(main())
