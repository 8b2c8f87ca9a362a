"""Command line: ``python -m stripe_sim [options]`` serves; ``... trigger EVENT`` fires an event."""

from __future__ import annotations

import argparse
import ipaddress
import json
import signal
import sys
import urllib.error
import urllib.request
from collections.abc import Sequence
from typing import Any, NoReturn
from urllib.parse import urlencode

from stripe_sim import __version__, config
from stripe_sim.cards import PROCESSING_CARD_DISPLAY

TRIGGERS = (
    "payment_intent.created",
    "payment_intent.succeeded",
    "payment_intent.payment_failed",
    "payment_intent.canceled",
    "charge.succeeded",
    "charge.failed",
    "charge.refunded",
    "refund.created",
    "charge.dispute.created",
)


def _methods(text: str) -> list[str]:
    try:
        return config.as_methods(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from exc


def serve_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m stripe_sim",
        description=(
            "Run a local, stateful Stripe API simulator (API under /v1, Stripe.js stand-in at "
            "/v3/, test controls and an overview page under /_sim/). It only listens on "
            "loopback addresses. To fire an event at a running simulator, use "
            "'python -m stripe_sim trigger EVENT' (see 'python -m stripe_sim trigger --help')."
        ),
        epilog=f"Simulator-only test card that stays processing first: {PROCESSING_CARD_DISPLAY}.",
    )
    add = parser.add_argument
    add("--host", default="127.0.0.1", help="loopback address to bind (default: %(default)s)")
    add(
        "--port",
        type=int,
        default=config.DEFAULT_PORT,
        help="port; 0 picks a free one (default: %(default)s)",
    )
    add(
        "--secret-key",
        default=config.DEFAULT_SECRET_KEY,
        help="accepted secret key (default: %(default)s)",
    )
    add(
        "--publishable-key",
        default=config.DEFAULT_PUBLISHABLE_KEY,
        help="accepted publishable key, for Stripe.js calls (default: %(default)s)",
    )
    add(
        "--webhook-url",
        action="append",
        default=[],
        metavar="URL",
        help="endpoint to deliver events to; repeat for several",
    )
    add(
        "--webhook-secret",
        default=config.DEFAULT_WEBHOOK_SECRET,
        help="signing secret for --webhook-url endpoints (default: %(default)s)",
    )
    add(
        "--processing-delay",
        type=float,
        default=3.0,
        metavar="SECONDS",
        help="how long the processing card stays processing (default: %(default)s)",
    )
    add(
        "--account",
        default=None,
        type=_account,
        metavar="ACCT_ID",
        help="this run's account id (default: a new acct_... each run); objects belong to it",
    )
    add(
        "--settle-delay",
        type=float,
        default=3.0,
        metavar="SECONDS",
        help="simulator seconds a bank debit (ACH, SEPA) stays processing (default: %(default)s)",
    )
    add(
        "--clock-offset",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="start the simulator clock this far ahead of the wall clock (default: %(default)s)",
    )
    add(
        "--payment-methods",
        type=_methods,
        default=["card"],
        metavar="TYPES",
        help="comma-separated types automatic_payment_methods offers, each for its currencies: "
        "card, us_bank_account (usd), sepa_debit (eur) (default: card)",
    )
    add(
        "--refund-delay",
        type=float,
        default=3.0,
        metavar="SECONDS",
        help="when the refund test cards' refunds succeed or fail (default: %(default)s)",
    )
    add(
        "--retry-base",
        type=float,
        default=1.0,
        metavar="SECONDS",
        help="first webhook retry delay; doubles each attempt (default: %(default)s)",
    )
    add(
        "--max-attempts",
        type=int,
        default=5,
        help="webhook attempts per event and endpoint (default: %(default)s)",
    )
    add(
        "--webhook-timeout",
        type=float,
        default=10.0,
        metavar="SECONDS",
        help="how long to wait for an endpoint to answer (default: %(default)s)",
    )
    add("--no-delivery", action="store_true", help="record events but do not deliver webhooks")
    add("--hold", action="store_true", help="hold events until POST /_sim/release")
    add(
        "--api-version",
        default=config.API_VERSION,
        help="api_version stamped on events (default: %(default)s)",
    )
    add("--quiet", action="store_true", help="do not log one line per request to stderr")
    add("--version", action="version", version=f"stripe_sim {__version__}")
    return parser


