"""Stripe's test cards and what each one does when a PaymentIntent is confirmed with it.

The numbers and decline codes mirror https://docs.stripe.com/testing. One number is the
simulator's own: ``PROCESSING_CARD`` leaves the PaymentIntent ``processing`` for the configured
delay before it succeeds, which real Stripe only does for slower payment methods.
"""

from __future__ import annotations

import datetime
import hashlib
from dataclasses import dataclass

from stripe_sim.errors import ApiError

SUCCEED = "succeed"
DECLINE = "decline"
AUTHENTICATE = "authenticate"
DISPUTE = "dispute"
DISPUTE_INQUIRY = "dispute_inquiry"
PROCESSING = "processing"

# What a refund of a charge made with the card does (docs.stripe.com/testing, "Refunds").
REFUND_SUCCEEDS = "succeeds"
REFUND_PENDING = "pending"  # pending, then succeeded
REFUND_FAILS = "fails"  # succeeded, then failed
PENDING_REFUND = "4000000000007726"
REFUND_FAIL = "4000000000005126"

VISA = "4242424242424242"
MASTERCARD = "5555555555554444"
DECLINED = "4000000000000002"
INSUFFICIENT_FUNDS = "4000000000009995"
EXPIRED = "4000000000000069"
# Requires 3-D Secure on-session; off-session only once it was set up for off-session use.
AUTHENTICATION_REQUIRED = "4000002500003155"
# Requires 3-D Secure on every payment, on- or off-session, however it was set up.
AUTHENTICATION_ALWAYS = "4000002760003184"
# Attaches to a Customer, then every charge is declined.
CHARGE_CUSTOMER_FAIL = "4000000000000341"
DISPUTED = "4000000000000259"
DISPUTE_INQUIRY_CARD = "4000000000001976"
#: Simulator-only: Luhn-valid, not on Stripe's test card list; goes processing -> succeeded.
PROCESSING_CARD = "4000009999000006"
PROCESSING_CARD_DISPLAY = "4000 0099 9900 0006"
PROCESSING_PAYMENT_METHOD = "pm_card_simulatorProcessing"


@dataclass(frozen=True)
class Decline:
    code: str
    decline_code: str
    message: str
    param: str | None = None


GENERIC = Decline("card_declined", "generic_decline", "Your card was declined.")
DECLINES = {
    "generic_decline": GENERIC,
    "insufficient_funds": Decline(
        "card_declined", "insufficient_funds", "Your card has insufficient funds."
    ),
    "lost_card": Decline("card_declined", "lost_card", "Your card was declined."),
    "stolen_card": Decline("card_declined", "stolen_card", "Your card was declined."),
    "fraudulent": Decline("card_declined", "fraudulent", "Your card was declined."),
    "expired_card": Decline("expired_card", "expired_card", "Your card has expired.", "exp_month"),
    "incorrect_cvc": Decline(
        "incorrect_cvc", "incorrect_cvc", "Your card's security code is incorrect.", "cvc"
    ),
    "processing_error": Decline(
        "processing_error",
        "processing_error",
        "An error occurred while processing your card. Try again in a little bit.",
    ),
    "test_mode_live_card": Decline(
        "card_declined",
        "test_mode_live_card",
        "Your card was declined. Your request was in test mode, but used a non test card. "
        "For a list of valid test cards, visit: https://stripe.com/docs/testing.",
    ),
}


@dataclass(frozen=True)
class TestCard:
    number: str
    outcome: str = SUCCEED
    decline: str | None = None
    funding: str = "credit"
    country: str = "US"
    refund: str = REFUND_SUCCEEDS
    # Off-session (docs.stripe.com/testing, "Authentication and setup"): OFF_SESSION_ALWAYS
    # fails with authentication_required however the card was saved, OFF_SESSION_IF_SET_UP
    # unless it was saved for off-session use (setup_future_usage=off_session, a SetupIntent).
    off_session: str | None = None
    # Attaching it to a Customer succeeds although charges are declined (4000 0000 0000 0341).
    attaches: bool = False


