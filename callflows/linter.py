"""The linter that keeps every flow a router: each path from the start reaches a person (a queue
or a transfer), a voicemail or a spoken goodbye; every menu has a way to a person; menus stay
shallow and short. Field-level flaws come from the reader; this module checks the links."""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from pathlib import Path

from callflows.problems import Problem, in_reading_order
from callflows.reader import Reading, read_flow
from callflows.schema import (
    CallerLookupNode,
    Flow,
    HangupNode,
    HoursNode,
    MenuNode,
    Node,
    QueueNode,
    SayNode,
    TransferNode,
    VoicemailNode,
)

# Nodes the engine walks through without waiting for the caller.
PASS_THROUGH = (SayNode, CallerLookupNode, HoursNode)
PERSON = (QueueNode, TransferNode)


@dataclass(frozen=True)
class Limits:
    max_menu_depth: int
    max_menu_options: int


def check_flow(
    path: str | Path, *, max_menu_depth: int | None = None, max_menu_options: int | None = None
) -> list[Problem]:
    """Every problem in the flow file at `path`, in reading order; an empty list means the flow
    can be loaded. The flow's settings give the limits unless the arguments override them."""
    filename = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return [Problem(filename, None, None, f"cannot read the flow file: {exc}")]
    return check_text(text, filename=filename, max_menu_depth=max_menu_depth,
                      max_menu_options=max_menu_options)


def check_text(
    text: str, *, filename: str, max_menu_depth: int | None = None,
    max_menu_options: int | None = None,
) -> list[Problem]:
    """Like check_flow, for a flow's text."""
    reading = read_flow(text, filename=filename)
    return lint(reading, max_menu_depth=max_menu_depth, max_menu_options=max_menu_options)


def lint(
    reading: Reading, *, max_menu_depth: int | None = None, max_menu_options: int | None = None
) -> list[Problem]:
    """The reader's problems and the link problems of a read flow, in reading order."""
    problems = list(reading.problems)
    if reading.flow is not None:
        settings = reading.flow.settings
        limits = Limits(max_menu_depth or settings.max_menu_depth,
                        max_menu_options or settings.max_menu_options)
        problems.extend(_Links(reading.flow, reading.broken, limits).problems())
    return in_reading_order(problems)


