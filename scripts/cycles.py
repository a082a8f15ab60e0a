#!/usr/bin/env python3
"""Reports import cycles between a Rust crate's modules.

    python3 scripts/cycles.py gateway/src            # top-level modules
    python3 scripts/cycles.py backends/src/s3 --files  # files of one module
    python3 scripts/cycles.py gateway/src --layers     # and the layer order

A module (a top-level `foo.rs` or `foo/` of the source directory, or with
`--files` each file of the directory) depends on another when its text names
it: `crate::other`, or `crate::Item` where lib.rs re-exports `Item` from
it (or, with `--files`, `super::other` and `crate::<dir>::other`). Every group of modules that depend on each other in
a circle (a strongly connected component of more than one module) is
printed with one path around it, and the exit status is 1; 0 when there
is none. Comments are ignored; `#[cfg(test)]` code is not told apart.

With `--layers`, the `# Layers` section of the crate's `lib.rs` docs is
the order modules may depend in: every module must be named there (as
`name` or [`name`], in backticks), and a module may import only modules
named before it. Each import of a later module, and each module the list
leaves out, is printed, and the exit status is 1.
"""
import re
import sys
from pathlib import Path

COMMENT = re.compile(r"//[^\n]*")


def units(src: Path, files: bool) -> dict:
    """Module name -> the text of its files."""
    found = {}
    for path in sorted(src.rglob("*.rs")):
        rel = path.relative_to(src)
        if files:
            if len(rel.parts) != 1 or rel.stem == "mod":
                continue
            name = rel.stem
        else:
            name = rel.parts[0].removesuffix(".rs")
            if name in ("lib", "main"):
                continue
        found[name] = found.get(name, "") + COMMENT.sub("", path.read_text())
    return found


def reexports(src: Path, found: dict) -> dict:
    """Item name -> the module that defines it, for the items lib.rs
    re-exports (`pub use module::{A, B}`, `pub use module::A`, and
    `pub use module::*` through the module's `pub` items), so that
    `crate::A` counts as naming that module."""
    lib = src / "lib.rs"
    if not lib.exists():
        return {}
    text = COMMENT.sub("", lib.read_text())
    names = {}
    for module, items in re.findall(r"pub use (\w+)::\{([^}]*)\}", text):
        for item in re.findall(r"(\w+)\s*(?:,|$)", items):
            names[item] = module
    for module, item in re.findall(r"pub use (\w+)::(\w+);", text):
        names[item] = module
    for module in re.findall(r"pub use (\w+)::\*;", text):
        for item in re.findall(
            r"pub (?:struct|enum|trait|type|fn|const|static) (\w+)", found.get(module, "")
        ):
            names[item] = module
    return {item: module for item, module in names.items() if module in found}


def edges(found: dict, src: Path, files: bool) -> dict:
    graph = {name: set() for name in found}
    items = {} if files else reexports(src, found)
    if files:
        module = src.name
        patterns = [r"\bsuper::(\w+)", rf"\bcrate::{module}::(\w+)"]
        # `use super::{a, b::c}` groups.
        group = re.compile(r"\bsuper::\{([^}]*)\}")
    else:
        patterns = [r"\bcrate::(\w+)"]
        group = re.compile(r"\bcrate::\{([^}]*)\}")
    for name, text in found.items():
        named = set()
        for pattern in patterns:
            named.update(re.findall(pattern, text))
        for inside in group.findall(text):
            named.update(re.findall(r"(?:^|,)\s*(\w+)", inside))
        named = {items.get(other, other) for other in named}
        graph[name] = {other for other in named if other in found and other != name}
    return graph


def components(graph: dict) -> list:
    """Tarjan's strongly connected components, each of more than one node."""
    index, low, stack, on_stack, out = {}, {}, [], set(), []
    counter = [0]

    def visit(node):
        index[node] = low[node] = counter[0]
        counter[0] += 1
        stack.append(node)
        on_stack.add(node)
        for other in sorted(graph[node]):
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in on_stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            group = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                group.append(top)
                if top == node:
                    break
            if len(group) > 1:
                out.append(sorted(group))

    sys.setrecursionlimit(10_000)
    for node in sorted(graph):
        if node not in index:
            visit(node)
    return out


def loop_through(graph: dict, group: list) -> list:
    """One path from the group's first module back to itself, inside it."""
    start, inside = group[0], set(group)
    paths = {start: [start]}
    queue = [start]
    while queue:
        node = queue.pop(0)
        for other in sorted(graph[node] & inside):
            if other == start:
                return paths[node] + [start]
            if other not in paths:
                paths[other] = paths[node] + [other]
                queue.append(other)
    return group


def layer_order(src: Path) -> list:
    """Module names in the order the `# Layers` doc section of lib.rs names them."""
    section = []
    inside = False
    for line in (src / "lib.rs").read_text().splitlines():
        if line.startswith("//! #"):
            inside = line.strip() == "//! # Layers"
        elif inside and line.startswith("//!"):
            section.append(line)
    order = []
    for name in re.findall(r"`(\w+)(?:::\w+)*`", "\n".join(section)):
        if name not in order:
            order.append(name)
    return order


def layer_violations(graph: dict, src: Path) -> list:
    order = layer_order(src)
    position = {name: i for i, name in enumerate(order)}
    problems = [
        f"{src}: module `{name}` is in no layer of lib.rs's `# Layers`"
        for name in sorted(graph)
        if name not in position
    ]
    for name in sorted(graph):
        for other in sorted(graph[name]):
            if name in position and other in position and position[other] > position[name]:
                problems.append(
                    f"{src}: `{name}` imports `{other}`, which comes after it in the layers"
                )
    return problems


def main() -> int:
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    files = "--files" in sys.argv
    if len(args) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    src = Path(args[0])
    found = units(src, files)
    graph = edges(found, src, files)
    cycles = components(graph)
    for group in cycles:
        print(f"{src}: {len(group)} modules in a cycle: {', '.join(group)}")
        print(f"  for example {' -> '.join(loop_through(graph, group))}")
    if not cycles:
        print(f"{src}: no cycle between its {len(found)} modules")
    problems = layer_violations(graph, src) if "--layers" in sys.argv else []
    for problem in problems:
        print(problem)
    if "--layers" in sys.argv and not problems:
        print(f"{src}: every module imports only modules of the layers before it")
    return 1 if cycles or problems else 0


if __name__ == "__main__":
    sys.exit(main())