OFF_SESSION_ALWAYS = "always"
OFF_SESSION_IF_SET_UP = "if_set_up"
AUTHENTICATION_DECLINE = Decline(
    "authentication_required",
    "authentication_required",
    "Your card was declined. This transaction requires authentication.",
)


CARDS: dict[str, TestCard] = {
    card.number: card
    for card in [
        TestCard(VISA),
        TestCard("4000056655665556", funding="debit"),
        TestCard(MASTERCARD),
        TestCard("2223003122003222"),
        TestCard("5200828282828210", funding="debit"),
        TestCard("5105105105105100", funding="prepaid"),
        TestCard("378282246310005"),
        TestCard("371449635398431"),
        TestCard("6011111111111117"),
        TestCard("3056930009020004"),
        TestCard("3566002020360505", country="JP"),
        TestCard("6200000000000005", country="CN"),
        TestCard("4000008260000000", country="GB"),
        TestCard("4000002760000016", country="DE"),
        TestCard("4000002500000003", country="FR"),
        TestCard("4000003560000008", country="IN"),
        TestCard(DECLINED, DECLINE, "generic_decline"),
        TestCard(INSUFFICIENT_FUNDS, DECLINE, "insufficient_funds"),
        TestCard("4000000000009987", DECLINE, "lost_card"),
        TestCard("4000000000009979", DECLINE, "stolen_card"),
        TestCard("4100000000000019", DECLINE, "fraudulent"),
        TestCard(EXPIRED, DECLINE, "expired_card"),
        TestCard("4000000000000127", DECLINE, "incorrect_cvc"),
        TestCard("4000000000000119", DECLINE, "processing_error"),
        TestCard(AUTHENTICATION_REQUIRED, AUTHENTICATE, off_session=OFF_SESSION_IF_SET_UP),
        TestCard(AUTHENTICATION_ALWAYS, AUTHENTICATE, country="DE", off_session=OFF_SESSION_ALWAYS),
        TestCard("4000000000003220", AUTHENTICATE, off_session=OFF_SESSION_ALWAYS),
        TestCard(CHARGE_CUSTOMER_FAIL, DECLINE, "generic_decline", attaches=True),
        TestCard(DISPUTED, DISPUTE),
        TestCard(DISPUTE_INQUIRY_CARD, DISPUTE_INQUIRY),
        TestCard(PENDING_REFUND, refund=REFUND_PENDING),
        TestCard(REFUND_FAIL, refund=REFUND_FAILS),
        TestCard(PROCESSING_CARD, PROCESSING),
    ]
}

TEST_PAYMENT_METHODS: dict[str, str] = {
    "pm_card_visa": VISA,
    "pm_card_visa_debit": "4000056655665556",
    "pm_card_mastercard": MASTERCARD,
    "pm_card_amex": "378282246310005",
    "pm_card_chargeDeclined": DECLINED,
    "pm_card_chargeDeclinedInsufficientFunds": INSUFFICIENT_FUNDS,
    "pm_card_chargeDeclinedLostCard": "4000000000009987",
    "pm_card_chargeDeclinedStolenCard": "4000000000009979",
    "pm_card_chargeDeclinedFraudulent": "4100000000000019",
    "pm_card_chargeDeclinedExpiredCard": EXPIRED,
    "pm_card_chargeDeclinedIncorrectCvc": "4000000000000127",
    "pm_card_chargeDeclinedProcessingError": "4000000000000119",
    "pm_card_authenticationRequired": AUTHENTICATION_ALWAYS,
    "pm_card_authenticationRequiredSetupForOffSession": AUTHENTICATION_REQUIRED,
    "pm_card_chargeCustomerFail": CHARGE_CUSTOMER_FAIL,
    "pm_card_threeDSecure2Required": "4000000000003220",
    "pm_card_createDispute": DISPUTED,
    "pm_card_createDisputeInquiry": DISPUTE_INQUIRY_CARD,
    "pm_card_pendingRefund": PENDING_REFUND,
    "pm_card_refundFail": REFUND_FAIL,
    PROCESSING_PAYMENT_METHOD: PROCESSING_CARD,
}


