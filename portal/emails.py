"""Emails are rendered from a subject / text / html template triplet by one helper."""

from __future__ import annotations

import email.policy
from collections.abc import Sequence
from email.message import EmailMessage
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.utils import timezone

from portal import timezones

InlineImage = tuple[str, bytes, str]  # (content id, content, mimetype)


class RelatedEmail(EmailMultiAlternatives):
    """An email whose html part carries its own images, shown through `cid:` links.

    Nothing has to be fetched from a server (the portal serves no media, and many
    clients block remote images): the html part becomes a multipart/related of
    the html and its images.
    """

    def __init__(self, *args: Any, images: Sequence[InlineImage] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.images = list(images)

    def message(self, *, policy: email.policy.Policy = email.policy.default) -> EmailMessage:
        message = super().message(policy=policy)
        html = message.get_body(preferencelist=("html",)) if self.images else None
        for cid, content, mimetype in self.images if html is not None else ():
            maintype, subtype = mimetype.split("/", 1)
            html.add_related(content, maintype=maintype, subtype=subtype, cid=f"<{cid}>")
        return message


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
    # Dates and times as the business reads them (see `portal.timezones`).
    with timezone.override(timezones.business_zone(context.get("business"))):
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
    images: Sequence[InlineImage] = (),
) -> EmailMultiAlternatives:
    """`images` are embedded for the html part's `cid:<content id>` links."""
    subject, text, html = render_email(name, context)
    message = RelatedEmail(
        subject=subject,
        body=text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=list(to),
        reply_to=list(reply_to),
        headers=headers or {},
        images=images,
    )
    message.attach_alternative(html, "text/html")
    for filename, content, mimetype in attachments:
        message.attach(filename, content, mimetype)
    message.send()
    return message
