/*
 * The card form of the Stripe simulator's Payment Element. It runs in its own document,
 * served from a second loopback origin (localhost <-> 127.0.0.1, same port) and framed by
 * the Stripe.js stand-in (/v3/), as Stripe's Payment Element lives in an iframe on
 * js.stripe.com: the host page never sees the card number.
 *
 * It talks to its parent only by postMessage, to and from the one origin named in its URL
 * (checked against location.ancestorOrigins where the browser has it), and only for the
 * channel it was given. The card data leaves the frame only to the simulator's API, as a
 * PaymentMethod created with the publishable key; the parent gets the PaymentMethod id. A bank
 * debit is confirmed from the frame (payment_method_data and mandate_data); the parent gets
 * the PaymentIntent.
 */
(function () {
  "use strict";

  const params = new URLSearchParams(window.location.hash.slice(1));
  const CHANNEL = params.get("channel") || "";
  const PARENT_ORIGIN = params.get("origin") || "";
  const KEY = params.get("key") || "";
  const API_BASE = params.get("apiBase") || "";

  function parentIsWhoItSays() {
    if (!PARENT_ORIGIN || window.parent === window) return false;
    const ancestors = window.location.ancestorOrigins;
    return !ancestors || ancestors.length === 0 || ancestors[0] === PARENT_ORIGIN;
  }

  if (!parentIsWhoItSays()) {
    document.body.textContent = "This card form only works inside the page that opened it.";
    return;
  }

  function post(message) {
    window.parent.postMessage({ ...message, channel: CHANNEL, source: "stripe-sim-frame" }, PARENT_ORIGIN);
  }

  // -- card validation (messages as Stripe.js shows them) ---------------------------------------

  function digits(text) {
    return (text || "").replace(/\D/g, "");
  }

  function brandOf(number) {
    if (/^3[47]/.test(number)) return "amex";
    if (/^3(0|6|8)/.test(number)) return "diners";
    return "other";
  }

  function numberLength(number) {
    return { amex: 15, diners: 14 }[brandOf(number)] || 16;
  }

  function luhn(number) {
    let sum = 0;
    for (let i = 0; i < number.length; i++) {
      let d = Number(number[number.length - 1 - i]);
      if (i % 2 === 1) d = d * 2 > 9 ? d * 2 - 9 : d * 2;
      sum += d;
    }
    return sum % 10 === 0;
  }

  function validationError(code, message, param) {
    return { type: "validation_error", code, message, param };
  }

  function checkNumber(raw) {
    const number = digits(raw);
    if (number.length < numberLength(number)) {
      return validationError("incomplete_number", "Your card number is incomplete.", "number");
    }
    if (!luhn(number)) {
      return validationError("invalid_number", "Your card number is invalid.", "number");
    }
    return null;
  }

  function checkExpiry(raw) {
    const value = digits(raw);
    if (value.length < 4) {
      return validationError("incomplete_expiry", "Your card's expiration date is incomplete.", "exp_month");
    }
    const month = Number(value.slice(0, 2));
    const year = 2000 + Number(value.slice(2, 4));
    const now = new Date();
    if (month < 1 || month > 12) {
      return validationError("invalid_expiry_month", "Your card's expiration date is invalid.", "exp_month");
    }
    if (year < now.getFullYear()) {
      return validationError("invalid_expiry_year_past", "Your card's expiration year is in the past.", "exp_year");
    }
    if (year === now.getFullYear() && month < now.getMonth() + 1) {
      return validationError("invalid_expiry_month_past", "Your card's expiration date is in the past.", "exp_month");
    }
    return null;
  }

  function checkCvc(raw, number) {
    const wanted = brandOf(digits(number)) === "amex" ? 4 : 3;
    if (digits(raw).length < wanted) {
      return validationError("incomplete_cvc", "Your card's security code is incomplete.", "cvc");
    }
    return null;
  }

  // -- formatting ------------------------------------------------------------------------------

  function formatNumber(raw) {
    const number = digits(raw).slice(0, 19);
    const groups = brandOf(number) === "amex" ? [4, 6, 5] : [4, 4, 4, 4, 3];
    const parts = [];
    let rest = number;
    for (const size of groups) {
      if (!rest) break;
      parts.push(rest.slice(0, size));
      rest = rest.slice(size);
    }
    return parts.join(" ");
  }

  function formatExpiry(raw, deleting) {
    let value = digits(raw).slice(0, 4);
    if (value.length === 1 && Number(value) > 1) value = `0${value}`;
    if (value.length < 2) return value;
    if (value.length === 2) return deleting ? value : `${value} / `;
    return `${value.slice(0, 2)} / ${value.slice(2)}`;
  }

  // -- the Payment Element ---------------------------------------------------------------------

  const FIELDS = [
    {
      key: "number",
      label: "Card number",
      name: "cardnumber",
      autocomplete: "cc-number",
      placeholder: "1234 1234 1234 1234",
    },
    {
      key: "expiry",
      label: "Expiration date",
      name: "exp-date",
      autocomplete: "cc-exp",
      placeholder: "MM / YY",
    },
    { key: "cvc", label: "Security code", name: "cvc", autocomplete: "cc-csc", placeholder: "CVC" },
  ];


  // -- the form --------------------------------------------------------------------------------

  const inputs = {};
  const errors = {};
  let errorBox = null;

  function values() {
    const read = (key) => (inputs[key] ? inputs[key].value : "");
    return { number: read("number"), expiry: read("expiry"), cvc: read("cvc") };
  }

  function check(key) {
    const v = values();
    if (key === "number") return checkNumber(v.number);
    if (key === "expiry") return checkExpiry(v.expiry);
    return checkCvc(v.cvc, v.number);
  }

  function render() {
    let shown = null;
    for (const field of FIELDS) {
      const error = errors[field.key];
      const input = inputs[field.key];
      input.setAttribute("aria-invalid", error ? "true" : "false");
      input.classList.toggle("SimElement-input--invalid", Boolean(error));
      if (error && !shown) shown = error;
    }
    errorBox.textContent = shown ? shown.message : "";
  }

  function changed() {
    if (selected !== "card") {
      const form = bankForms[selected];
      const result = window.SimBankForms.validate(selected, form);
      const empty = Object.values(form.inputs).every((input) => input.tagName === "SELECT" || !input.value);
      post({ type: "change", empty, complete: !result.error, value: { type: selected } });
      return;
    }
    const v = values();
    post({
      type: "change",
      empty: !v.number && !v.expiry && !v.cvc,
      complete: FIELDS.every((field) => !check(field.key)),
      value: { type: "card" },
    });
  }

  function onInput(key, event) {
    const input = inputs[key];
    const deleting = (event.inputType || "").startsWith("delete");
    if (key === "number") input.value = formatNumber(input.value);
    if (key === "expiry") input.value = formatExpiry(input.value, deleting);
    if (key === "cvc") input.value = digits(input.value).slice(0, 4);
    if (errors[key]) {
      // Keep a shown error only while it is still wrong in a way typing more will not fix.
      const error = check(key);
      errors[key] = error && !error.code.startsWith("incomplete") ? error : null;
      render();
    }
    changed();
  }

  function onBlur(key) {
    if (inputs[key].value) {
      errors[key] = check(key);
      render();
    }
    post({ type: "blur" });
  }

  // -- tabs: one per method the PaymentIntent offers (the card alone has none) ---------------------

  let selected = "card";
  let cardFieldset = null;
  const bankForms = {};

  function showMethod(kind) {
    selected = kind;
    cardFieldset.hidden = kind !== "card";
    for (const [other, form] of Object.entries(bankForms)) form.fieldset.hidden = other !== kind;
    document.querySelectorAll(".SimElement-tab").forEach((tab) => {
      tab.setAttribute("aria-selected", tab.dataset.method === kind ? "true" : "false");
    });
    errorBox.textContent = "";
    changed();
  }

  function configure(methods, business, futureUsage) {
    // A PaymentIntent that saves the card shows Stripe's consent wording under it.
    if (futureUsage) {
      const consent = document.createElement("p");
      consent.className = "SimElement-mandate";
      consent.dataset.consent = "card";
      consent.textContent =
        `By providing your card information, you allow ${business || "the business"} to charge ` +
        "your card for future payments in accordance with their terms.";
      cardFieldset.appendChild(consent);
    }
    const kinds = (methods || []).filter((kind) => kind === "card" || window.SimBankForms.kinds.includes(kind));
    if (kinds.length < 2 && kinds[0] !== "us_bank_account" && kinds[0] !== "sepa_debit") return;
    const labels = { card: "Card", us_bank_account: "US bank account", sepa_debit: "SEPA Direct Debit" };
    const tabs = document.createElement("div");
    tabs.className = "SimElement-tabs";
    tabs.setAttribute("role", "tablist");
    for (const kind of kinds) {
      const tab = document.createElement("button");
      tab.type = "button";
      tab.className = "SimElement-tab";
      tab.dataset.method = kind;
      tab.setAttribute("role", "tab");
      tab.textContent = labels[kind];
      tab.addEventListener("click", () => showMethod(kind));
      tabs.appendChild(tab);
      if (kind !== "card") {
        bankForms[kind] = window.SimBankForms.build(kind, business || "the business", hookBankInput);
        cardFieldset.parentNode.insertBefore(bankForms[kind].fieldset, errorBox);
      }
    }
    if (kinds.length > 1) cardFieldset.parentNode.insertBefore(tabs, cardFieldset.parentNode.firstChild);
    showMethod(kinds[0]);
  }

  function hookBankInput(input) {
    input.addEventListener("input", () => changed());
    input.addEventListener("focus", () => post({ type: "focus" }));
    input.addEventListener("blur", () => post({ type: "blur" }));
    input.addEventListener("keydown", (event) => {
      if (event.key === "Enter") {
        event.preventDefault();
        post({ type: "submit" });
      }
    });
  }

  function validateBank() {
    const form = bankForms[selected];
    const result = window.SimBankForms.validate(selected, form);
    let shown = null;
    for (const [key, problem] of Object.entries(result.problems)) {
      form.inputs[key].setAttribute("aria-invalid", problem ? "true" : "false");
      form.inputs[key].classList.toggle("SimElement-input--invalid", Boolean(problem));
      if (problem && !shown) shown = problem;
    }
    errorBox.textContent = shown ? shown.message : "";
    return result;
  }

  // Checks every field, shows the first problem, and returns {error} or {card}.
  function validate() {
    if (selected !== "card") return validateBank();
    for (const field of FIELDS) errors[field.key] = check(field.key);
    render();
    const first = FIELDS.map((field) => errors[field.key]).find(Boolean);
    if (first) return { error: first };
    const v = values();
    const expiry = digits(v.expiry);
    return {
      card: {
        number: digits(v.number),
        exp_month: Number(expiry.slice(0, 2)),
        exp_year: 2000 + Number(expiry.slice(2, 4)),
        cvc: digits(v.cvc),
      },
    };
  }

  function build() {
    const root = document.createElement("div");
    root.className = "SimElement";
    root.dataset.simElement = "payment";
    const fieldset = document.createElement("fieldset");
    fieldset.className = "SimElement-fieldset";
    fieldset.dataset.method = "card";
    cardFieldset = fieldset;
    const legend = document.createElement("legend");
    legend.className = "SimElement-legend";
    legend.textContent = "Card";
    fieldset.appendChild(legend);
    for (const field of FIELDS) {
      const id = `SimElement-${field.key}`;
      const wrapper = document.createElement("div");
      wrapper.className = `SimElement-field SimElement-field--${field.key}`;
      const label = document.createElement("label");
      label.className = "SimElement-label";
      label.htmlFor = id;
      label.textContent = field.label;
      const input = document.createElement("input");
      input.className = "SimElement-input";
      Object.assign(input, {
        id,
        name: field.name,
        type: "text",
        inputMode: "numeric",
        autocomplete: field.autocomplete,
        placeholder: field.placeholder,
        spellcheck: false,
      });
      input.setAttribute("autocorrect", "off");
      input.setAttribute("aria-invalid", "false");
      input.setAttribute("aria-required", "true");
      input.setAttribute("aria-describedby", "SimElement-error");
      input.addEventListener("input", (event) => onInput(field.key, event));
      input.addEventListener("blur", () => onBlur(field.key));
      input.addEventListener("focus", () => post({ type: "focus" }));
      // Enter submits the page's form, as in Stripe's Elements.
      input.addEventListener("keydown", (event) => {
        if (event.key === "Enter") {
          event.preventDefault();
          post({ type: "submit" });
        }
      });
      wrapper.append(label, input);
      fieldset.appendChild(wrapper);
      inputs[field.key] = input;
    }
    errorBox = document.createElement("div");
    errorBox.className = "SimElement-error";
    errorBox.id = "SimElement-error";
    errorBox.setAttribute("role", "alert");
    root.append(fieldset, errorBox);
    document.body.replaceChildren(root);
  }

  // -- the API (card data goes only here) ------------------------------------------------------

  function encode(value, prefix, out) {
    if (value === undefined || value === null) return out;
    if (typeof value === "object") {
      Object.keys(value).forEach((key) => encode(value[key], prefix ? `${prefix}[${key}]` : key, out));
    } else {
      out.append(prefix, String(value));
    }
    return out;
  }

  async function call(path, params) {
    try {
      const response = await fetch(`${API_BASE}${path}`, {
        method: "POST",
        headers: { Authorization: `Bearer ${KEY}`, "Content-Type": "application/x-www-form-urlencoded" },
        body: encode(params, "", new URLSearchParams()).toString(),
      });
      return await response.json();
    } catch (err) {
      return {
        error: { type: "api_connection_error", message: `Could not reach the Stripe simulator at ${API_BASE}.` },
      };
    }
  }

  // A bank debit is confirmed from here, as Stripe's frames do it: the account number goes
  // to the API as payment_method_data, with the customer's acceptance of the mandate shown
  // under the form, and never to the page.
  async function confirmDebit(billingDetails, confirm) {
    const checked = validate();
    if (checked.error) return { error: checked.error };
    const params = {
      client_secret: confirm.clientSecret,
      return_url: confirm.returnUrl,
      receipt_email: confirm.receiptEmail,
      mandate_data: { customer_acceptance: { type: "online", online: { infer_from_client: true } } },
    };
    if (checked.testPaymentMethod) {
      // A linked Test Institution account is one of Stripe's verified test PaymentMethods.
      params.payment_method = checked.testPaymentMethod;
    } else {
      const billing = { ...(billingDetails || {}), ...checked.billing };
      params.payment_method_data = { type: selected, [selected]: checked.details, billing_details: billing };
    }
    const result = await call(`/v1/payment_intents/${confirm.intent}/confirm`, params);
    return result.error ? { error: result.error } : { paymentIntent: result };
  }

  async function createPaymentMethod(billingDetails, confirm) {
    if (selected !== "card") return confirmDebit(billingDetails, confirm);
    const checked = validate();
    if (checked.error) return { error: checked.error };
    const data = { type: "card", card: checked.card, billing_details: billingDetails };
    const body = encode(data, "", new URLSearchParams());
    try {
      const response = await fetch(`${API_BASE}/v1/payment_methods`, {
        method: "POST",
        headers: { Authorization: `Bearer ${KEY}`, "Content-Type": "application/x-www-form-urlencoded" },
        body: body.toString(),
      });
      const created = await response.json();
      return created.error ? { error: created.error } : { paymentMethod: { id: created.id } };
    } catch (err) {
      return {
        error: { type: "api_connection_error", message: `Could not reach the Stripe simulator at ${API_BASE}.` },
      };
    }
  }

  // -- messages from the parent ----------------------------------------------------------------

  async function answer(message) {
    if (message.type === "validate") {
      const result = validate();
      return result.error ? { error: result.error } : {};
    }
    if (message.type === "createPaymentMethod") return createPaymentMethod(message.billingDetails, message.confirm);
    if (message.type === "configure") configure(message.methods, message.business, message.setupFutureUsage);
    if (message.type === "focus") {
      const form = bankForms[selected];
      (form ? Object.values(form.inputs).find((input) => !input.hidden && input.type !== "radio") : inputs.number).focus();
    }
    if (message.type === "blur" && document.activeElement) document.activeElement.blur();
    if (message.type === "clear") {
      Object.values(inputs).forEach((input) => (input.value = ""));
      Object.values(bankForms).forEach((form) => Object.values(form.inputs).forEach((input) => input.tagName !== "SELECT" && (input.value = "")));
      Object.keys(errors).forEach((key) => (errors[key] = null));
      render();
      changed();
    }
    return {};
  }

  window.addEventListener("message", async (event) => {
    if (event.origin !== PARENT_ORIGIN || event.source !== window.parent) return;
    const message = event.data || {};
    if (message.channel !== CHANNEL || message.source !== "stripe-sim-js") return;
    const result = await answer(message);
    if (message.id) post({ type: "response", id: message.id, result });
  });

  build();
  const resized = () => post({ type: "resize", height: Math.ceil(document.documentElement.getBoundingClientRect().height) });
  new ResizeObserver(resized).observe(document.body);
  post({ type: "ready" });
  resized();
})();
