"""HTML pages the simulator serves to people: the overview, the 3-D Secure challenge, receipts."""

from __future__ import annotations

import datetime
import html
import json
from typing import TYPE_CHECKING, Any

from stripe_sim.cards import PROCESSING_CARD_DISPLAY
from stripe_sim.objects import Obj
from stripe_sim.params import format_amount

if TYPE_CHECKING:
    from stripe_sim.app import Simulator

STYLE = """
body { font-family: system-ui, sans-serif; margin: 2rem; color: #1a1f36; max-width: 70rem; }
h1 { font-size: 1.4rem; } h2 { font-size: 1.1rem; margin-top: 2rem; }
table { border-collapse: collapse; width: 100%; font-size: .85rem; }
th, td { text-align: left; padding: .3rem .5rem; border-bottom: 1px solid #e3e8ee; }
code { font-size: .85rem; } .bad { color: #b3093c; } .good { color: #0a7d4b; }
.box { max-width: 28rem; margin: 4rem auto; padding: 2rem; border: 1px solid #e3e8ee;
       border-radius: 8px; }
button { font-size: 1rem; padding: .6rem 1rem; margin: .4rem .4rem 0 0; cursor: pointer; }
"""


def _page(title: str, body: str, *, refresh: bool = False) -> str:
    meta = '<meta http-equiv="refresh" content="5">' if refresh else ""
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width, initial-scale=1">{meta}'
        f"<title>{html.escape(title)}</title><style>{STYLE}</style></head>"
        f"<body>{body}</body></html>"
    )


def _e(value: Any) -> str:
    return html.escape("" if value is None else str(value))


def _when(timestamp: float) -> str:
    return datetime.datetime.fromtimestamp(timestamp).strftime("%H:%M:%S.%f")[:-3]


