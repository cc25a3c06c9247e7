"""Put the local window, the file header and cross-file snippets into one prompt string.

Layout, front to back, so that what changes least while the user types comes first and
the backend can keep its KV cache: repository name, cross-file snippets (in the order the
context engine keeps stable), the current file's path/language header, then the window.

- Families with a repo-level form (Qwen2.5-Coder, StarCoder2) get one file section per
  snippet path, with the current file last.
- Others get the snippets as a comment block at the top of the prefix, each under its path.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from copilot_lsp.prompt.templates import FimTemplate


@dataclass(frozen=True)
class PromptSnippet:
    path: str
    text: str


@dataclass(frozen=True)
class FileInfo:
    path: str = ""
    """Workspace-relative path of the file being edited ("" for untitled buffers)."""
    language: str = ""
    """Display name of its language (``Python``); "" when unknown."""
    comment: str = "#"
    """The language's line-comment marker."""
    repo: str = ""
    """The workspace folder's name, for the repo-level form."""


def _grouped(snippets: Sequence[PromptSnippet]) -> list[tuple[str, list[str]]]:
    """Snippets of one path together, paths in order of first appearance."""
    groups: dict[str, list[str]] = {}
    for snippet in snippets:
        groups.setdefault(snippet.path, []).append(snippet.text.rstrip("\n"))
    return list(groups.items())


def header(template: FimTemplate, file: FileInfo) -> str:
    """CodeGeeX-style ``# language: Python`` plus the path, for families that want it."""
    if not template.language_header:
        return ""
    lines = []
    if file.language:
        lines.append(f"{file.comment} language: {file.language}")
    if file.path:
        lines.append(f"{file.comment} path: {file.path}")
    return "".join(line + "\n" for line in lines)


def comment_block(snippets: Sequence[PromptSnippet], comment: str) -> str:
    parts = []
    for path, texts in _grouped(snippets):
        lines = [f"Compare this snippet from {path}:"]
        for text in texts:
            lines += text.split("\n")
        parts.append("".join(f"{comment} {line}".rstrip() + "\n" for line in lines))
    return "".join(parts)


def context_text(template: FimTemplate, snippets: Sequence[PromptSnippet], file: FileInfo) -> str:
    """The part of the prompt before the current file's own text (tokens are counted on it)."""
    if template.file_sep and (snippets or file.path):
        head = f"{template.repo_name}{file.repo or 'workspace'}\n" if template.repo_name else ""
        for path, texts in _grouped(snippets):
            head += f"{template.file_sep}{path}\n" + "\n\n".join(texts) + "\n"
        return head
    return comment_block(snippets, file.comment) if snippets else ""


def render_prompt(
    template: FimTemplate,
    prefix: str,
    suffix: str,
    snippets: Sequence[PromptSnippet] = (),
    file: FileInfo | None = None,
    middle_start: str = "",
) -> str:
    """The whole prompt. Without snippets and path this is exactly ``template.render``."""
    file = file or FileInfo()
    repo_form = bool(template.file_sep and (snippets or file.path))
    before = context_text(template, snippets, file)
    local_prefix = header(template, file) + prefix
    if not repo_form:
        return template.render(before + local_prefix, suffix, middle_start)
    if template.path_after_fim_prefix:
        body = template.render(f"{file.path}\n{local_prefix}", suffix, middle_start)
        return f"{before}{template.file_sep}{body}"
    return f"{before}{template.file_sep}{file.path or 'untitled'}\n" + template.render(
        local_prefix, suffix, middle_start
    )


def frame_text(
    template: FimTemplate, snippets: Sequence[PromptSnippet] = (), file: FileInfo | None = None
) -> str:
    """What the prompt holds besides the window and the snippets' :func:`context_text`
    (which is counted on its own): the repository line when there are no snippets, the
    current file's header or path line and the FIM markers, so that the budget counts them."""
    file = file or FileInfo()
    whole = render_prompt(template, "", "", snippets, file)
    return whole[len(context_text(template, snippets, file)) :] if snippets else whole
