"""The keys a virtual caller presses to reach a skill's queue, found by walking the flow the
service runs (the default flow: callflows/support.yaml), so a changed flow needs no change
here."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

from callflows.schema import (
    AGENT_KEY,
    CallerLookupNode,
    CaseNode,
    Flow,
    HoursNode,
    MenuNode,
    QueueNode,
    SayNode,
)


@dataclass(frozen=True)
class Route:
    """How to reach the queue that serves a skill: the answers, one per question (a menu, or
    the case question, answered with silence: None), in order."""

    skill: str
    answers: tuple[str | None, ...]
    queue_node: str
    level: int  # the minimum level that queue asks of an agent


def routes(flow: Flow) -> dict[str, Route]:
    """For every skill some queue of `flow` asks for, the shortest way there during business
    hours. A queue asking for that skill alone is preferred to one asking for several."""
    found: dict[str, tuple[str | None, ...]] = {}  # queue node id -> answers
    reached: dict[str, tuple[str | None, ...]] = {flow.start: ()}
    todo: deque[str] = deque([flow.start])
    while todo:
        node_id = todo.popleft()
        answers = reached[node_id]
        node = flow.nodes[node_id]
        if isinstance(node, QueueNode):
            found.setdefault(node_id, answers)
            continue
        for given, target in _ways_out(flow, node):
            if target not in flow.nodes or target in reached:
                continue
            reached[target] = answers + given
            # Nodes reached without an answer keep their place at the front: breadth first by
            # the number of answers, not by the number of nodes.
            (todo.append if given else todo.appendleft)(target)
    best: dict[str, Route] = {}
    for node_id, answers in found.items():
        node = flow.nodes[node_id]
        assert isinstance(node, QueueNode)
        for skill, level in node.skills.items():
            route = Route(skill, answers, node_id, level)
            current = best.get(skill)
            if current is None or _rank(flow, route) < _rank(flow, current):
                best[skill] = route
    return dict(sorted(best.items()))


def _rank(flow: Flow, route: Route) -> tuple[int, int]:
    node = flow.nodes[route.queue_node]
    assert isinstance(node, QueueNode)
    return (len(node.skills) != 1, len(route.answers))


def _ways_out(flow: Flow, node: object) -> list[tuple[tuple[str | None, ...], str]]:
    """(the answers given on the way, next node) for the ways a scripted caller can take."""
    if isinstance(node, SayNode | CallerLookupNode):
        return [((), node.next)] if node.next else []
    if isinstance(node, HoursNode):
        return [((), node.open)]  # the simulator calls while the service is open
    if isinstance(node, CaseNode):
        # A new caller has no case: silence at the question goes on to `next`.
        return [((None,), node.next)] if node.next else []
    if isinstance(node, MenuNode):
        ways: list[tuple[tuple[str | None, ...], str]] = [
            ((o.key,), o.next) for o in node.options
        ]
        agent = flow.agent_target(node)
        if agent:
            ways.append(((AGENT_KEY,), agent))
        return ways
    return []  # voicemail, transfer, hangup: no queue after them for a scripted caller
