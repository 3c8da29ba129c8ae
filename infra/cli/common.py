"""What every command shares: the consoles, error reporting, and finding stacks."""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import ParamSpec, TypeVar

import typer
from rich.console import Console
from rich.text import Text

from infra.errors import UkdacError
from infra.stack.deployment import Deployment
from infra.stack.files import Project, load_project, load_stack_file
from infra.stack.validation import validate_stack_file

# Text is printed as it is: no console markup, no emoji codes, no highlighting. User and
# config text (a key `ukdac:Cloud:`, a value `[bold]`) must never be rewritten; styling is
# given by `labelled` (rich Text objects), never by markup in a string.
out = Console(highlight=False, markup=False, emoji=False)
err = Console(stderr=True, highlight=False, markup=False, emoji=False)


def labelled(label: str, style: str, text: str = "") -> Text:
    """`label` in `style`, then `text` literally: "error: ...", "ok stacks/...", ..."""
    return Text.assemble((label, style), (" " + text) if text else "")


P = ParamSpec("P")
R = TypeVar("R")


def say(text: str) -> None:
    """One line of progress, printed as it is (no markup or emoji codes read in it)."""
    out.print(text, soft_wrap=True)


def engine_output(line: str) -> None:
    """One line of the Pulumi engine's output (the Automation API hands them over stripped
    of their newline), passed through literally and flushed, so a long `up` or `destroy`
    shows its progress as it goes."""
    out.file.write(line.rstrip("\n") + "\n")
    out.file.flush()


def reports_errors(command: Callable[P, R]) -> Callable[P, R]:
    """Turn ukdac's own errors into a message and an exit code, never a traceback."""

    @functools.wraps(command)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return command(*args, **kwargs)
        except UkdacError as error:
            err.print(labelled("error:", "red", str(error)), soft_wrap=True)
            raise typer.Exit(error.exit_code) from None

    return wrapper


def current_project() -> Project:
    """The project in the working directory."""
    return load_project(Path.cwd())


def stack_names(project: Project, stacks: list[str] | None, every: bool) -> list[str]:
    """The stacks a command was given, or every stack with --all."""
    if every or not stacks:
        if not every:
            raise UkdacError("name a stack, or pass --all")
        return project.stacks()
    return stacks


def deployment(stack: str) -> Deployment:
    """The validated deployment of a stack of the project in the working directory."""
    return validate_stack_file(load_stack_file(current_project(), stack))


@contextmanager
def progress(message: str, console: Console = err, after: float = 1.0) -> Iterator[None]:
    """A spinner on a terminal once the work has taken longer than `after` seconds."""
    if not console.is_terminal:
        yield
        return
    status = console.status(message)
    timer = threading.Timer(after, status.start)
    timer.start()
    try:
        yield
    finally:
        timer.cancel()
        status.stop()