def card_for(number: str) -> TestCard:
    """The test card for ``number``; any other valid number is a live card in test mode."""
    return CARDS.get(number) or TestCard(number, DECLINE, "test_mode_live_card")


def decline_for(card: TestCard) -> Decline:
    return DECLINES.get(card.decline or "", GENERIC)


def has_expired(exp_month: int, exp_year: int, today: datetime.date) -> bool:
    """A card is good through the last day of its expiry month."""
    return (exp_year, exp_month) < (today.year, today.month)


def brand_of(number: str) -> str:
    if number.startswith("4"):
        return "visa"
    if number[:2] in {"34", "37"}:
        return "amex"
    if number[:2] in {"51", "52", "53", "54", "55"} or 2221 <= int(number[:4] or 0) <= 2720:
        return "mastercard"
    if number.startswith(("6011", "65", "644", "645", "646", "647", "648", "649")):
        return "discover"
    if number.startswith("35"):
        return "jcb"
    if number.startswith(("30", "36", "38")):
        return "diners"
    if number.startswith("62"):
        return "unionpay"
    return "unknown"


def luhn_ok(number: str) -> bool:
    total = 0
    for i, char in enumerate(reversed(number)):
        digit = int(char)
        if i % 2 == 1:
            digit = digit * 2 - 9 if digit > 4 else digit * 2
        total += digit
    return total % 10 == 0


def fingerprint(number: str) -> str:
    return hashlib.sha256(number.encode()).hexdigest()[:16]


def _card_error(code: str, message: str, param: str) -> ApiError:
    return ApiError(402, message, type="card_error", code=code, param=param)


def normalize_number(raw: str) -> str:
    number = raw.replace(" ", "").replace("-", "")
    if not number.isdigit() or not 12 <= len(number) <= 19:
        raise _card_error("invalid_number", "Your card number is invalid.", "number")
    if not luhn_ok(number):
        raise _card_error("incorrect_number", "Your card number is incorrect.", "number")
    return number


def check_expiry(exp_month: int, exp_year: int, *, today: datetime.date | None = None) -> int:
    """Validate an expiry date as Stripe does and return the four-digit year."""
    today = today or datetime.date.today()
    if not 1 <= exp_month <= 12:
        raise _card_error(
            "invalid_expiry_month", "Your card's expiration month is invalid.", "exp_month"
        )
    year = exp_year + 2000 if exp_year < 100 else exp_year
    if year < today.year or year > today.year + 50:
        raise _card_error(
            "invalid_expiry_year", "Your card's expiration year is invalid.", "exp_year"
        )
    if year == today.year and exp_month < today.month:
        raise _card_error(
            "invalid_expiry_month", "Your card's expiration month is invalid.", "exp_month"
        )
    return year


def check_cvc(cvc: str | None, brand: str) -> None:
    if cvc is None:
        return
    wanted = 4 if brand == "amex" else 3
    if not cvc.isdigit() or len(cvc) != wanted:
        raise _card_error("invalid_cvc", "Your card's security code is invalid.", "cvc")


def details(number: str, exp_month: int, exp_year: int, *, cvc: bool) -> dict[str, object]:
    """A card PaymentMethod's ``card`` hash."""
    brand = brand_of(number)
    card = card_for(number)
    return {
        "brand": brand,
        "checks": {
            "address_line1_check": None,
            "address_postal_code_check": None,
            "cvc_check": "unchecked" if cvc else None,
        },
        "country": card.country,
        "display_brand": brand,
        "exp_month": exp_month,
        "exp_year": exp_year,
        "fingerprint": fingerprint(number),
        "funding": card.funding,
        "generated_from": None,
        "last4": number[-4:],
        "networks": {"available": [brand], "preferred": None},
        "regulated_status": "unregulated",
        "three_d_secure_usage": {"supported": True},
        "wallet": None,
    }
