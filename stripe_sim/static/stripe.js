/*
 * Stripe.js stand-in served by the Stripe simulator (stripe_sim) at /v3/.
 *
 * It implements the part of Stripe.js v3 a Payment Element checkout uses: Stripe(),
 * stripe.elements(), elements.create('payment'), element.mount(), elements.submit(),
 * elements.fetchUpdates(), stripe.confirmPayment(), stripe.retrievePaymentIntent() and
 * stripe.handleNextAction().
 *
 * Unlike the real Stripe.js, the card fields are rendered straight into the host page (no
 * iframe) so browser tests can fill them. The DOM is built with DOM APIs only and styled with
 * classes plus element.style properties: no inline <style>, no style attributes, no eval, so
 * it runs under a strict Content-Security-Policy.
 */
(function () {
  "use strict";

  // document.currentScript only exists while this file first runs; the API lives wherever the
  // script was loaded from, so the simulator can sit on any port.
  const script = document.currentScript;
  const API_BASE = script && script.src ? new URL(script.src).origin : window.location.origin;
  let nextId = 0;

  class IntegrationError extends Error {
    constructor(message) {
      super(message);
      this.name = "IntegrationError";
    }
  }

  // -- HTTP -----------------------------------------------------------------------------------

  function encode(value, prefix, out) {
    if (value === undefined || value === null) return out;
    if (Array.isArray(value)) {
      value.forEach((item, i) => encode(item, `${prefix}[${i}]`, out));
    } else if (typeof value === "object") {
      Object.keys(value).forEach((key) => encode(value[key], prefix ? `${prefix}[${key}]` : key, out));
    } else {
      out.append(prefix, String(value));
    }
    return out;
  }

  async function request(key, method, path, params) {
    const body = encode(params || {}, "", new URLSearchParams());
    const url = API_BASE + path + (method === "GET" ? `?${body}` : "");
    const init = {
      method,
      headers: { Authorization: `Bearer ${key}` },
    };
    if (method !== "GET") {
      init.headers["Content-Type"] = "application/x-www-form-urlencoded";
      init.body = body.toString();
    }
    try {
      const response = await fetch(url, init);
      return { status: response.status, body: await response.json() };
    } catch (err) {
      return {
        status: 0,
        body: {
          error: {
            type: "api_connection_error",
            message: `Could not reach the Stripe simulator at ${API_BASE}: ${err.message}`,
          },
        },
      };
    }
  }

  function intentId(clientSecret) {
    const match = /^(pi_[A-Za-z0-9]+)_secret_[A-Za-z0-9]+$/.exec(clientSecret || "");
    if (!match) {
      throw new IntegrationError(
        "Invalid value for clientSecret: value should be a client secret of the form " +
          "${id}_secret_${secret}. You specified: " + clientSecret + "."
      );
    }
    return match[1];
  }

  function withQuery(url, params) {
    const target = new URL(url, window.location.href);
    Object.keys(params).forEach((key) => target.searchParams.set(key, params[key]));
    return target.toString();
  }

  // Resolves never: the page is going away, as with Stripe.js redirects.
  function navigate(url) {
    window.location.assign(url);
    return new Promise(() => {});
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

  class PaymentElement {
    constructor(group, options) {
      this._group = group;
      this._options = options || {};
      this._handlers = {};
      this._root = null;
      this._inputs = {};
      this._errors = {};
      this._uid = ++nextId;
    }

    on(event, handler) {
      (this._handlers[event] = this._handlers[event] || []).push(handler);
      return this;
    }

    off(event, handler) {
      const list = this._handlers[event] || [];
      this._handlers[event] = handler ? list.filter((h) => h !== handler) : [];
      return this;
    }

    _emit(event, payload) {
      (this._handlers[event] || []).forEach((handler) => handler(payload));
    }

    mount(target) {
      const host = typeof target === "string" ? document.querySelector(target) : target;
      if (!host) {
        throw new IntegrationError(`The selector you specified (${target}) applies to no DOM elements that are currently on the page.`);
      }
      if (!this._root) this._root = this._build();
      host.replaceChildren(this._root);
      this._group._ready.then(() => {
        if (this._group._loadError) this._emit("loaderror", { elementType: "payment", error: this._group._loadError });
        this._emit("ready", { elementType: "payment" });
      });
      return this;
    }

    unmount() {
      if (this._root && this._root.parentNode) this._root.parentNode.removeChild(this._root);
      return this;
    }

    destroy() {
      this.unmount();
      this._root = null;
      this._handlers = {};
      this._group._remove(this);
    }

    focus() {
      if (this._inputs.number) this._inputs.number.focus();
    }

    blur() {
      if (document.activeElement && this._root && this._root.contains(document.activeElement)) {
        document.activeElement.blur();
      }
    }

    clear() {
      Object.values(this._inputs).forEach((input) => (input.value = ""));
      this._errors = {};
      this._render();
      this._changed();
    }

    update() {
      return this;
    }

    _build() {
      const root = document.createElement("div");
      root.className = "SimElement";
      root.dataset.simElement = "payment";
      const fieldset = document.createElement("fieldset");
      fieldset.className = "SimElement-fieldset";
      Object.assign(fieldset.style, { border: "0", margin: "0", padding: "0", minWidth: "0" });
      const legend = document.createElement("legend");
      legend.className = "SimElement-legend";
      legend.textContent = "Card";
      fieldset.appendChild(legend);
      const errorId = `SimElement-error-${this._uid}`;
      for (const field of FIELDS) {
        const id = `SimElement-${field.key}-${this._uid}`;
        const wrapper = document.createElement("div");
        wrapper.className = `SimElement-field SimElement-field--${field.key}`;
        wrapper.style.marginBottom = "0.75rem";
        const label = document.createElement("label");
        label.className = "SimElement-label";
        label.htmlFor = id;
        label.textContent = field.label;
        label.style.display = "block";
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
        input.setAttribute("aria-describedby", errorId);
        Object.assign(input.style, { display: "block", width: "100%", boxSizing: "border-box" });
        input.addEventListener("input", (event) => this._onInput(field.key, event));
        input.addEventListener("blur", () => this._onBlur(field.key));
        input.addEventListener("focus", () => this._emit("focus", { elementType: "payment" }));
        wrapper.append(label, input);
        fieldset.appendChild(wrapper);
        this._inputs[field.key] = input;
      }
      const error = document.createElement("div");
      error.className = "SimElement-error";
      error.id = errorId;
      error.setAttribute("role", "alert");
      error.style.color = "#df1b41";
      root.append(fieldset, error);
      this._errorBox = error;
      return root;
    }

    _onInput(key, event) {
      const input = this._inputs[key];
      const deleting = (event.inputType || "").startsWith("delete");
      if (key === "number") input.value = formatNumber(input.value);
      if (key === "expiry") input.value = formatExpiry(input.value, deleting);
      if (key === "cvc") input.value = digits(input.value).slice(0, 4);
      if (this._errors[key]) {
        // Keep a shown error only while it is still wrong in a way typing more will not fix.
        const error = this._check(key);
        this._errors[key] = error && !error.code.startsWith("incomplete") ? error : null;
        this._render();
      }
      this._changed();
    }

    _onBlur(key) {
      if (this._inputs[key].value) {
        this._errors[key] = this._check(key);
        this._render();
      }
      this._emit("blur", { elementType: "payment" });
    }

    _check(key) {
      const values = this._values();
      if (key === "number") return checkNumber(values.number);
      if (key === "expiry") return checkExpiry(values.expiry);
      return checkCvc(values.cvc, values.number);
    }

    _values() {
      const read = (key) => (this._inputs[key] ? this._inputs[key].value : "");
      return { number: read("number"), expiry: read("expiry"), cvc: read("cvc") };
    }

    _render() {
      let shown = null;
      for (const field of FIELDS) {
        const error = this._errors[field.key];
        const input = this._inputs[field.key];
        input.setAttribute("aria-invalid", error ? "true" : "false");
        input.classList.toggle("SimElement-input--invalid", Boolean(error));
        if (error && !shown) shown = error;
      }
      this._errorBox.textContent = shown ? shown.message : "";
    }

    _changed() {
      const values = this._values();
      const empty = !values.number && !values.expiry && !values.cvc;
      const complete = FIELDS.every((field) => !this._check(field.key));
      this._emit("change", {
        elementType: "payment",
        empty,
        complete,
        collapsed: false,
        value: { type: "card" },
      });
    }

    // Checks every field, shows the first problem, and returns {error} or {card}.
    _validate() {
      if (!this._root) {
        return { error: validationError("incomplete", "The Payment Element is not mounted.", null) };
      }
      for (const field of FIELDS) this._errors[field.key] = this._check(field.key);
      this._render();
      const first = FIELDS.map((field) => this._errors[field.key]).find(Boolean);
      if (first) return { error: first };
      const values = this._values();
      const expiry = digits(values.expiry);
      return {
        card: {
          number: digits(values.number),
          exp_month: Number(expiry.slice(0, 2)),
          exp_year: 2000 + Number(expiry.slice(2, 4)),
          cvc: digits(values.cvc),
        },
      };
    }
  }

  // -- Elements group --------------------------------------------------------------------------

  class Elements {
    constructor(stripe, options) {
      this._stripe = stripe;
      this._options = options || {};
      this._clientSecret = this._options.clientSecret || null;
      this._elements = [];
      this._paymentIntent = null;
      this._loadError = null;
      this._ready = this._clientSecret ? this.fetchUpdates() : Promise.resolve({});
    }

    create(type, options) {
      if (type !== "payment") {
        throw new IntegrationError(`The Stripe simulator only implements the 'payment' Element, not '${type}'.`);
      }
      if (this.getElement("payment")) {
        throw new IntegrationError("Can only create one Element of type payment.");
      }
      const element = new PaymentElement(this, options);
      this._elements.push(element);
      return element;
    }

    getElement(type) {
      return type === "payment" && this._elements.length ? this._elements[0] : null;
    }

    update(options) {
      Object.assign(this._options, options || {});
    }

    async submit() {
      const element = this.getElement("payment");
      if (!element) {
        throw new IntegrationError("elements.submit(): no Payment Element has been created.");
      }
      const result = element._validate();
      return result.error ? { error: result.error } : {};
    }

    async fetchUpdates() {
      if (!this._clientSecret) return {};
      const result = await this._stripe.retrievePaymentIntent(this._clientSecret);
      if (result.error) {
        this._loadError = result.error;
        return { error: result.error };
      }
      this._loadError = null;
      this._paymentIntent = result.paymentIntent;
      return {};
    }

    _remove(element) {
      this._elements = this._elements.filter((item) => item !== element);
    }
  }

  // -- Stripe ----------------------------------------------------------------------------------

  function Stripe(publishableKey, options) {
    if (!publishableKey) {
      throw new IntegrationError("Please call Stripe() with your publishable key. You used an empty string.");
    }
    if (/^sk_/.test(publishableKey)) {
      throw new IntegrationError("You should not use your secret key with Stripe.js. Please pass a publishable key instead.");
    }
    const key = publishableKey;

    const stripe = {
      _apiBase: API_BASE,
      _options: options || {},

      elements(elementsOptions) {
        return new Elements(stripe, elementsOptions);
      },

      async retrievePaymentIntent(clientSecret) {
        const id = intentId(clientSecret);
        const res = await request(key, "GET", `/v1/payment_intents/${id}`, { client_secret: clientSecret });
        return res.body.error ? { error: res.body.error } : { paymentIntent: res.body };
      },

      async confirmPayment(params) {
        const opts = params || {};
        const elements = opts.elements;
        const confirmParams = opts.confirmParams || {};
        const redirect = opts.redirect || "always";
        if (!elements) throw new IntegrationError("stripe.confirmPayment(): the `elements` argument is required.");
        if (redirect === "always" && !confirmParams.return_url) {
          throw new IntegrationError(
            "stripe.confirmPayment(): the `confirmParams.return_url` argument is required unless passing `redirect: 'if_required'`"
          );
        }
        const clientSecret = opts.clientSecret || elements._clientSecret;
        const id = intentId(clientSecret);
        const element = elements.getElement("payment");
        if (!element) throw new IntegrationError("stripe.confirmPayment(): no Payment Element was created from these elements.");
        const checked = element._validate();
        if (checked.error) return { error: checked.error };

        const pmData = confirmParams.payment_method_data || {};
        const created = await request(key, "POST", "/v1/payment_methods", {
          type: "card",
          card: checked.card,
          billing_details: pmData.billing_details,
        });
        if (created.body.error) return { error: created.body.error };

        const confirmed = await request(key, "POST", `/v1/payment_intents/${id}/confirm`, {
          client_secret: clientSecret,
          payment_method: created.body.id,
          return_url: confirmParams.return_url,
          receipt_email: confirmParams.receipt_email,
        });
        if (confirmed.body.error) return { error: confirmed.body.error };
        return afterConfirm(confirmed.body, confirmParams.return_url, redirect);
      },

      async handleNextAction(params) {
        const result = await stripe.retrievePaymentIntent((params || {}).clientSecret);
        if (result.error) return result;
        return afterConfirm(result.paymentIntent, null, "if_required");
      },
    };
    return stripe;
  }

  function afterConfirm(pi, returnUrl, redirect) {
    if (pi.status === "requires_action" && pi.next_action) {
      const action = pi.next_action;
      const url = action.type === "redirect_to_url" ? action.redirect_to_url.url : action.use_stripe_sdk.stripe_js;
      return navigate(url);
    }
    if (["succeeded", "processing", "requires_capture"].includes(pi.status)) {
      if (redirect === "if_required" || !returnUrl) return { paymentIntent: pi };
      return navigate(
        withQuery(returnUrl, {
          payment_intent: pi.id,
          payment_intent_client_secret: pi.client_secret,
          redirect_status: pi.status === "succeeded" ? "succeeded" : "processing",
        })
      );
    }
    if (pi.last_payment_error) return { error: { ...pi.last_payment_error, payment_intent: pi } };
    return { paymentIntent: pi };
  }

  Stripe.version = 3;
  Stripe.simulator = { apiBase: API_BASE };
  window.Stripe = Stripe;
})();