def trigger_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m stripe_sim trigger",
        description=(
            "Like 'stripe trigger': create the objects that make a running simulator emit EVENT. "
            "The PaymentIntent it creates carries no metadata of yours."
        ),
    )
    parser.add_argument(
        "event", choices=TRIGGERS, metavar="EVENT", help="one of: " + ", ".join(TRIGGERS)
    )
    parser.add_argument(
        "--api-base",
        default=f"http://127.0.0.1:{config.DEFAULT_PORT}",
        help="simulator base URL (default: %(default)s)",
    )
    parser.add_argument(
        "--secret-key", default=config.DEFAULT_SECRET_KEY, help="secret key (default: %(default)s)"
    )
    return parser


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args and args[0] == "trigger":
        return trigger(trigger_parser().parse_args(args[1:]))
    if args and args[0] == "serve":
        args = args[1:]
    return serve(serve_parser().parse_args(args))


def serve(args: argparse.Namespace) -> int:
    if not is_loopback(args.host):
        print(
            f"stripe_sim: refusing to listen on {args.host!r}: the simulator accepts test keys "
            "from anyone who can reach it, so it only binds loopback addresses "
            "(127.0.0.0/8, ::1, localhost).",
            file=sys.stderr,
        )
        return 2
    from stripe_sim.server import SimulatorServer

    settings = config.SimConfig(
        host=args.host,
        port=args.port,
        secret_key=args.secret_key,
        publishable_key=args.publishable_key,
        webhook_secret=args.webhook_secret,
        endpoints=[config.Endpoint(url, args.webhook_secret) for url in args.webhook_url],
        delivery_enabled=not args.no_delivery,
        hold=args.hold,
        processing_delay=args.processing_delay,
        refund_delay=args.refund_delay,
        settle_delay=args.settle_delay,
        clock_offset=args.clock_offset,
        payment_methods=args.payment_methods,
        **({"account": args.account} if args.account else {}),
        retry_base=args.retry_base,
        max_attempts=args.max_attempts,
        webhook_timeout=args.webhook_timeout,
        api_version=args.api_version,
        quiet=args.quiet,
    )
    try:
        server = SimulatorServer(settings)
    except OSError as exc:
        print(f"stripe_sim: cannot listen on {args.host}:{args.port}: {exc}", file=sys.stderr)
        return 1
    signal.signal(signal.SIGTERM, _exit_on_signal)
    # One line on stdout, flushed, so a parent process can read the chosen port.
    print(
        f"stripe_sim listening on {server.base_url} (Stripe.js: {server.base_url}/v3/, "
        f"account {settings.account})",
        flush=True,
    )
    try:
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    finally:
        server.sim.stop()
        server.server_close()
    return 0


def _account(value: str) -> str:
    try:
        return config.as_account(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _exit_on_signal(signum: int, frame: object) -> NoReturn:
    raise KeyboardInterrupt


def _call(
    base: str, path: str, *, key: str | None = None, form: dict[str, str] | None = None
) -> tuple[int, Any]:
    data = urlencode(form or {}).encode()
    request = urllib.request.Request(base.rstrip("/") + path, data=data, method="POST")
    if key:
        request.add_header("Authorization", f"Bearer {key}")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as exc:
        return exc.code, json.load(exc)


def trigger(args: argparse.Namespace) -> int:
    base, key, event = args.api_base, args.secret_key, args.event
    print("Setting up fixture for: payment_intent")
    try:
        status, pi = _call(
            base,
            "/v1/payment_intents",
            key=key,
            form={
                "amount": "2000",
                "currency": "usd",
                "payment_method_types[0]": "card",
                "description": "(created by stripe_sim trigger)",
            },
        )
        if status != 200:
            print(f"Trigger failed: {pi['error']['message']}", file=sys.stderr)
            return 1
        pi_path = f"/v1/payment_intents/{pi['id']}"
        print(f"Running fixture for: {event}")
        if event in ("payment_intent.payment_failed", "charge.failed"):
            status, _ = _call(
                base,
                pi_path + "/confirm",
                key=key,
                form={"payment_method": "pm_card_chargeDeclined"},
            )
        elif event == "payment_intent.canceled":
            status, _ = _call(base, pi_path + "/cancel", key=key)
        elif event != "payment_intent.created":
            status, _ = _call(base, f"/_sim/payment_intents/{pi['id']}/succeed")
            if event in ("charge.refunded", "refund.created"):
                status, _ = _call(base, "/v1/refunds", key=key, form={"payment_intent": pi["id"]})
            elif event == "charge.dispute.created":
                status, _ = _call(base, f"/_sim/payment_intents/{pi['id']}/dispute")
    except OSError as exc:
        print(f"Trigger failed: cannot reach the simulator at {base}: {exc}", file=sys.stderr)
        return 1
    if status not in (200, 402):
        print(f"Trigger failed with HTTP {status}", file=sys.stderr)
        return 1
    print(f"Trigger succeeded! Check {base}/_sim/ for {event} ({pi['id']}).")
    return 0