def _table(headers: list[str], rows: list[list[str]]) -> str:
    if not rows:
        return "<p>None yet.</p>"
    head = "".join(f"<th scope='col'>{h}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def dashboard(sim: Simulator) -> str:
    config = sim.config.public()
    store = sim.store
    counts = ", ".join(f"{kind}: {len(items)}" for kind, items in sorted(store.objects.items()))
    deliveries = sim.deliverer.deliveries()[-200:]
    delivery_rows = [
        [
            _e(_when(d["created"])),
            f"<code>{_e(d['event_id'])}</code>",
            _e(d["event_type"]),
            _e(d["endpoint"]),
            _e(d["attempt"]),
            f"<span class='{'good' if d['ok'] else 'bad'}'>{_e(d['status_code'] or '-')}</span>",
            _e(d["error"] or ""),
        ]
        for d in reversed(deliveries)
    ]
    event_rows = [
        [
            _e(_when(e["created"])),
            f"<code>{_e(e['id'])}</code>",
            _e(e["type"]),
            f"<code>{_e(e['data']['object'].get('id'))}</code>",
        ]
        for e in store.all("event")[:100]
    ]
    pi_rows = [
        [
            f"<code>{_e(pi['id'])}</code>",
            _e(format_amount(pi["amount"], pi["currency"])),
            _e(pi["status"]),
            _e(json.dumps(pi["metadata"])),
        ]
        for pi in store.all("payment_intent")[:50]
    ]
    body = (
        "<h1>Stripe simulator</h1>"
        "<p>Local stand-in for Stripe's API. This page refreshes every 5 seconds.</p>"
        f"<h2>Configuration</h2><pre>{_e(json.dumps(config, indent=2))}</pre>"
        f"<p>Objects: {_e(counts)}. Held events: {len(sim.deliverer.held())}. "
        f"Queued deliveries: {sim.deliverer.queued()}.</p>"
        f"<p>Processing card (simulator only): <code>{PROCESSING_CARD_DISPLAY}</code></p>"
        "<h2>Webhook deliveries (newest first)</h2>"
        + _table(["Time", "Event", "Type", "Endpoint", "Attempt", "Status", "Error"], delivery_rows)
        + "<h2>Events (newest first)</h2>"
        + _table(["Time", "Event", "Type", "Object"], event_rows)
        + "<h2>PaymentIntents</h2>"
        + _table(["Id", "Amount", "Status", "Metadata"], pi_rows)
        + "<h2>Controls</h2><ul>"
        + "".join(f"<li><code>{_e(c)}</code></li>" for c in CONTROLS)
        + "</ul>"
    )
    return _page("Stripe simulator", body, refresh=True)


CONTROLS = [
    "GET  /_sim/healthz",
    "GET  /_sim/config · POST /_sim/config",
    "POST /_sim/reset  {config: true} also restores the start-up configuration",
    "GET  /_sim/deliveries?event_id=&type=&endpoint=",
    "GET  /_sim/events?type=",
    "POST /_sim/events/<evt_id>/redeliver",
    "POST /_sim/release  {order: created|reverse}",
    "POST /_sim/payment_intents/<pi_id>/succeed",
    "POST /_sim/payment_intents/<pi_id>/dispute  {reason, amount, status}",
    "POST /_sim/disputes/<dp_id>/close  {status: won|lost|warning_closed|prevented}",
    "POST /_sim/refunds/<re_id>/succeed · POST /_sim/refunds/<re_id>/fail",
    "GET  /_sim/3ds/<pi_id>?client_secret=",
    "GET  /_sim/receipts/<ch_id>",
    "POST /_sim/advance  {seconds: N}",
    "GET  /_sim/microdeposits/<pi_id>?client_secret=",
    "POST /_sim/payment_intents/<pi_id>/fail  (a processing bank debit)",
    "POST /_sim/payment_methods/<pm_id>/expire  (a card: expired last month)",
]


def three_d_secure(pi: Obj) -> str:
    # A SetupIntent saves a card without a payment: it has no amount.
    what = (
        f"a payment of <strong>{_e(format_amount(pi['amount'], pi['currency']))}</strong>"
        if "amount" in pi
        else "saving a card for later"
    )
    secret = _e(pi["client_secret"])
    if pi["status"] != "requires_action":
        content = (
            f"<p>This payment is not waiting for authentication (status: "
            f"<code>{_e(pi['status'])}</code>).</p>"
        )
    else:
        content = "".join(
            f'<form method="post" action="/_sim/3ds/{_e(pi["id"])}/{answer}">'
            f'<input type="hidden" name="client_secret" value="{secret}">'
            f'<button type="submit">{label}</button></form>'
            for answer, label in (
                ("complete", "Complete authentication"),
                ("fail", "Fail authentication"),
            )
        )
    body = (
        '<main class="box"><h1>3D Secure 2 test page</h1>'
        f"<p>The Stripe simulator is asking you to authenticate {what} "
        f"(<code>{_e(pi['id'])}</code>).</p>"
        f"{content}</main>"
    )
    return _page("3D Secure authentication", body)


def authenticated(pi: Obj) -> str:
    body = (
        f'<main class="box"><h1>Authentication finished</h1><p>PaymentIntent '
        f"<code>{_e(pi['id'])}</code> is now <code>{_e(pi['status'])}</code>. No return_url was "
        "given, so there is nowhere to send you back to.</p></main>"
    )
    return _page("Authentication finished", body)


def method_label(details: Obj) -> str:
    """A charge's payment method as the customer knows it: "visa •••• 4242"."""
    kind = details["type"]
    inner = details[kind]
    if kind == "card":
        return f"{inner['brand']} •••• {inner['last4']}"
    if kind == "us_bank_account":
        return f"{inner['bank_name']} •••• {inner['last4']}"
    return f"SEPA {inner['country']} •••• {inner['last4']}"


def microdeposits(pi: Obj, message: str = "") -> str:
    """Stripe's hosted verification page for an ACH account waiting on microdeposits."""
    action = (pi["next_action"] or {}).get("type")
    if action != "verify_with_microdeposits":
        content = (
            "<p>This payment is not waiting for bank account verification (status: "
            f'<code data-status="{_e(pi["status"])}">{_e(pi["status"])}</code>).</p>'
        )
    else:
        content = (
            f'<form method="post" action="/_sim/microdeposits/{_e(pi["id"])}">'
            f'<input type="hidden" name="client_secret" value="{_e(pi["client_secret"])}">'
            '<p><label for="descriptor_code">The 6-character code in the description of the '
            "$0.01 deposit, starting with SM</label></p>"
            '<input id="descriptor_code" name="descriptor_code" autocomplete="off" '
            'maxlength="6" placeholder="SM11AA" required>'
            '<p><button type="submit">Verify account</button></p></form>'
        )
    error = f'<p class="bad" role="alert">{_e(message)}</p>' if message else ""
    amount = format_amount(pi["amount"], pi["currency"])
    body = (
        '<main class="box"><h1>Verify your bank account</h1>'
        "<p>We sent a small deposit to your bank account. Enter the code from its description "
        f"to finish your payment of <strong>{_e(amount)}</strong>. (Stripe simulator: the "
        "code is SM11AA.)</p>"
        f"{error}{content}</main>"
    )
    return _page("Verify your bank account", body)


def receipt(charge: Obj) -> str:
    rows = [
        ["Amount paid", _e(format_amount(charge["amount"], charge["currency"]))],
        ["Refunded", _e(format_amount(charge["amount_refunded"], charge["currency"]))],
        ["Date", _e(datetime.datetime.fromtimestamp(charge["created"]).isoformat(" "))],
        ["Payment method", _e(method_label(charge["payment_method_details"]))],
        ["Description", _e(charge["description"] or "")],
        ["Status", _e(charge["status"])],
    ]
    body = (
        '<main class="box"><h1>Receipt (Stripe simulator)</h1>'
        + _table(["", ""], rows)
        + f"<p><code>{_e(charge['id'])}</code></p></main>"
    )
    return _page("Receipt", body)
