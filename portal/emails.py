"""Emails are rendered from a subject / text / html template triplet by one helper."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string


def plain_text(rendered: str) -> str:
    """`render_to_string` marks what it returns as safe HTML; a plain-text part is
    not HTML (its templates run with autoescape off), so drop the mark: any page
    that shows it then escapes it."""
    return "".join((rendered,))


def render_email(name: str, context: dict[str, Any]) -> tuple[str, str, str]:
    """Render `templates/emails/<name>/{subject.txt,body.txt,body.html}`.

    The subject and the text part are plain `str` (to be escaped wherever they are
    shown); only the html part, rendered with autoescape on, is safe HTML.
    """
    subject = render_to_string(f"emails/{name}/subject.txt", context).strip()
    subject = " ".join(subject.splitlines())
    text = plain_text(render_to_string(f"emails/{name}/body.txt", context))
    html = render_to_string(f"emails/{name}/body.html", context)
    return subject, text, html


def send_email(
    name: str,
    *,
    to: Sequence[str],
    context: dict[str, Any],
    attachments: Sequence[tuple[str, bytes, str]] = (),
    reply_to: Sequence[str] = (),
    headers: dict[str, str] | None = None,
) -> EmailMultiAlternatives:
    subject, text, html = render_email(name, context)
    message = EmailMultiAlternatives(
        subject=subject,
        body=text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=list(to),
        reply_to=list(reply_to),
        headers=headers or {},
    )
    message.attach_alternative(html, "text/html")
    for filename, content, mimetype in attachments:
        message.attach(filename, content, mimetype)
    message.send()
    return message
