"""``goldenchain review``: the review web app (loopback by default; any other bind needs a token)."""

from __future__ import annotations

import socket

import click

from goldenchain.config import load_project
from goldenchain.errors import UsageError


def _local_names() -> list[str]:
    """Names this machine answers to on a wildcard bind (its host name and addresses)."""
    names: list[str] = []
    try:
        host = socket.gethostname()
        names.append(host)
        names.extend(socket.gethostbyname_ex(host)[2])
    except OSError:
        pass
    return names


@click.command("review")
@click.argument("project", required=False, default=".", type=click.Path(file_okay=False))
@click.option("--host", default="127.0.0.1", show_default=True, help="bind address; loopback needs no token")
@click.option(
    "--port", type=click.IntRange(0, 65535), default=8765, show_default=True, help="0 picks a free port."
)
@click.option(
    "--allow-host",
    "allow_hosts",
    multiple=True,
    help="another Host name the app answers to (a reverse proxy's name); loopback names always are",
)
def review_cmd(project: str, host: str, port: int, allow_hosts: tuple[str, ...]) -> None:
    """The review web app: approve, reject and re-roll takes.

    Any --host but loopback refuses to start without a token in GOLDENCHAIN_REVIEW_TOKEN (``name:secret``
    pairs, comma-separated); every request then needs it, as ``Authorization: Bearer`` or through the one-time
    login link printed at start."""
    import uvicorn

    from goldenchain.web.app import create_app
    from goldenchain.web.security import Guard, is_loopback, tokens_from_env

    p = load_project(project)
    tokens = tokens_from_env()
    extra = list(allow_hosts)
    if host in ("0.0.0.0", "::"):
        extra += _local_names()
    guard = Guard(bind_host=host, tokens=tokens, extra_hosts=extra)  # UsageError (exit 2) without a token
    shown = f"[{host}]" if ":" in host else host
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
        sock.listen(128)  # connections wait in the backlog until the server takes them
    except OSError as e:
        sock.close()
        raise UsageError(f"cannot listen on {host}:{port}: {e.strerror or e}") from None
    port = sock.getsockname()[1]  # the real one, also when --port 0 asked for any free port
    click.echo(f"review {p.id} on http://{shown}:{port}/")
    if guard.needs_token:
        secret = next(iter(tokens))
        code = guard.login_link_code(secret)
        who = tokens[secret]
        click.echo(f"one-time login link (as {who}): http://{shown}:{port}/login?code={code}")
        if not is_loopback(host):
            click.echo("not loopback: every request needs the token (header or the login link's cookie)")
    server = uvicorn.Server(uvicorn.Config(create_app(p, guard=guard), log_level="warning"))
    server.run(sockets=[sock])


@click.command("use")
@click.argument("shot")
@click.argument("project", required=False, default=".", type=click.Path(file_okay=False))
@click.option(
    "--draft", "draft_no", type=click.IntRange(1), required=True, help="The draft's number (1, 2, ...)."
)
def use_cmd(shot: str, project: str, draft_no: int) -> int:
    """Choose the draft the shot's final still is made from (after `goldenchain run --draft`); the next
    `goldenchain run` makes the final still from its prompt and seed with the final model, then the clip.
    Logged with the review events, as a choice in the review app is."""
    from goldenchain import api

    t = api.use_draft(load_project(project), shot, draft_no, who="cli")
    click.echo(
        f"{shot}: draft {t.take} chosen (seed {t.seed}); the next goldenchain run makes the final still from it"
    )
    return 0


COMMANDS = [review_cmd, use_cmd]
