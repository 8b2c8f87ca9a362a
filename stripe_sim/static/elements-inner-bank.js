/*
 * The bank forms of the Stripe simulator's Payment Element (US bank account, SEPA Direct
 * Debit), with the mandate text Stripe shows under them. Loaded by elements-inner.html before
 * elements-inner.js, which puts them behind a tab each when the PaymentIntent offers them.
 */
(function () {
  "use strict";

  const TEST_BANK_ACCOUNTS = [
    ["pm_usBankAccount_success", "Success"],
    ["pm_usBankAccount_insufficientFunds", "Insufficient funds"],
    ["pm_usBankAccount_accountClosed", "Account closed"],
    ["pm_usBankAccount_noAccount", "No account found"],
    ["pm_usBankAccount_debitNotAuthorized", "Debit not authorized"],
  ];

  // Stripe's wording for the mandate each method asks the customer to accept.
  function mandateText(kind, business) {
    if (kind === "us_bank_account") {
      return (
        `By clicking Pay, you authorize ${business} to debit the bank account specified above for ` +
        `any amount owed for charges arising from your use of ${business}'s services and/or ` +
        `purchase of products from ${business}, pursuant to ${business}'s website and terms, until ` +
        `this authorization is revoked. You may amend or cancel this authorization at any time by ` +
        `providing notice to ${business} with 30 (thirty) days notice.`
      );
    }
    return (
      `By providing your payment information and confirming this payment, you authorise (A) ` +
      `${business} and Stripe, our payment service provider, to send instructions to your bank ` +
      `to debit your account and (B) your bank to debit your account in accordance with those ` +
      `instructions. As part of your rights, you are entitled to a refund from your bank under ` +
      `the terms and conditions of your agreement with your bank. A refund must be claimed ` +
      `within 8 weeks starting from the date on which your account was debited. Your rights are ` +
      `explained in a statement that you can obtain from your bank. You agree to receive ` +
      `notifications for future debits up to 2 days before they occur.`
    );
  }

  const FIELDS = {
    us_bank_account: [
      { key: "name", label: "Full name", autocomplete: "name", placeholder: "Jenny Rosen" },
      { key: "routing_number", label: "Routing number", inputMode: "numeric", placeholder: "110000000", manual: true },
      { key: "account_number", label: "Account number", inputMode: "numeric", placeholder: "000123456789", manual: true },
    ],
    sepa_debit: [
      { key: "name", label: "Full name", autocomplete: "name", placeholder: "Jenny Rosen" },
      { key: "email", label: "Email", autocomplete: "email", inputMode: "email", placeholder: "jenny@example.com" },
      { key: "iban", label: "IBAN", placeholder: "DE00 0000 0000 0000 0000 00" },
    ],
  };
  const MESSAGES = {
    name: "Your name is incomplete.",
    email: "Your email address is incomplete.",
    routing_number: "Your routing number is incomplete.",
    account_number: "Your account number is incomplete.",
    iban: "Your IBAN is incomplete.",
  };

  function input(kind, field) {
    const id = `SimElement-${kind}-${field.key}`;
    const wrapper = document.createElement("div");
    wrapper.className = `SimElement-field SimElement-field--${field.key}`;
    const label = document.createElement("label");
    label.className = "SimElement-label";
    label.htmlFor = id;
    label.textContent = field.label;
    const element = document.createElement("input");
    element.className = "SimElement-input";
    Object.assign(element, {
      id,
      name: field.key,
      type: field.key === "email" ? "email" : "text",
      inputMode: field.inputMode || "text",
      autocomplete: field.autocomplete || "off",
      placeholder: field.placeholder,
      spellcheck: false,
    });
    element.setAttribute("aria-invalid", "false");
    element.setAttribute("aria-required", "true");
    element.setAttribute("aria-describedby", "SimElement-error");
    wrapper.append(label, element);
    return { wrapper, element };
  }

  // A fieldset for `kind`; `hooks` wires its inputs like the card's (change, focus, Enter).
  function build(kind, business, hooks) {
    const fieldset = document.createElement("fieldset");
    fieldset.className = "SimElement-fieldset";
    fieldset.dataset.method = kind;
    const legend = document.createElement("legend");
    legend.className = "SimElement-legend";
    legend.textContent = kind === "us_bank_account" ? "US bank account" : "SEPA Direct Debit";
    fieldset.appendChild(legend);
    const inputs = {};
    let mode = null;
    if (kind === "us_bank_account") {
      // As Stripe's: link a test bank instantly, or type the numbers and verify by microdeposits.
      mode = document.createElement("div");
      mode.className = "SimElement-field SimElement-field--mode";
      mode.innerHTML =
        '<label class="SimElement-choice"><input type="radio" name="verification" value="manual" checked> Enter bank details manually (verified by microdeposits)</label>' +
        '<label class="SimElement-choice"><input type="radio" name="verification" value="instant"> Test Institution (instant verification)</label>';
      const select = document.createElement("select");
      select.className = "SimElement-input";
      select.id = "SimElement-us_bank_account-test_account";
      select.setAttribute("aria-label", "Test Institution account");
      select.hidden = true;
      for (const [value, text] of TEST_BANK_ACCOUNTS) select.add(new Option(text, value));
      mode.appendChild(select);
      inputs.test_account = select;
      fieldset.appendChild(mode);
    }
    for (const field of FIELDS[kind]) {
      const { wrapper, element } = input(kind, field);
      if (field.manual) wrapper.dataset.manual = "true";
      hooks(element);
      fieldset.appendChild(wrapper);
      inputs[field.key] = element;
    }
    if (mode) {
      mode.addEventListener("change", () => {
        const instant = instantChosen(fieldset);
        inputs.test_account.hidden = !instant;
        fieldset.querySelectorAll("[data-manual]").forEach((el) => (el.hidden = instant));
      });
    }
    const mandate = document.createElement("p");
    mandate.className = "SimElement-mandate";
    mandate.textContent = mandateText(kind, business);
    fieldset.appendChild(mandate);
    return { fieldset, inputs };
  }

  function instantChosen(fieldset) {
    const chosen = fieldset.querySelector('input[name="verification"]:checked');
    return Boolean(chosen && chosen.value === "instant");
  }

  // {error} for the first incomplete field, or what to create the PaymentMethod from.
  function validate(kind, form) {
    const value = (key) => (form.inputs[key] ? form.inputs[key].value.trim() : "");
    const instant = kind === "us_bank_account" && instantChosen(form.fieldset);
    const problems = {};
    for (const field of FIELDS[kind]) {
      if (field.manual && instant) continue;
      let bad = !value(field.key);
      if (field.key === "email") bad = !/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(value("email"));
      if (field.key === "routing_number") bad = !/^\d{9}$/.test(value(field.key));
      problems[field.key] = bad
        ? { type: "validation_error", code: `incomplete_${field.key}`, message: MESSAGES[field.key], param: field.key }
        : null;
    }
    const first = Object.values(problems).find(Boolean);
    if (first) return { error: first, problems };
    const billing = { name: value("name") };
    if (kind === "sepa_debit") billing.email = value("email");
    if (instant) return { testPaymentMethod: value("test_account"), billing, problems };
    const details =
      kind === "sepa_debit"
        ? { iban: value("iban").replace(/\s/g, "").toUpperCase() }
        : { routing_number: value("routing_number"), account_number: value("account_number").replace(/\s/g, ""), account_holder_type: "individual" };
    return { details, billing, problems };
  }

  window.SimBankForms = { build, validate, kinds: ["us_bank_account", "sepa_debit"] };
})();
