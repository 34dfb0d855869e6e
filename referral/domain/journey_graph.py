"""The shape of a journey's steps as a graph, checked before a definition is saved.

Every step must be reachable from the first one, an exit must be reachable from every
step, and every loop must let time pass (hold a ``wait`` or ``wait_for``): a loop of
branches and sends alone would run without end in one go. Each problem names the step it
is found at.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from referral.domain.errors import N_, Message
from referral.domain.journeys import WAITING_TYPES, Exit, Step, targets

DANGLING = N_("Step %(step)s goes to %(target)s, which does not exist.")
UNREACHABLE = N_("Step %(step)s cannot be reached from the first step.")
NO_EXIT = N_("From step %(step)s no path leads to an exit.")
LOOP = N_("Steps %(steps)s form a loop without a wait: add a wait to it.")

Edges = Mapping[str, tuple[str, ...]]


def reachable(edges: Edges, starts: Iterable[str]) -> set[str]:
    """Every step reachable from ``starts`` along ``edges`` (``starts`` included)."""
    seen: set[str] = set()
    stack = list(starts)
    while stack:
        step = stack.pop()
        if step not in seen:
            seen.add(step)
            stack.extend(edges.get(step, ()))
    return seen


def reversed_edges(edges: Edges) -> dict[str, tuple[str, ...]]:
    back: dict[str, list[str]] = {step: [] for step in edges}
    for step, goes_to in edges.items():
        for target in goes_to:
            back.setdefault(target, []).append(step)
    return {step: tuple(found) for step, found in back.items()}


def dangling(steps: Sequence[Step]) -> list[tuple[str, Message]]:
    """Steps that go to a step the journey does not hold."""
    ids = {step.id for step in steps}
    return [
        (step.id, Message(DANGLING, {"step": step.id, "target": target}))
        for step in steps
        for target in dict.fromkeys(targets(step))
        if target not in ids
    ]


def unreachable(steps: Sequence[Step], edges: Edges) -> list[tuple[str, Message]]:
    """Steps no path from the first step leads to."""
    seen = reachable(edges, [steps[0].id])
    return [
        (step.id, Message(UNREACHABLE, {"step": step.id})) for step in steps if step.id not in seen
    ]


def without_exit(steps: Sequence[Step], edges: Edges) -> list[tuple[str, Message]]:
    """Steps from which no exit can be reached (a journey must be able to end)."""
    exits = [step.id for step in steps if isinstance(step, Exit)]
    ending = reachable(reversed_edges(edges), exits)
    return [
        (step.id, Message(NO_EXIT, {"step": step.id})) for step in steps if step.id not in ending
    ]


def loops_without_wait(steps: Sequence[Step], edges: Edges) -> list[tuple[str, Message]]:
    """Each loop that holds no waiting step, once, at its first step in definition order:
    the strongly connected parts of the graph without its waiting steps."""
    instant = {step.id for step in steps if step.type not in WAITING_TYPES}
    quick = {s: tuple(t for t in edges[s] if t in instant) for s in instant}
    problems: list[tuple[str, Message]] = []
    placed: set[str] = set()
    for step in steps:
        if step.id not in instant or step.id in placed:
            continue
        ahead = reachable(quick, quick[step.id])
        if step.id not in ahead:
            continue
        behind = reachable(reversed_edges(quick), [step.id])
        loop = [s.id for s in steps if s.id in ahead and s.id in behind]
        placed.update(loop)
        problems.append((step.id, Message(LOOP, {"steps": ", ".join(loop)})))
    return problems


def graph_problems(steps: Sequence[Step]) -> list[tuple[str, Message]]:
    """Every problem of the graph, as (step id, message); none for an empty list."""
    if not steps:
        return []
    missing = dangling(steps)
    if missing:
        return missing
    edges = {step.id: targets(step) for step in steps}
    return [
        *unreachable(steps, edges),
        *without_exit(steps, edges),
        *loops_without_wait(steps, edges),
    ]
