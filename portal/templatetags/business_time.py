"""`{% in_business_zone %}…{% endin_business_zone %}`: render times in the business's zone.

The business profile in the context (`business` or `profile`) says which, without a query; otherwise
the zone is read the first time a time is shown (`portal.timezones.BusinessZone`).
"""

from __future__ import annotations

from typing import Any

from django import template
from django.utils import timezone
from django.utils.safestring import SafeString

from portal import timezones

register = template.Library()


class BusinessZoneNode(template.Node):
    def __init__(self, nodelist: template.NodeList) -> None:
        self.nodelist = nodelist

    def render(self, context: template.Context) -> SafeString:
        profile = context.get("business") or context.get("profile")
        with timezone.override(timezones.business_zone(profile)):
            return self.nodelist.render(context)


@register.tag
def in_business_zone(parser: Any, token: Any) -> BusinessZoneNode:
    nodelist = parser.parse(("endin_business_zone",))
    parser.delete_first_token()
    return BusinessZoneNode(nodelist)
