// The invoice list: "select all on this page" (without JavaScript, the
// "All on this page" button does the same on the server).
function syncSelectAll() {
  const all = document.getElementById("select-all");
  if (!all) return;
  all.hidden = false;
  const boxes = [...document.querySelectorAll("#invoice-rows .row-select")];
  all.checked = boxes.length > 0 && boxes.every((box) => box.checked);
  all.indeterminate = !all.checked && boxes.some((box) => box.checked);
}

document.addEventListener("change", (event) => {
  if (event.target.id === "select-all") {
    for (const box of document.querySelectorAll("#invoice-rows .row-select")) {
      box.checked = event.target.checked;
    }
  } else if (event.target.classList.contains("row-select")) {
    syncSelectAll();
  }
});

document.addEventListener("DOMContentLoaded", syncSelectAll);
document.addEventListener("htmx:afterSettle", syncSelectAll);
