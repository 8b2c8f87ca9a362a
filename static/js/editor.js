// Staff pages: the copy-to-clipboard buttons (no inline script: the CSP forbids it).
document.addEventListener("click", async (event) => {
  const button = event.target.closest("[data-copy-target]");
  if (!button) return;
  const input = document.getElementById(button.dataset.copyTarget);
  if (!input) return;
  input.select();
  try {
    await navigator.clipboard.writeText(input.value);
  } catch {
    document.execCommand("copy");
  }
  const label = button.textContent;
  button.textContent = "Copied";
  setTimeout(() => { button.textContent = label; }, 1500);
});

// Forms that create or send something: one press, one request. The button is
// disabled after the submit event (so the browser still sends its value); the
// server's one-time form token is what really guarantees it.
document.addEventListener("submit", (event) => {
  const form = event.target;
  if (!form.matches("[data-disable-on-submit]")) return;
  setTimeout(() => {
    form.querySelectorAll("button[type=submit]").forEach((button) => { button.disabled = true; });
  });
});

// Back to a page the browser kept in memory: its buttons work again.
window.addEventListener("pageshow", (event) => {
  if (!event.persisted) return;
  document.querySelectorAll("[data-disable-on-submit] button[type=submit]").forEach((button) => {
    button.disabled = false;
  });
});

// The editor refuses a post whose rows did not arrive intact with a 400 and a
// plain sentence (htmx does not swap errors): show it where "All changes saved" was.
document.addEventListener("htmx:responseError", (event) => {
  const status = document.getElementById("editor-status");
  const xhr = event.detail.xhr;
  if (!status || !xhr || xhr.status !== 400) return;
  status.textContent = (xhr.responseText || "Not saved.").slice(0, 300);
  status.className = "editor-status form-error";
});

// Catalog suggestions under a line's description: the down arrow moves into the list,
// up and down move within it, Escape closes it and returns to the description.
document.addEventListener("keydown", (event) => {
  const field = event.target.closest("[data-suggest]");
  const item = event.target.closest("[data-suggestion]");
  if (!field && !item) return;
  const box = field
    ? document.getElementById(field.getAttribute("aria-controls"))
    : item.closest(".suggestions-box");
  const buttons = box ? [...box.querySelectorAll("[data-suggestion]")] : [];
  if (event.key === "Escape" && buttons.length) {
    box.replaceChildren();
    if (item) box.closest("td").querySelector("[data-suggest]").focus();
    event.preventDefault();
    return;
  }
  if (!buttons.length || (event.key !== "ArrowDown" && event.key !== "ArrowUp")) return;
  if (field && event.key === "ArrowDown") {
    buttons[0].focus();
  } else if (item) {
    const next = buttons.indexOf(item) + (event.key === "ArrowDown" ? 1 : -1);
    if (next < 0) box.closest("td").querySelector("[data-suggest]").focus();
    else buttons[Math.min(next, buttons.length - 1)].focus();
  } else {
    return;
  }
  event.preventDefault();
});

// A named tax rate decides the line's percentage: show it, and keep it from being typed over.
function syncTax(select) {
  const input = select.closest("td").querySelector("input[name$='-tax_rate']");
  const option = select.selectedOptions[0];
  if (!input || !option) return;
  if (option.dataset.percent !== undefined) input.value = option.dataset.percent;
  input.readOnly = option.dataset.percent !== undefined;
}
document.addEventListener("change", (event) => {
  if (event.target.matches("[data-tax-select]")) syncTax(event.target);
});
function syncAllTaxes(root) {
  root.querySelectorAll("[data-tax-select]").forEach(syncTax);
}
document.addEventListener("DOMContentLoaded", () => syncAllTaxes(document));
document.addEventListener("htmx:afterSettle", (event) => syncAllTaxes(event.detail.elt));

// "Undo" after removing a line stays for a few seconds (the next change removes it too).
let undoTimer;
document.addEventListener("htmx:afterSettle", () => {
  const undo = document.querySelector("[data-undo]");
  if (!undo) return;
  clearTimeout(undoTimer);
  undoTimer = setTimeout(() => {
    const region = document.getElementById("editor-undo");
    if (region) region.replaceChildren();
  }, 8000);
});
