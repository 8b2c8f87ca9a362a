// Mounts Stripe's Payment Element in the payment partial after htmx swaps it in,
// and confirms the payment. No inline scripts: everything comes from data-*.
(function () {
  "use strict";

  function mount(form) {
    if (form.dataset.mounted) return;
    form.dataset.mounted = "true";
    const message = form.querySelector("[data-payment-message]");
    const button = form.querySelector("[data-pay-submit]");
    const show = function (text) {
      message.textContent = text;
      button.disabled = false;
    };
    if (typeof window.Stripe !== "function") {
      show("Card payments are unavailable right now. Please try again later.");
      button.disabled = true;
      return;
    }
    const stripe = window.Stripe(form.dataset.publishableKey);
    const elements = stripe.elements({ clientSecret: form.dataset.clientSecret });
    const paymentElement = elements.create("payment");
    paymentElement.mount(form.querySelector("[data-payment-element]"));

    form.addEventListener("submit", async function (event) {
      event.preventDefault();
      if (button.disabled) return;
      button.disabled = true;
      message.textContent = "";
      const due = await amountStillDue(form);
      if (due === null) {
        show("We could not reach the server. Nothing was charged; please try again.");
        return;
      }
      if (!due) return; // a fresh form at the new amount has replaced this one
      const submitted = await elements.submit();
      if (submitted.error) {
        show(submitted.error.message);
        return;
      }
      // Redirects to return_url on success; resolves only with an error.
      const result = await stripe.confirmPayment({
        elements: elements,
        confirmParams: { return_url: form.dataset.returnUrl },
      });
      if (result.error) show(result.error.message);
    });
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
    holder.querySelectorAll("[data-payment-form]").forEach(mount);
    return false;
  }

  document.addEventListener("htmx:load", function (event) {
    const root = event.detail.elt;
    if (root.matches && root.matches("[data-payment-form]")) mount(root);
    if (root.querySelectorAll) root.querySelectorAll("[data-payment-form]").forEach(mount);
  });
})();
