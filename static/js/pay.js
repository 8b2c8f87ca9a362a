// The pay page's card payment: loads Stripe.js without holding up the page, mounts the
// Payment Element in the payment partial after htmx swaps it in, and confirms the payment.
// No inline scripts: everything comes from data-* attributes.
//
// It never fails silently: a Stripe.js that does not load, an element that cannot load, an
// exception from Stripe.js and a failed htmx request each show a plain sentence with a way to
// try again. Stripe's own wording is shown only for card and validation errors, which are
// written for customers; every other error gets ours.
(function () {
  "use strict";

  const STRIPE_JS_URL = document.currentScript ? document.currentScript.dataset.stripeJs : "";
  const LOAD_TIMEOUT_MS = 20000;

  // English defaults; the page passes the customer's language as JSON (#pay-sentences).
  const SENTENCES = {
    tryAgain: "Try again",
    loading: "Loading the card form…",
    unavailable: "Card payments could not be loaded. Check your connection and try again.",
    notStarted: "We could not start the card payment. Nothing was charged. Please reload the page and try again.",
    unreachable: "We could not reach the payment service. Nothing was charged. Check your connection and try again.",
    noLongerPayable: "This payment can no longer be completed here. Please reload the page to see the invoice as it is now.",
    failed: "The payment did not go through and nothing was charged. Please try again.",
    server: "Something went wrong on our side. Nothing was charged. Please try again.",
    offline: "We could not reach the server. Check your connection and try again.",
  };
  const given = document.getElementById("pay-sentences");
  if (given) {
    try {
      Object.assign(SENTENCES, JSON.parse(given.textContent));
    } catch (err) { /* keep the English ones */ }
  }

  // Set when the customer presses "Pay": the card form takes the focus once it is ready,
  // so a keyboard user is not left on <body> (the button they pressed is gone).
  let focusCardForm = false;

  function focusMessage(element) {
    if (!element) return;
    if (!element.hasAttribute("tabindex")) element.setAttribute("tabindex", "-1");
    element.focus();
  }

  // -- Stripe.js, loaded in the background ------------------------------------------------------

  let loading = null;

  function loadStripe() {
    if (typeof window.Stripe === "function") return Promise.resolve(window.Stripe);
    if (loading) return loading;
    const tag = document.createElement("script");
    tag.src = STRIPE_JS_URL;
    tag.async = true;
    loading = new Promise(function (resolve, reject) {
      const timer = window.setTimeout(function () { reject(new Error("Stripe.js timed out")); }, LOAD_TIMEOUT_MS);
      tag.addEventListener("load", function () {
        window.clearTimeout(timer);
        if (typeof window.Stripe === "function") resolve(window.Stripe);
        else reject(new Error("Stripe.js loaded without Stripe()"));
      });
      tag.addEventListener("error", function () {
        window.clearTimeout(timer);
        reject(new Error("Stripe.js did not load"));
      });
    });
    // A failed load may be tried again: forget it and its tag.
    loading.catch(function () {
      loading = null;
      tag.remove();
    });
    document.head.appendChild(tag);
    return loading;
  }

  // -- messages -------------------------------------------------------------------------------

  function sentenceFor(error) {
    if (!error) return SENTENCES.failed;
    if ((error.type === "card_error" || error.type === "validation_error") && error.message) {
      return error.message;
    }
    if (error.type === "api_connection_error") return SENTENCES.unreachable;
    if (error.code === "payment_intent_unexpected_state" || error.code === "resource_missing") {
      return SENTENCES.noLongerPayable;
    }
    return SENTENCES.failed;
  }

  function retryButton(label, action) {
    const button = document.createElement("button");
    button.type = "button";
    button.className = "button";
    button.dataset.payRetry = "";
    button.textContent = label;
    button.addEventListener("click", action);
    return button;
  }

  // -- the card form ----------------------------------------------------------------------------

  function setUp(form) {
    if (form.dataset.mounted) return;
    form.dataset.mounted = "true";
    const message = form.querySelector("[data-payment-message]");
    const button = form.querySelector("[data-pay-submit]");
    const host = form.querySelector("[data-payment-element]");
    const show = function (text, retry) {
      message.replaceChildren(document.createTextNode(text));
      if (retry) message.append(" ", retryButton(SENTENCES.tryAgain, retry));
      focusMessage(message);
    };
    button.disabled = true;

    if (!form.dataset.clientSecret || !form.dataset.publishableKey) {
      // The server always renders one; never hand Stripe.js an empty secret.
      show(SENTENCES.notStarted);
      return;
    }

    let stripe = null;
    let elements = null;

    function mount() {
      message.textContent = "";
      host.textContent = SENTENCES.loading;
      loadStripe().then(function (StripeJs) {
        try {
          stripe = StripeJs(form.dataset.publishableKey);
          // Stripe words the card fields and its errors in the customer's language.
          elements = stripe.elements({
            clientSecret: form.dataset.clientSecret,
            locale: form.dataset.locale || "auto",
          });
          // Stripe names the business in the consent and mandate wording it shows.
          const options = form.dataset.businessName ? { business: { name: form.dataset.businessName } } : {};
          const element = elements.create("payment", options);
          element.on("ready", function () {
            button.disabled = false;
            if (focusCardForm) {
              focusCardForm = false;
              element.focus();
            }
          });
          element.on("loaderror", function () {
            button.disabled = true;
            show(SENTENCES.unavailable, function () {
              element.destroy();
              mount();
            });
          });
          element.mount(host);
        } catch (err) {
          host.textContent = "";
          show(SENTENCES.notStarted);
        }
      }, function () {
        host.textContent = "";
        show(SENTENCES.unavailable, mount);
      });
    }

    form.addEventListener("submit", async function (event) {
      event.preventDefault();
      if (button.disabled || !elements) return;
      button.disabled = true;
      message.textContent = "";
      try {
        const due = await amountStillDue(form);
        if (due === null) {
          show(SENTENCES.offline);
          return;
        }
        if (!due) return; // a fresh form at the new amount has replaced this one
        // The server may have changed the intent (saving the method or not): let Stripe.js know.
        if (form.querySelector("[data-save-method]") && elements.fetchUpdates) {
          const fetched = await elements.fetchUpdates();
          if (fetched && fetched.error) {
            show(sentenceFor(fetched.error));
            return;
          }
        }
        const submitted = await elements.submit();
        if (submitted.error) {
          show(sentenceFor(submitted.error));
          return;
        }
        // Redirects to return_url on success; resolves only with an error.
        const result = await stripe.confirmPayment({
          elements: elements,
          confirmParams: { return_url: form.dataset.returnUrl },
        });
        if (result && result.error) show(sentenceFor(result.error));
      } catch (err) {
        show(SENTENCES.failed);
      } finally {
        button.disabled = false;
      }
    });

    mount();
  }

  // The server re-checks that the form still shows the amount due (staff may have
  // recorded money meanwhile). true: go on; false: a fresh form replaced this one;
  // null: the check could not be made.
  async function amountStillDue(form) {
    const headers = JSON.parse(document.body.getAttribute("hx-headers") || "{}");
    const body = new URLSearchParams({
      payment_intent: form.dataset.paymentIntent,
      amount: form.dataset.amount,
    });
    const save = form.querySelector("[data-save-method]");
    if (save) body.set("save_method", save.checked ? "1" : "0");
    let response;
    try {
      response = await fetch(form.dataset.checkUrl, {
        method: "POST",
        headers: headers,
        body: body,
        credentials: "same-origin",
      });
    } catch (error) {
      return null;
    }
    if (response.status === 204) return true;
    if (response.status !== 409) return null;
    const holder = form.parentElement;
    holder.innerHTML = await response.text();
    if (window.htmx) window.htmx.process(holder);
    holder.querySelectorAll("[data-payment-form]").forEach(setUp);
    focusMessage(holder.querySelector(".notice"));
    return false;
  }

  // -- htmx requests on the pay page ------------------------------------------------------------

  function requestFailed(event, sentence) {
    const elt = event.detail.elt;
    const box = elt && elt.closest ? elt.closest(".pay-box") : null;
    if (!box) return;
    let notice = box.querySelector("[data-pay-problem]");
    if (!notice) {
      notice = document.createElement("div");
      notice.className = "notice notice-bad";
      notice.setAttribute("role", "alert");
      notice.dataset.payProblem = "";
      const target = box.querySelector("#pay-action") || elt;
      target.before(notice);
    }
    focusCardForm = false;
    notice.replaceChildren(
      document.createTextNode(sentence + " "),
      retryButton(SENTENCES.tryAgain, function () {
        notice.remove();
        if (elt.isConnected) htmx.trigger(elt, "click");
      })
    );
  }

  document.addEventListener("htmx:responseError", function (event) {
    requestFailed(event, SENTENCES.server);
  });
  document.addEventListener("htmx:sendError", function (event) {
    requestFailed(event, SENTENCES.offline);
  });
  document.addEventListener("htmx:beforeRequest", function (event) {
    const elt = event.detail.elt;
    if (elt && elt.classList && elt.classList.contains("pay-button")) focusCardForm = true;
    const box = event.detail.elt && event.detail.elt.closest ? event.detail.elt.closest(".pay-box") : null;
    const notice = box && box.querySelector("[data-pay-problem]");
    if (notice) notice.remove();
  });

  document.addEventListener("htmx:load", function (event) {
    const root = event.detail.elt;
    if (root.matches && root.matches("[data-payment-form]")) setUp(root);
    if (root.querySelectorAll) root.querySelectorAll("[data-payment-form]").forEach(setUp);
  });

  // The card form (or the reason there is none) arrived after "Pay": hold the focus there
  // while Stripe.js loads, instead of letting it fall to <body>.
  document.addEventListener("htmx:afterSwap", function (event) {
    const target = event.detail.target;
    if (!target || target.id !== "pay-action" || !focusCardForm) return;
    const problem = target.querySelector(".notice[role=alert]");
    if (problem) {
      focusCardForm = false;
      focusMessage(problem);
    } else {
      focusMessage(target.querySelector("[data-payment-element]"));
    }
  });

  // Start fetching Stripe.js now (in the background): the card form then opens at once.
  if (document.querySelector("[data-pay-page]") || document.querySelector("#pay-action")) {
    loadStripe().catch(function () {});
  }
})();