class _Links:
    def __init__(self, flow: Flow, broken: set[str], limits: Limits) -> None:
        self.flow = flow
        self.broken = broken
        self.limits = limits
        self.found: list[Problem] = []

    def problem(self, line: int | None, node: str | None, message: str) -> None:
        self.found.append(Problem(self.flow.file, line, node, message))

    def known(self, node_id: str) -> bool:
        return node_id in self.flow.nodes or node_id in self.broken

    def problems(self) -> list[Problem]:
        self.check_references()
        start_ok = self.flow.start in self.flow.nodes
        for node in self.flow.nodes.values():
            if isinstance(node, MenuNode):
                self.check_menu(node)
            if isinstance(node, TransferNode):
                self.check_transfer(node)
        if self.flow.agent and self.known(self.flow.agent):
            if not self.leads_to_person(self.flow.agent):
                self.problem(self.flow.lines.get("agent"), None, self.not_a_person(
                    "agent", self.flow.agent))
        self.check_pass_through_loops()
        if start_ok:
            reachable = self.reachable()
            # Where a node could not be read its links are unknown, so "unreachable" would
            # only echo that flaw.
            if not self.broken:
                for node in self.flow.nodes.values():
                    if node.id not in reachable:
                        self.problem(node.line, node.id,
                                     f"unreachable from start '{self.flow.start}'")
            self.check_dead_ends(reachable)
            self.check_depth()
        return self.found

    # --- references -----------------------------------------------------------------------

    def check_references(self) -> None:
        flow = self.flow
        if flow.start and not self.known(flow.start):
            self.problem(flow.lines.get("start"), None, self.missing("start", flow.start))
        if flow.agent and not self.known(flow.agent):
            self.problem(flow.lines.get("agent"), None, self.missing("agent", flow.agent))
        for node in flow.nodes.values():
            for why, target in node.targets():
                if not self.known(target):
                    self.problem(self.line_of_link(node, why), node.id, self.missing(why, target))

    def missing(self, why: str, target: str) -> str:
        close = difflib.get_close_matches(target, list(self.flow.nodes), n=1)
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        return f"'{why}' goes to '{target}', which is not a node{hint}"

    def line_of_link(self, node: Node, why: str) -> int:
        if isinstance(node, MenuNode) and why.startswith("option "):
            key = why.removeprefix("option ")
            return next((o.line for o in node.options if o.key == key), node.line)
        return node.line_of(why)

    # --- ways to a person -----------------------------------------------------------------

    def leads_to_person(self, node_id: str, visiting: frozenset[str] = frozenset()) -> bool:
        """True when every way on from `node_id`, without waiting for the caller, ends at a
        queue or a transfer. Unknown ids count as true: they are reported on their own."""
        node = self.flow.nodes.get(node_id)
        if node is None:
            return True
        if isinstance(node, PERSON):
            return True
        if not isinstance(node, PASS_THROUGH) or node_id in visiting:
            return False
        targets = [t for _, t in node.targets()]
        return bool(targets) and all(self.leads_to_person(t, visiting | {node_id})
                                     for t in targets)

    def not_a_person(self, why: str, target: str) -> str:
        return (f"'{why}' goes to '{target}', which does not lead straight to a person "
                "(a queue or a transfer)")

    def check_menu(self, menu: MenuNode) -> None:
        target = self.flow.agent_target(menu)
        if target is None:
            self.problem(menu.line, menu.id, "menu has no way to a person: add 'agent:' (where 0 "
                         "and the agent words go), or a flow-level 'agent:'")
        elif menu.agent and self.known(target) and not self.leads_to_person(target):
            # A flow-level agent target is checked once, for the flow.
            self.problem(menu.line_of("agent"), menu.id, self.not_a_person("agent", target))
        if menu.fallback and self.known(menu.fallback) and not self.leads_to_person(menu.fallback):
            self.problem(menu.line_of("fallback"), menu.id,
                         self.not_a_person("fallback", menu.fallback))
        if len(menu.options) > self.limits.max_menu_options:
            self.problem(menu.line_of("options"), menu.id, f"menu offers {len(menu.options)} "
                         f"options (at most {self.limits.max_menu_options})")

    def check_transfer(self, node: TransferNode) -> None:
        target = self.flow.fallback_target(node)
        if target is None:
            self.problem(node.line, node.id, "a transfer nobody answers has nowhere to go: add "
                         "'fallback:' (a queue) or a flow-level 'agent:'")
        elif node.fallback and self.known(target) and not self.leads_to_person(target):
            self.problem(node.line_of("fallback"), node.id, self.not_a_person("fallback", target))

    # --- paths ----------------------------------------------------------------------------

    def reachable(self) -> set[str]:
        seen = {self.flow.start}
        todo = [self.flow.start]
        while todo:
            node = self.flow.nodes.get(todo.pop())
            if node is None:
                continue
            for _, target in self.flow.successors(node):
                if target not in seen:
                    seen.add(target)
                    todo.append(target)
        return seen

    def is_good_end(self, node: Node) -> bool:
        """A node where the IVR's job is done well: a person, a voicemail, a spoken goodbye."""
        if isinstance(node, PERSON):
            return True
        if isinstance(node, VoicemailNode):
            return node.next is None
        return isinstance(node, HangupNode) and node.say is not None

    def dead_end_message(self, node: Node) -> str | None:
        if isinstance(node, HangupNode) and node.say is None:
            return "dead end: hangs up without a word; add 'say' with a goodbye"
        if isinstance(node, SayNode | CallerLookupNode) and node.next is None:
            return "dead end: nothing follows, the call would just drop; add 'next'"
        return None

    def check_dead_ends(self, reachable: set[str]) -> None:
        healthy = self.healthy()
        stuck = sorted((self.flow.nodes[n] for n in reachable
                        if n in self.flow.nodes and n not in healthy), key=lambda n: n.line)
        reported: set[str] = set()
        for node in stuck:
            message = self.dead_end_message(node)
            if message:
                self.problem(node.line, node.id, message)
                reported.add(node.id)
        for node in stuck:
            if node.id in reported or self.reaches_any(node.id, reported):
                continue
            self.problem(node.line, node.id, "no way out: every path from here loops without "
                         "reaching a person, a voicemail or a goodbye")
            reported.add(node.id)

    def healthy(self) -> set[str]:
        """Nodes from which some path reaches a good end (unknown ids count as good)."""
        good = {n for n, node in self.flow.nodes.items() if self.is_good_end(node)} | self.broken
        changed = True
        while changed:
            changed = False
            for node_id, node in self.flow.nodes.items():
                if node_id in good:
                    continue
                targets = [t for _, t in self.flow.successors(node)]
                if any(t in good or not self.known(t) for t in targets):
                    good.add(node_id)
                    changed = True
        return good

    def reaches_any(self, start: str, targets: set[str]) -> bool:
        seen, todo = {start}, [start]
        while todo:
            node = self.flow.nodes.get(todo.pop())
            if node is None:
                continue
            for _, target in self.flow.successors(node):
                if target in targets:
                    return True
                if target not in seen:
                    seen.add(target)
                    todo.append(target)
        return False

    def check_pass_through_loops(self) -> None:
        """A loop of nodes that never wait for the caller would spin forever in one step."""
        reported: set[str] = set()
        for node in sorted(self.flow.nodes.values(), key=lambda n: n.line):
            if not isinstance(node, PASS_THROUGH) or node.id in reported:
                continue
            loop = self.pass_through_loop(node.id, [node.id])
            if loop:
                reported.update(loop)
                self.problem(node.line, node.id, "loops without waiting for the caller: "
                             + " → ".join([*loop, loop[0]]))

    def pass_through_loop(self, node_id: str, path: list[str]) -> list[str] | None:
        node = self.flow.nodes.get(node_id)
        if not isinstance(node, PASS_THROUGH):
            return None
        for _, target in node.targets():
            if target == path[0]:
                return path
            if target not in path:
                loop = self.pass_through_loop(target, [*path, target])
                if loop:
                    return loop
        return None

    def check_depth(self) -> None:
        limit = self.limits.max_menu_depth
        deepest: dict[str, int] = {}
        too_deep: dict[str, list[str]] = {}

        def visit(node_id: str, menus: list[str], on_path: frozenset[str]) -> None:
            node = self.flow.nodes.get(node_id)
            if node is None or node_id in on_path:
                return
            if isinstance(node, MenuNode):
                menus = [*menus, node_id]
                if len(menus) > limit:
                    too_deep.setdefault(node_id, menus)
                    return
            if deepest.get(node_id, -1) >= len(menus):
                return
            deepest[node_id] = len(menus)
            for _, target in self.flow.successors(node):
                visit(target, menus, on_path | {node_id})

        visit(self.flow.start, [], frozenset())
        for node_id, menus in too_deep.items():
            node = self.flow.nodes[node_id]
            self.problem(node.line, node_id, f"menu nested {len(menus)} deep (at most {limit}): "
                         + " → ".join(menus))
