"""Decoding of Stripe's form-encoded parameters and validation against small schemas.

The SDK flattens nested values into ``a[b][c]=v`` and lists into ``expand[0]=x``; Stripe.js
sends ``expand[]=x``. Both are folded back into dicts here, and a schema then decides which
dicts are really lists, so a metadata key that happens to be ``"0"`` stays a dict key.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qsl

from stripe_sim.errors import invalid, missing_param, unknown_param

_KEY = re.compile(r"^([^\[\]]+)((?:\[[^\[\]]*\])*)$")
_SEGMENT = re.compile(r"\[([^\[\]]*)\]")

# A schema maps each accepted parameter to one of these type names, an ("enum", choices)
# tuple, a ("list", item_type) tuple, or a nested schema dict.
Spec = Any
Schema = dict[str, Spec]

CURRENCIES = frozenset(
    [
        "usd",
        "eur",
        "gbp",
        "cad",
        "aud",
        "chf",
        "sek",
        "nok",
        "dkk",
        "pln",
        "czk",
        "huf",
        "ron",
        "bgn",
        "jpy",
        "krw",
        "nzd",
        "sgd",
        "hkd",
        "mxn",
        "brl",
        "inr",
    ]
)
ZERO_DECIMAL = frozenset({"jpy", "krw", "vnd", "clp", "xof", "xaf", "ugx", "pyg", "rwf"})


def parse_form(text: str) -> dict[str, Any]:
    root: dict[str, Any] = {}
    for key, value in parse_qsl(text, keep_blank_values=True):
        match = _KEY.match(key)
        if not match:
            root[key] = value
            continue
        path = [match.group(1), *_SEGMENT.findall(match.group(2))]
        node = root
        for i, seg in enumerate(path):
            last = i == len(path) - 1
            name = seg if seg != "" else str(len(node))
            if last:
                node[name] = value
            else:
                child = node.get(name)
                if not isinstance(child, dict):
                    child = node[name] = {}
                node = child
    return root


def flatten(params: dict[str, Any], prefix: str = "") -> list[tuple[str, str]]:
    """Canonical flat form of decoded params; used to compare idempotent requests."""
    out: list[tuple[str, str]] = []
    for key in sorted(params):
        name = f"{prefix}[{key}]" if prefix else key
        value = params[key]
        if isinstance(value, dict):
            out.extend(flatten(value, name))
        else:
            out.append((name, str(value)))
    return out


def as_list(value: Any, param: str) -> list[Any]:
    if isinstance(value, list):
        return value
    if isinstance(value, dict) and all(k.isdigit() for k in value):
        return [value[k] for k in sorted(value, key=int)]
    raise invalid("Invalid array", param=param)


def _coerce(value: Any, spec: Spec, name: str) -> Any:
    if isinstance(spec, dict):
        if value == "":
            return None
        if not isinstance(value, dict):
            raise invalid("Invalid object", param=name)
        return validate(value, spec, name)
    if isinstance(spec, tuple) and spec[0] == "list":
        if value == "":
            return []
        return [
            _coerce(item, spec[1], f"{name}[{i}]") for i, item in enumerate(as_list(value, name))
        ]
    if isinstance(value, dict) and spec not in ("metadata", "object"):
        raise invalid(f"Invalid {_type_word(spec)}: {value}", param=name)
    if isinstance(spec, tuple) and spec[0] == "enum":
        if value == "" and len(spec) > 2 and spec[2] == "nullable":
            return None
        if value not in spec[1]:
            choices = list(spec[1])
            listed = (
                ", ".join(choices[:-1]) + (", or " if len(choices) > 2 else " or ") + choices[-1]
            )
            raise invalid(f"Invalid {name}: must be one of {listed}", param=name)
        return value
    if spec == "str":
        return None if value == "" else value
    if spec == "int":
        if value == "":
            return None
        if not re.fullmatch(r"-?\d+", value):
            raise invalid(f"Invalid integer: {value}", param=name)
        return int(value)
    if spec == "bool":
        if value not in ("true", "false"):
            raise invalid(f"Invalid boolean: {value}", param=name)
        return value == "true"
    if spec == "currency":
        lowered = value.lower()
        if lowered not in CURRENCIES:
            raise invalid(
                f"Invalid currency: {lowered}. The simulator supports these currencies: "
                + ", ".join(sorted(CURRENCIES)),
                param=name,
            )
        return lowered
    if spec == "metadata":
        return _metadata(value, name)
    if spec == "object":
        return value
    raise AssertionError(f"unknown spec {spec!r}")


def _type_word(spec: Spec) -> str:
    return {"int": "integer", "bool": "boolean"}.get(
        spec if isinstance(spec, str) else "", "string"
    )


def _metadata(value: Any, name: str) -> dict[str, str] | None:
    # An empty string unsets all metadata, as in Stripe.
    if value == "":
        return None
    if not isinstance(value, dict):
        raise invalid("Invalid hash", param=name)
    if len(value) > 50:
        raise invalid(
            f"You can have up to 50 metadata keys, but you passed in {len(value)}.", param=name
        )
    for key, item in value.items():
        if isinstance(item, dict):
            raise invalid(f"Invalid value for metadata key: {key}", param=f"{name}[{key}]")
        if len(key) > 40:
            raise invalid(
                "Metadata keys can have up to 40 characters, but you passed in a key that is "
                f"{len(key)} characters.",
                param=f"{name}[{key}]",
            )
        if len(item) > 500:
            raise invalid(
                "Metadata values can have up to 500 characters, but you passed in a value that "
                f"is {len(item)} characters.",
                param=f"{name}[{key}]",
            )
    return dict(value)


def validate(raw: dict[str, Any], schema: Schema, prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in raw.items():
        name = f"{prefix}[{key}]" if prefix else key
        if key not in schema:
            raise unknown_param(name)
        out[key] = _coerce(value, schema[key], name)
    return out


def require(params: dict[str, Any], *names: str) -> None:
    for name in names:
        if params.get(name) in (None, ""):
            raise missing_param(name)


def merge_metadata(current: dict[str, str], update: dict[str, str] | None) -> dict[str, str]:
    """Stripe's update semantics: merge keys, "" deletes one key, an empty hash clears all."""
    if update is None:
        return {}
    merged = dict(current)
    for key, value in update.items():
        if value == "":
            merged.pop(key, None)
        else:
            merged[key] = value
    return merged


def format_amount(amount: int, currency: str, *, code: bool = True) -> str:
    """``$0.50``, ``¥50``, ``2.50 DKK`` (``2.50`` with ``code=False``)."""
    symbols = {"usd": "$", "eur": "€", "gbp": "£", "cad": "$", "aud": "$", "jpy": "¥"}
    text = f"{amount:,}" if currency in ZERO_DECIMAL else f"{amount / 100:,.2f}"
    symbol = symbols.get(currency)
    if symbol:
        return f"{symbol}{text}"
    return f"{text} {currency.upper()}" if code else text
