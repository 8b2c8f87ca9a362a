/*
 * Stripe.js stand-in served by the Stripe simulator (stripe_sim) at /v3/.
 *
 * It implements the part of Stripe.js v3 a Payment Element checkout uses: Stripe(),
 * stripe.elements(), elements.create('payment'), element.mount(), elements.submit(),
 * elements.fetchUpdates(), stripe.confirmPayment(), stripe.retrievePaymentIntent() and
 * stripe.handleNextAction().
 *
 * As with Stripe's, the card fields live in a cross-origin iframe: the simulator serves them
 * from its "frame origin", the other loopback name on the same port (127.0.0.1 <-> localhost),
 * so the host page's Content-Security-Policy must allow that origin in frame-src, this script's
 * origin in script-src and the API in connect-src. The page and the frame talk only by
 * postMessage, each checking the other's origin. The page never sees the card number: the
 * frame creates the PaymentMethod and hands back its id.
 *
 * Errors follow Stripe.js: integration mistakes throw (or reject with) an IntegrationError;
 * card, validation and API errors resolve as {error}; an element that cannot load emits
 * 'loaderror'. The DOM is built with DOM APIs only, no eval, no inline styles.
 */
(function () {
  "use strict";

  // document.currentScript only exists while this file first runs; the API lives wherever the
  // script was loaded from, so the simulator can sit on any port.
  const script = document.currentScript;
  const API_BASE = script && script.src ? new URL(script.src).origin : window.location.origin;
  const FRAME_ORIGIN = twinOrigin(API_BASE);
  const FRAME_URL = `${FRAME_ORIGIN}/v3/elements-inner-payment.html`;
  const LOAD_TIMEOUT_MS = 15000;
  const FRAME_READY_GRACE_MS = 2000;
  let nextId = 0;

  function twinOrigin(origin) {
    const url = new URL(origin);
    url.hostname = url.hostname === "localhost" ? "127.0.0.1" : "localhost";
    return url.origin;
  }

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

  function intentId(clientSecret, caller) {
    const match = /^(pi_[A-Za-z0-9]+)_secret_[A-Za-z0-9]+$/.exec(clientSecret || "");
    if (!match) {
      throw new IntegrationError(
        `Invalid value for ${caller}: clientSecret should be a client secret of the form ` +
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

  // -- the Payment Element (the host page's side of the frame) --------------------------------

  class PaymentElement {
    constructor(group, options) {
      this._group = group;
      this._options = options || {};
      this._handlers = {};
      this._frame = null;
      this._channel = `sim${++nextId}${Math.random().toString(36).slice(2)}`;
      this._pending = new Map();
      this._frameReady = false;
      this._failed = false;
      this._onMessage = this._onMessage.bind(this);
      this._onViolation = this._onViolation.bind(this);
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
      (this._handlers[event] || []).forEach((handler) => handler({ elementType: "payment", ...payload }));
    }

    mount(target) {
      const host = typeof target === "string" ? document.querySelector(target) : target;
      if (!host) {
        throw new IntegrationError(
          `The selector you specified (${target}) applies to no DOM elements that are currently on the page.\n` +
            "Make sure the element exists on the page before calling mount()."
        );
      }
      if (!this._frame) this._frame = this._buildFrame();
      window.addEventListener("message", this._onMessage);
      document.addEventListener("securitypolicyviolation", this._onViolation);
      const wrapper = document.createElement("div");
      wrapper.className = "__PrivateStripeElement";
      wrapper.appendChild(this._frame);
      host.replaceChildren(wrapper);
      this._timer = window.setTimeout(() => {
        if (!this._frameReady) this._loadFailed("The payment form did not load in time.");
      }, LOAD_TIMEOUT_MS);
      return this;
    }

    _buildFrame() {
      const frame = document.createElement("iframe");
      const hash = new URLSearchParams({
        channel: this._channel,
        origin: window.location.origin,
        key: this._group._stripe._key,
        apiBase: API_BASE,
      });
      frame.name = `__privateStripeFrame${this._channel}`;
      frame.title = "Secure payment input frame";
      frame.setAttribute("frameborder", "0");
      frame.setAttribute("allowtransparency", "true");
      frame.setAttribute("scrolling", "no");
      frame.allow = "payment *";
      frame.src = `${FRAME_URL}#${hash}`;
      // A frame whose document loaded but never said "ready" (an error page, a 503) failed.
      frame.addEventListener("load", () => {
        window.setTimeout(() => {
          if (!this._frameReady && this._frame === frame) this._loadFailed("The payment form did not load.");
        }, FRAME_READY_GRACE_MS);
      });
      Object.assign(frame.style, {
        border: "none",
        margin: "0",
        padding: "0",
        width: "1px",
        minWidth: "100%",
        overflow: "hidden",
        display: "block",
        height: "14rem",
      });
      return frame;
    }

    _onViolation(event) {
      const blocked = event.blockedURI || "";
      if (!this._frameReady && (blocked === FRAME_ORIGIN || blocked.startsWith(`${FRAME_ORIGIN}/`))) {
        this._loadFailed(
          `The Payment Element's frame (${FRAME_ORIGIN}) was blocked by the page's ` +
            `Content-Security-Policy (${event.effectiveDirective}).`
        );
      }
    }

    _loadFailed(message, error) {
      if (this._failed) return;
      this._failed = true;
      window.clearTimeout(this._timer);
      this._emit("loaderror", { error: error || { type: "invalid_request_error", message } });
    }

    _onMessage(event) {
      if (event.origin !== FRAME_ORIGIN || !this._frame || event.source !== this._frame.contentWindow) return;
      const message = event.data || {};
      if (message.channel !== this._channel || message.source !== "stripe-sim-frame") return;
      if (message.type === "ready") {
        this._frameReady = true;
        window.clearTimeout(this._timer);
        this._group._ready.then(async () => {
          if (this._group._loadError) {
            this._loadFailed(this._group._loadError.message, this._group._loadError);
            return;
          }
          // A tab per method the PaymentIntent offers, as Stripe's Payment Element draws them.
          const pi = this._group._paymentIntent;
          const business = ((this._options || {}).business || {}).name;
          if (pi) {
            const setupFutureUsage = pi.setup_future_usage;
            await this._ask("configure", { methods: pi.payment_method_types, business, setupFutureUsage });
          }
          this._emit("ready", {});
        });
      } else if (message.type === "resize" && message.height > 0) {
        this._frame.style.height = `${message.height}px`;
      } else if (message.type === "change") {
        const value = message.value || { type: "card" };
        this._emit("change", { empty: message.empty, complete: message.complete, collapsed: false, value });
      } else if (message.type === "submit") {
        const form = this._frame.closest("form");
        if (form) form.requestSubmit();
      } else if (message.type === "focus" || message.type === "blur") {
        this._emit(message.type, {});
      } else if (message.type === "response" && this._pending.has(message.id)) {
        this._pending.get(message.id)(message.result || {});
        this._pending.delete(message.id);
      }
    }

    _ask(type, payload) {
      if (!this._frame || !this._frameReady || !this._frame.isConnected) {
        return Promise.reject(
          new IntegrationError("elements should have a mounted Payment Element or Express Checkout Element.")
        );
      }
      const id = `${this._channel}-${++nextId}`;
      return new Promise((resolve) => {
        this._pending.set(id, resolve);
        this._frame.contentWindow.postMessage(
          { ...payload, type, id, channel: this._channel, source: "stripe-sim-js" },
          FRAME_ORIGIN
        );
      });
    }

    unmount() {
      if (this._frame && this._frame.parentNode) this._frame.parentNode.remove();
      window.removeEventListener("message", this._onMessage);
      document.removeEventListener("securitypolicyviolation", this._onViolation);
      this._frameReady = false;
      return this;
    }

    destroy() {
      this.unmount();
      this._frame = null;
      this._handlers = {};
      this._group._remove(this);
    }

    focus() {
      if (this._frameReady) this._ask("focus", {});
    }

    blur() {
      if (this._frameReady) this._ask("blur", {});
    }

    clear() {
      if (this._frameReady) this._ask("clear", {});
    }

    update() {
      return this;
    }
  }

  // -- Elements group --------------------------------------------------------------------------

  class Elements {
    constructor(stripe, options) {
      this._stripe = stripe;
      this._options = options || {};
      this._clientSecret = this._options.clientSecret || null;
      if (this._clientSecret) intentId(this._clientSecret, "stripe.elements()");
      this._elements = [];
      this._paymentIntent = null;
      this._loadError = null;
      this._ready = this._clientSecret ? this.fetchUpdates() : Promise.resolve({});
    }

    create(type, options) {
      if (type !== "payment") {
        throw new IntegrationError(`The Stripe simulator only implements the 'payment' Element, not '${type}'.`);
      }
      if (!this._clientSecret && !this._options.mode) {
        throw new IntegrationError(
          "In order to create a payment element, you must pass a clientSecret or mode when creating the Elements group.\n\n" +
            'e.g. stripe.elements({clientSecret: "{{CLIENT_SECRET}}"})'
        );
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
      const result = await element._ask("validate", {});
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
      throw new IntegrationError("You should not use your secret key with Stripe.js.\nPlease pass a publishable key instead.");
    }
    const key = publishableKey;

    const stripe = {
      _key: key,
      _apiBase: API_BASE,
      _options: options || {},

      elements(elementsOptions) {
        return new Elements(stripe, elementsOptions);
      },

      async retrievePaymentIntent(clientSecret) {
        const id = intentId(clientSecret, "stripe.retrievePaymentIntent");
        const res = await request(key, "GET", `/v1/payment_intents/${id}`, { client_secret: clientSecret });
        return res.body.error ? { error: res.body.error } : { paymentIntent: res.body };
      },

      async confirmPayment(params) {
        const opts = params || {};
        const elements = opts.elements;
        const confirmParams = opts.confirmParams || {};
        const redirect = opts.redirect || "always";
        if (!elements && !opts.clientSecret) {
          throw new IntegrationError("stripe.confirmPayment(): expected either `elements` or `clientSecret`, but got neither.");
        }
        if (!elements) {
          throw new IntegrationError("stripe.confirmPayment(): the simulator needs `elements` (a mounted Payment Element).");
        }
        if (redirect === "always" && !confirmParams.return_url) {
          throw new IntegrationError(
            "stripe.confirmPayment(): the `confirmParams.return_url` argument is required unless passing `redirect: 'if_required'`"
          );
        }
        const clientSecret = opts.clientSecret || elements._clientSecret;
        if (!clientSecret) {
          throw new IntegrationError("You must pass in a clientSecret when calling stripe.confirmPayment().");
        }
        const id = intentId(clientSecret, "stripe.confirmPayment()");
        const element = elements.getElement("payment");
        if (!element) {
          throw new IntegrationError("elements should have a mounted Payment Element or Express Checkout Element.");
        }
        const pmData = confirmParams.payment_method_data || {};
        const created = await element._ask("createPaymentMethod", {
          billingDetails: pmData.billing_details,
          // A bank debit is confirmed by the frame itself (the account number stays there).
          confirm: { intent: id, clientSecret, returnUrl: confirmParams.return_url, receiptEmail: confirmParams.receipt_email },
        });
        if (created.error) return { error: created.error };
        if (created.paymentIntent) return afterConfirm(created.paymentIntent, confirmParams.return_url, redirect);

        const confirmed = await request(key, "POST", `/v1/payment_intents/${id}/confirm`, {
          client_secret: clientSecret,
          payment_method: created.paymentMethod.id,
          return_url: confirmParams.return_url,
          receipt_email: confirmParams.receipt_email,
        });
        if (confirmed.body.error) return { error: confirmed.body.error };
        return afterConfirm(confirmed.body, confirmParams.return_url, redirect);
      },

      async verifyMicrodepositsForPayment(clientSecret, data) {
        const id = intentId(clientSecret, "stripe.verifyMicrodepositsForPayment");
        const res = await request(key, "POST", `/v1/payment_intents/${id}/verify_microdeposits`, {
          client_secret: clientSecret,
          ...(data || {}),
        });
        return res.body.error ? { error: res.body.error } : { paymentIntent: res.body };
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
    const microdeposits = pi.next_action && pi.next_action.type === "verify_with_microdeposits";
    if (pi.status === "requires_action" && pi.next_action && !microdeposits) {
      const action = pi.next_action;
      const url = action.type === "redirect_to_url" ? action.redirect_to_url.url : action.use_stripe_sdk.stripe_js;
      return navigate(url);
    }
    // Microdeposits take days: the customer comes back by the hosted verification link.
    if (["succeeded", "processing", "requires_capture"].includes(pi.status) || microdeposits) {
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
  Stripe.simulator = { apiBase: API_BASE, frameOrigin: FRAME_ORIGIN };
  window.Stripe = Stripe;
})();
