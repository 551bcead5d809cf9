"""``goldenchain review``: the review web app."""

from __future__ import annotations

import click

from goldenchain.config import load_project


@click.command("review")
@click.argument("project", required=False, default=".", type=click.Path(file_okay=False))
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=click.IntRange(0, 65535), default=8765, show_default=True)
def review_cmd(project: str, host: str, port: int) -> None:
    """The review web app: approve, reject and re-roll takes."""
    import uvicorn

    from goldenchain.web.app import create_app

    p = load_project(project)
    click.echo(f"review {p.id} on http://{host}:{port}/")
    uvicorn.run(create_app(p), host=host, port=port, log_level="warning")


COMMANDS = [review_cmd]
