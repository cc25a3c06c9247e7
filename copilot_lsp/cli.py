"""The `copilot-lsp` command line."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path
from typing import BinaryIO

from copilot_lsp import __version__
from copilot_lsp.argtypes import at_least, port
from copilot_lsp.models import AUTO, DEFAULT_PRESET, PRESETS


def _host_port(value: str) -> tuple[str, int]:
    """HOST:PORT, or PORT alone for 127.0.0.1 (listeners are local unless asked)."""
    host, colon, port_text = value.rpartition(":")
    if colon and not host:
        raise argparse.ArgumentTypeError(f"expected [HOST:]PORT, got {value!r}")
    return host or "127.0.0.1", port(port_text)


def _position(value: str) -> tuple[Path, int, int]:
    parts = value.rsplit(":", 2)
    if len(parts) != 3 or not parts[1].isdigit() or not parts[2].isdigit():
        raise argparse.ArgumentTypeError(f"expected FILE:LINE:COL, got {value!r}")
    line, column = int(parts[1]), int(parts[2])
    if line < 1 or column < 1:
        raise argparse.ArgumentTypeError("LINE and COL start at 1")
    return Path(parts[0]), line, column


def _add_model_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--model",
        default=DEFAULT_PRESET,
        help=f"preset ({', '.join([AUTO, *PRESETS])}) or path to a GGUF file (default: "
        "%(default)s: quality from 4 cores on, fast below)",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="copilot-lsp",
        description="Local inline code completion over the Language Server Protocol.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument(
        "--log-level", default="WARNING", choices=["DEBUG", "INFO", "WARNING", "ERROR"]
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    serve = commands.add_parser("serve", help="run the language server (stdio by default)")
    where = serve.add_mutually_exclusive_group()
    where.add_argument(
        "--tcp", type=_host_port, metavar="[HOST:]PORT", help="listen on TCP (127.0.0.1)"
    )
    where.add_argument(
        "--ws", type=_host_port, metavar="[HOST:]PORT", help="listen on WebSocket (127.0.0.1)"
    )

    one = commands.add_parser("complete", help="print one completion for FILE:LINE:COL")
    one.add_argument(
        "position", type=_position, metavar="FILE:LINE:COL", help="1-based line and column"
    )
    _add_model_options(one)
    one.add_argument("--max-new-tokens", type=at_least(1), default=128)
    one.add_argument("--temperature", type=at_least(0, float), default=0.0)

    demo = commands.add_parser(
        "demo", help="drive the real server like an editor over the example files"
    )
    demo.add_argument("examples", nargs="?", type=Path, default=Path("examples"))
    _add_model_options(demo)

    # -- `copilot-lsp http` --
    http = commands.add_parser("http", help="serve a small JSON API (POST /complete, ...)")
    http.add_argument("--host", default="127.0.0.1", help="default: %(default)s (loopback)")
    http.add_argument("--port", type=port, default=8765, help="0 picks a free port")
    http.add_argument(
        "--auth",
        metavar="TOKEN",
        default=None,
        help="bearer token clients must send (default: $COPILOT_LSP_HTTP_TOKEN); "
        "required when --host is not loopback",
    )
    http.add_argument("--max-body-bytes", type=at_least(1), default=1 << 20)
    http.add_argument("--max-concurrency", type=at_least(1), default=4)
    http.add_argument("--max-new-tokens", type=at_least(1), default=128)
    _add_model_options(http)

    from copilot_lsp.eval.command import add_eval_parser

    add_eval_parser(commands)
    from copilot_lsp.bench import add_bench_parser

    add_bench_parser(commands)

    from copilot_lsp.stats import add_stats_parser

    add_stats_parser(commands)

    _add_playground_parser(commands)
    return parser


# --- playground (editor-extension/playground) ---
def _add_playground_parser(commands: argparse._SubParsersAction) -> None:
    play = commands.add_parser(
        "playground", help="serve a local web page with the Monaco editor and ghost text"
    )
    play.add_argument("--host", default="127.0.0.1", help="address to bind (default: %(default)s)")
    play.add_argument("--port", type=port, default=0, help="port (default: a free one)")
    play.add_argument("--token", help="access token in the URL (default: a random one)")
    play.add_argument("--model", help="preset or GGUF path the page asks for (default: server's)")
    play.add_argument("--open", action="store_true", help="open the page in a web browser")


def _playground(args: argparse.Namespace) -> int:
    from copilot_lsp.playground import PlaygroundConfig, run_playground

    config = PlaygroundConfig(host=args.host, port=args.port)
    # Each tab's server logs to this terminal at the level asked for here.
    config.server_command = [
        sys.executable,
        "-m",
        "copilot_lsp",
        "--log-level",
        args.log_level,
        "serve",
    ]
    if args.token:
        config.token = args.token
    if args.model:
        config.settings["model"] = args.model
    return run_playground(config, open_browser=args.open)


# --- end playground ---


def _serve(args: argparse.Namespace) -> int:
    from copilot_lsp.rpc_guard import TOKEN_ENV, GuardedReader, is_loopback
    from copilot_lsp.server import create_server

    server = create_server()
    listen = args.tcp or args.ws
    token = os.environ.get(TOKEN_ENV) or None
    if listen and not is_loopback(listen[0]) and token is None:
        print(
            f"copilot-lsp: refusing to listen on {listen[0]} without a token: set {TOKEN_ENV} "
            "(clients send it as initializationOptions.token)",
            file=sys.stderr,
        )
        return 2
    if listen:
        server.auth_token = token
    try:
        if args.tcp:
            server.start_tcp(*args.tcp)
        elif args.ws:
            server.start_ws(*args.ws)
        else:
            server.start_io(stdin=GuardedReader(sys.stdin.buffer), stdout=_private_stdout())
    except OSError as error:  # a listener's address in use or not available
        where = "{}:{}".format(*listen)
        print(f"copilot-lsp serve: cannot listen on {where}: {error}", file=sys.stderr)
        return 1
    finally:
        # The client went away (stdin closed) or asked to exit: stop the generation that
        # may still run and free the model before the interpreter tears down.
        server.completions.shutdown()
        server.model.close()
    return server.exit_code


def _private_stdout() -> BinaryIO:
    """Give the LSP channel its own copy of stdout and point fd 1 at stderr.

    Native code (llama.cpp) prints to fd 1 and, while loading a model, swaps fds 1 and 2
    for /dev/null; either would corrupt or swallow protocol messages on the real stdout.
    """
    channel = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    sys.stdout = sys.stderr
    return channel


def _complete(args: argparse.Namespace) -> int:
    from copilot_lsp.backends import load_backend
    from copilot_lsp.backends.base import BackendError, CancelToken, GenerationOptions
    from copilot_lsp.documents import Document, PositionError
    from copilot_lsp.features.inline_completion import CompletionRequest, complete
    from copilot_lsp.models import ModelError, resolve_model

    path, line, column = args.position
    try:
        text = path.read_text(encoding="utf-8")
        document = Document(path.as_uri() if path.is_absolute() else str(path), text)
        if line > document.line_count:
            raise PositionError(f"{path} ends at line {document.line_count}")
        width = len(document.line_text(line - 1))
        if column > width + 1:
            raise PositionError(f"line {line} of {path} ends at column {width + 1}")
        cursor = document.line_starts[line - 1] + column - 1
        backend = load_backend("llamacpp", str(resolve_model(args.model)), 4096, 0)
        request = CompletionRequest(
            prefix=text[:cursor], suffix=text[cursor:], invoked=True, path=str(path)
        )
        result = complete(
            backend,
            request,
            GenerationOptions(max_new_tokens=args.max_new_tokens, temperature=args.temperature),
            CancelToken(),
        )
    except (OSError, UnicodeDecodeError, PositionError, ModelError, BackendError) as error:
        print(f"copilot-lsp: {error}", file=sys.stderr)
        return 1
    print(result.text)
    return 0


def _http(args: argparse.Namespace) -> int:
    from copilot_lsp.backends import load_backend
    from copilot_lsp.backends.base import BackendError
    from copilot_lsp.http_api import HttpConfig, check_config, create_http_server, token_from
    from copilot_lsp.models import ModelError, resolve_model

    config = HttpConfig(
        host=args.host,
        port=args.port,
        token=token_from(args.auth),
        max_body_bytes=args.max_body_bytes,
        max_concurrency=args.max_concurrency,
        max_new_tokens=args.max_new_tokens,
    )
    try:
        check_config(config)
        backend = load_backend("llamacpp", str(resolve_model(args.model)), 4096, 0)
        server = create_http_server(backend, config)
    except (ValueError, OSError, ModelError, BackendError) as error:
        print(f"copilot-lsp http: {error}", file=sys.stderr)
        return 1
    host, port = server.server_address[:2]
    print(f"copilot-lsp http: listening on http://{host}:{port}", file=sys.stderr, flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        backend.close()
    return 0


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=args.log_level, stream=sys.stderr, format="%(asctime)s %(name)s %(message)s"
    )
    from copilot_lsp.rpc_guard import RedactingFilter, RefusalFilter

    for handler in logging.getLogger().handlers:
        handler.addFilter(RefusalFilter())  # a refused request is one line
        handler.addFilter(RedactingFilter())  # no source text in the logs
    if args.command == "serve":
        return _serve(args)
    if args.command == "complete":
        return _complete(args)
    if args.command == "http":
        return _http(args)
    if args.command == "playground":
        return _playground(args)
    if args.command == "eval":
        from copilot_lsp.eval.command import run_eval

        return run_eval(args)
    if args.command == "bench":
        from copilot_lsp.bench import run_bench

        return run_bench(args)
    if args.command == "stats":
        from copilot_lsp.stats import run_stats

        return run_stats(args)
    from copilot_lsp.demo import run_demo

    return run_demo(args.examples, args.model)
