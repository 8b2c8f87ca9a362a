"""`{% kept "name" version %}…{% endkept %}`: render once per version, then reuse.

`version` must name everything the fragment reads besides the active language (which the
key adds): typically the rows it shows, as read by this request. A version of None renders
every time. What differs per request (the CSRF token, the CSP nonce, the visitor) stays
outside the block. Assignments made inside it (`{% translate … as label %}`) stay inside
it: a reused fragment does not run them.
"""

from __future__ import annotations

import itertools
from typing import Any

from django import template
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language

from portal.kept import fragments

register = template.Library()

# Each parse of a block is a new serial: a template reloaded after an edit (runserver)
# never reuses what its previous text rendered.
_serials = itertools.count()


class KeptNode(template.Node):
    def __init__(self, name: str, version: template.base.FilterExpression, nodelist: Any) -> None:
        self.name = name
        self.version = version
        self.nodelist = nodelist
        self.serial = next(_serials)

    def render(self, context: template.Context) -> SafeString:
        version = self.version.resolve(context)
        if version is None:
            return self.nodelist.render(context)
        key = (self.serial, get_language(), version)
        html = fragments.get(key)
        if html is None:
            with context.push():
                html = mark_safe(self.nodelist.render(context))
            fragments.keep(key, html)
        return html


@register.tag
def kept(parser: template.base.Parser, token: template.base.Token) -> KeptNode:
    bits = token.split_contents()
    if len(bits) != 3 or bits[1][0] not in "\"'" or bits[1][-1] != bits[1][0]:
        raise template.TemplateSyntaxError('Usage: {% kept "name" version %}…{% endkept %}')
    nodelist = parser.parse(("endkept",))
    parser.delete_first_token()
    return KeptNode(bits[1][1:-1], parser.compile_filter(bits[2]), nodelist)
