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
