"""`copilot-lsp demo`: start the real server, talk LSP to it over stdio like an editor,
and print the ghost text it returns at the cursor positions listed in examples/demo.toml."""

from __future__ import annotations

import asyncio
import sys
import time
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lsprotocol import types as lsp
from pygls.lsp.client import LanguageClient

from copilot_lsp import __version__
from copilot_lsp.documents import UTF16, Document
from copilot_lsp.syntax import indentation

LANGUAGES = {".py": "python", ".js": "javascript", ".ts": "typescript", ".go": "go"}


@dataclass(frozen=True)
class Cursor:
    """A position to complete: the file's text with a hole cut at the cursor."""

    path: Path
    text: str
    """The file's text after the cut."""
    line: int
    character: int
    """UTF-16 column, as an editor sends it."""
    removed: str
    """What the cut took out (the original answer)."""

    @property
    def uri(self) -> str:
        return self.path.resolve().as_uri()

    @property
    def language_id(self) -> str:
        return LANGUAGES.get(self.path.suffix, "plaintext")


def _cut_end(text: str, cursor: int, cut: str) -> int:
    line_end = text.find("\n", cursor)
    line_end = len(text) if line_end == -1 else line_end
    if cut == "none":
        return cursor
    if cut == "line":
        return line_end
    line_start = text.rfind("\n", 0, cursor) + 1
    depth = len(indentation(text[line_start:cursor]))
    end = kept_until = line_end
    while end < len(text):
        next_end = text.find("\n", end + 1)
        next_end = len(text) if next_end == -1 else next_end
        line = text[end + 1 : next_end]
        width = len(indentation(line))
        inside = width > depth if cut == "body" else width >= depth
        if line.strip() and not inside:
            break
        if line.strip():
            kept_until = next_end
        end = next_end
    return kept_until


def load_cursors(examples: Path) -> list[Cursor]:
    manifest = tomllib.loads((examples / "demo.toml").read_text(encoding="utf-8"))
    cursors = []
    for entry in manifest["cursor"]:
        path = examples / entry["file"]
        original = path.read_text(encoding="utf-8")
        anchor = entry["anchor"]
        if anchor not in original:
            raise ValueError(f"anchor {anchor!r} not found in {path}")
        offset = original.index(anchor) + len(anchor)
        end = _cut_end(original, offset, entry.get("cut", "line"))
        text = original[:offset] + original[end:]
        line, character = Document(str(path), text).position_at(offset, UTF16)
        cursors.append(Cursor(path, text, line, character, original[offset:end]))
    return cursors


class EditorClient(LanguageClient):
    """A pygls client that behaves like an editor: it shows progress and messages."""

    def __init__(self) -> None:
        super().__init__("copilot-lsp-demo", __version__)
        self.model_settled = asyncio.Event()
        self.messages: list[str] = []

        @self.feature(lsp.WINDOW_WORK_DONE_PROGRESS_CREATE)
        def on_create(params: lsp.WorkDoneProgressCreateParams) -> None:
            return None

        @self.feature(lsp.PROGRESS)
        def on_progress(params: lsp.ProgressParams) -> None:
            value: Any = params.value
            kind = value.get("kind") if isinstance(value, dict) else getattr(value, "kind", None)
            if kind == "end":
                self.model_settled.set()

        @self.feature(lsp.WINDOW_SHOW_MESSAGE)
        def on_message(params: lsp.ShowMessageParams) -> None:
            self.messages.append(params.message)
            print(f"  [server] {params.message}", file=sys.stderr)


async def _forward(stream: asyncio.StreamReader | None) -> None:
    while stream is not None and (line := await stream.readline()):
        sys.stderr.write(f"  [server log] {line.decode(errors='replace')}")


def _show(text: str) -> str:
    lines = text.split("\n")
    return "\n".join(f"      │ {line}" for line in lines) if text else "      │ (nothing)"


async def _demo(examples: Path, model: str) -> int:
    cursors = load_cursors(examples)
    client = EditorClient()
    await client.start_io(sys.executable, "-m", "copilot_lsp", "serve")
    # The server logs to stderr; keep reading it so that a full pipe never blocks it.
    drain = asyncio.ensure_future(_forward(client._server.stderr))
    await client.initialize_async(
        lsp.InitializeParams(
            capabilities=lsp.ClientCapabilities(
                window=lsp.WindowClientCapabilities(work_done_progress=True),
                general=lsp.GeneralClientCapabilities(position_encodings=[UTF16]),
            ),
            initialization_options={"model": model},
            root_uri=examples.resolve().as_uri(),
        )
    )
    started = time.perf_counter()
    client.initialized(lsp.InitializedParams())
    await asyncio.wait_for(client.model_settled.wait(), timeout=600)
    status = await client.protocol.send_request_async("copilot/status", {})
    state = status.state
    shown = model if status.model == model else f"{model} -> {status.model}"
    print(f"model {shown!r}: {state} after {time.perf_counter() - started:.1f} s")
    if state != "ready":
        await client.shutdown_async(None)
        client.exit(None)
        return 1
    for cursor in cursors:
        client.text_document_did_open(
            lsp.DidOpenTextDocumentParams(
                text_document=lsp.TextDocumentItem(
                    uri=cursor.uri, language_id=cursor.language_id, version=1, text=cursor.text
                )
            )
        )
        params = lsp.InlineCompletionParams(
            text_document=lsp.TextDocumentIdentifier(uri=cursor.uri),
            position=lsp.Position(line=cursor.line, character=cursor.character),
            context=lsp.InlineCompletionContext(
                trigger_kind=lsp.InlineCompletionTriggerKind.Automatic
            ),
        )
        timings = []
        for _ in range(2):
            began = time.perf_counter()
            result = await client.text_document_inline_completion_async(params)
            timings.append((time.perf_counter() - began) * 1000)
        items = result.items if isinstance(result, lsp.InlineCompletionList) else result or []
        ghost = items[0].insert_text if items else ""
        ghost = ghost if isinstance(ghost, str) else ghost.value
        where = f"{cursor.path.relative_to(examples)}:{cursor.line + 1}:{cursor.character + 1}"
        print(f"\n{where}  first {timings[0]:.0f} ms, second {timings[1]:.0f} ms")
        print("    ghost text:")
        print(_show(ghost))
        print("    original:")
        print(_show(cursor.removed))
        client.text_document_did_close(
            lsp.DidCloseTextDocumentParams(text_document=lsp.TextDocumentIdentifier(cursor.uri))
        )
    await client.shutdown_async(None)
    client.exit(None)
    await drain
    return 0


def run_demo(examples: Path, model: str) -> int:
    if not (examples / "demo.toml").is_file():
        print(f"copilot-lsp: {examples}/demo.toml not found", file=sys.stderr)
        return 2
    return asyncio.run(_demo(examples, model))
